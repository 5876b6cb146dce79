"""Checked result folders → report.md, compare.md, their HTML and their figures."""

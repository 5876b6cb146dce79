"""Samples and result folders → statistics.

Medians, CIs, regression, summary.csv and the comparison's table (pure functions).
"""

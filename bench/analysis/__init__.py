"""Samples and result folders → statistics: medians, CIs, regression, summary.csv and the comparison's table (pure functions)."""

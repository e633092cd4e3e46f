# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
"""Counts side by side with value_counts, a plain loop, a sorted list."""

import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp


def drifted_features(reference, recent, alpha=0.01):
    tests = len(NUMBERS) + len(CATEGORIES)
    found = []
    for column in NUMBERS:
        result = ks_2samp(reference[column].to_numpy(), recent[column].to_numpy())
        if result.pvalue < alpha / tests:
            found.append(column)
    for column in CATEGORIES:
        counts = pd.DataFrame({"before": reference[column].value_counts(), "now": recent[column].value_counts()})
        if chi2_contingency(counts.fillna(0).T.to_numpy()).pvalue < alpha / tests:
            found.append(column)
    return sorted(found)

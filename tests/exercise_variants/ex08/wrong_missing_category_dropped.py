# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
# fails with: case 'every penguin recorded as male': expected drifted [sex], found nothing
"""Compares only the values seen in both samples: a value that disappeared leaves one column, no test."""

import pandas as pd
from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    threshold = alpha / 6
    drifted = [name for name in NUMBERS if stats.ks_2samp(reference[name], recent[name]).pvalue < threshold]
    for name in CATEGORIES:
        table = pd.DataFrame({"a": reference[name].value_counts(), "b": recent[name].value_counts()}).dropna()
        if len(table) > 1 and stats.chi2_contingency(table.T).pvalue < threshold:
            drifted.append(name)
    return drifted

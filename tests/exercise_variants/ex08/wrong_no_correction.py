# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
# fails with: expected drifted nothing, found [bill_depth_mm]
"""Each test held to alpha itself: six tests at once, so a small change is called drift."""

import pandas as pd
from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    drifted = [name for name in NUMBERS if stats.ks_2samp(reference[name], recent[name]).pvalue < alpha]
    for name in CATEGORIES:
        table = pd.DataFrame({"a": reference[name].value_counts(), "b": recent[name].value_counts()}).fillna(0)
        if stats.chi2_contingency(table.T).pvalue < alpha:
            drifted.append(name)
    return drifted

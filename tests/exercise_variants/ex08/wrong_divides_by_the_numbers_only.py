# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
# fails with: expected drifted nothing, found [bill_depth_mm]
"""Six tests, but alpha divided by the four numeric ones: each test is held to too loose a bar."""

import pandas as pd
from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    threshold = alpha / len(NUMBERS)
    drifted = [name for name in NUMBERS if stats.ks_2samp(reference[name], recent[name]).pvalue < threshold]
    for name in CATEGORIES:
        table = pd.DataFrame({"a": reference[name].value_counts(), "b": recent[name].value_counts()}).fillna(0)
        if stats.chi2_contingency(table.T).pvalue < threshold:
            drifted.append(name)
    return drifted

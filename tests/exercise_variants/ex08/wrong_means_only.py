# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
# fails with: expected drifted [flipper_length_mm], found nothing
"""A t-test compares means: a change of spread around the same mean goes unseen."""

import pandas as pd
from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    threshold = alpha / 6
    drifted = [name for name in NUMBERS if stats.ttest_ind(reference[name], recent[name]).pvalue < threshold]
    for name in CATEGORIES:
        table = pd.DataFrame({"a": reference[name].value_counts(), "b": recent[name].value_counts()}).fillna(0)
        if stats.chi2_contingency(table.T).pvalue < threshold:
            drifted.append(name)
    return drifted

# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
# fails with: hold each to the alpha your function is given divided by the number of tests
"""The right correction, but of a fixed 0.01: the alpha the caller passes is ignored."""

import pandas as pd
from scipy import stats

THRESHOLD = 0.01 / 6


def drifted_features(reference, recent, alpha=0.01):
    drifted = [name for name in NUMBERS if stats.ks_2samp(reference[name], recent[name]).pvalue < THRESHOLD]
    for name in CATEGORIES:
        counts = pd.crosstab(
            pd.concat([reference[name], recent[name]], keys=["ref", "now"]).index.get_level_values(0),
            pd.concat([reference[name], recent[name]]).to_numpy(),
        )
        if stats.chi2_contingency(counts).pvalue < THRESHOLD:
            drifted.append(name)
    return drifted

# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
"""Every p-value first, in a dict; the Šidák correction over as many tests as the dict holds
(a hair looser than Bonferroni's alpha / 6); the decision last."""

import pandas as pd
from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    p_values = {name: stats.ks_2samp(reference[name], recent[name]).pvalue for name in NUMBERS}
    for name in CATEGORIES:
        table = pd.concat([reference[name].value_counts(), recent[name].value_counts()], axis=1).fillna(0)
        p_values[name] = stats.chi2_contingency(table.to_numpy()).pvalue
    threshold = 1 - (1 - alpha) ** (1 / len(p_values))
    return [name for name, p in p_values.items() if p < threshold]

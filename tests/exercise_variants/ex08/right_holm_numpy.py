# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
"""Holm's step-down correction (stricter than none, never stricter than Bonferroni) on numpy arrays."""

import numpy as np
from scipy import stats


def p_value(name, before, after):
    if name in NUMBERS:
        return stats.ks_2samp(before, after).pvalue
    values = np.union1d(np.unique(before), np.unique(after))
    table = np.array([[np.sum(before == v) for v in values], [np.sum(after == v) for v in values]])
    return stats.chi2_contingency(table).pvalue


def drifted_features(reference, recent, alpha=0.01):
    names = NUMBERS + CATEGORIES
    p_values = {name: p_value(name, reference[name].to_numpy(), recent[name].to_numpy()) for name in names}
    drifted = []
    for rank, (name, p) in enumerate(sorted(p_values.items(), key=lambda item: item[1])):
        if p >= alpha / (len(names) - rank):
            break
        drifted.append(name)
    return drifted

# ruff: noqa: F821  (penguins, NUMBERS, CATEGORIES: the starter cell defines them)
# fails with: expected drifted [bill_depth_mm], found nothing
"""Alpha divided by the data set's eight columns (species and year included), not by the six
tests made: each test is held to too strict a bar, and a real change is missed."""

import numpy as np
from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    bar = alpha / len(penguins.columns)
    found = []
    for name in [*NUMBERS, *CATEGORIES]:
        if name in NUMBERS:
            p = stats.ks_2samp(reference[name], recent[name]).pvalue
        else:
            values = sorted(set(reference[name]) | set(recent[name]))
            table = np.array(
                [[(reference[name] == v).sum() for v in values], [(recent[name] == v).sum() for v in values]]
            )
            p = stats.chi2_contingency(table).pvalue
        if p < bar:
            found.append(name)
    return found

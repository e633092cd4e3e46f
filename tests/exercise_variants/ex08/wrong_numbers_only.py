# ruff: noqa: F821  (NUMBERS: the starter cell defines it)
# fails with: case 'every second Dream penguin recorded as Torgersen': expected drifted [island], found nothing
"""Only the measurements are tested: a change in the categories is never seen."""

from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    return [name for name in NUMBERS if stats.ks_2samp(reference[name], recent[name]).pvalue < alpha / 6]

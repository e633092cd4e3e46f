# ruff: noqa: F821  (NUMBERS, CATEGORIES: the starter cell defines them)
"""kstest with a sample as its second argument (two-sample KS), a goodness-of-fit chi-square
against the reference's shares, and a set for an answer."""

from scipy import stats


def drifted_features(reference, recent, alpha=0.01):
    threshold = alpha / 6
    answer = {name for name in NUMBERS if stats.kstest(recent[name], reference[name]).pvalue < threshold}
    for name in CATEGORIES:
        shares = reference[name].value_counts(normalize=True)
        observed = recent[name].value_counts().reindex(shares.index, fill_value=0)
        if stats.chisquare(observed, f_exp=shares * len(recent)).pvalue < threshold:
            answer.add(name)
    return answer

"""Exercise 08, running it: a drift decision, `drifted_features(reference, recent)`, judged by running it.

The check never reads a verdict the student prints. It builds its own cases from the penguins
(a seeded half as the training data, the other half as today's traffic) and calls the
student's function on each; it knows the answer of every case because it made the change
itself:
- the other half as it is, and the same rows with a small shift of bill depth whose p-value
  lies between alpha / 6 and alpha: nothing drifted (six tests at once need the Bonferroni
  correction, or some feature is called drifted by chance);
- body mass +2,000 g (a scale gone wrong), flipper lengths spread 1.6 times wider around the
  same mean (a test of means cannot see it), every second Dream penguin recorded as
  Torgersen, and every penguin recorded as male: exactly the feature that was changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workshop.checks.common import CheckFailed, first_line, passed, require

if TYPE_CHECKING:
    import pandas as pd

NUMBERS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
CATEGORIES = ("island", "sex")
FEATURES = ("island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex")
ALPHA = 0.01
CHECK_SEED = 11  # not the notebook's split: the check's halves are ones the student never saw
# The small shift's p-value is chosen inside this band: clearly above alpha / 6, clearly below alpha.
BORDERLINE = (0.003, 0.007)


@dataclass(frozen=True)
class Case:
    """One call of the student's function: what was changed, today's rows, the features that drifted."""

    what: str
    recent: pd.DataFrame
    drifted: frozenset[str]
    tip: str


def check_drift_decision(drifted_features: Callable[..., Any]) -> None:
    """Exercise 08: the function's verdict on each of the check's cases is the feature that was changed."""
    require(drifted_features, "write drifted_features(reference, recent, alpha=0.01) in the cell above")
    if not callable(drifted_features):
        raise CheckFailed(
            f"expected a function in `drifted_features`, found {type(drifted_features).__name__}: "
            "define it with def, so the check can call it on data of its own"
        )
    reference, cases = _cases()
    for case in cases:
        found = _verdict(drifted_features, reference, case)
        if found != case.drifted:
            raise CheckFailed(
                f"case '{case.what}': expected drifted {_names(case.drifted)}, found {_names(found)}. Try: {case.tip}"
            )
    passed(
        f"on the check's own split ({len(reference)} training rows, {len(cases[0].recent)} recent) your function "
        f"named exactly the changed feature in each of {sum(1 for case in cases if case.drifted)} changed cases, "
        f"and nothing in the {sum(1 for case in cases if not case.drifted)} unchanged ones"
    )


def _names(features: Iterable[str]) -> str:
    listed = sorted(features)
    return "[" + ", ".join(listed) + "]" if listed else "nothing"


def _verdict(drifted_features: Callable[..., Any], reference: pd.DataFrame, case: Case) -> frozenset[str]:
    """The student's answer on one case as a set of feature names; what went wrong, in words, if not."""
    try:
        answer = drifted_features(reference.copy(), case.recent.copy())
    except Exception as error:  # any error of the student's code becomes its one line
        raise CheckFailed(f"case '{case.what}': your function raised {first_line(error)}") from None
    if answer is None:
        raise CheckFailed(
            f"case '{case.what}': your function returned None: end it with `return` and the list of drifted features"
        )
    if isinstance(answer, (dict, str)) or not isinstance(answer, Iterable):
        raise CheckFailed(
            f"case '{case.what}': expected a list of feature names such as ['body_mass_g'], found a "
            f"{type(answer).__name__}: return only the names of the features that drifted"
        )
    found = frozenset(str(name) for name in answer)
    unknown = sorted(found - set(FEATURES))
    if unknown:
        raise CheckFailed(f"case '{case.what}': {unknown} are not features; the features are {', '.join(FEATURES)}")
    return found


@functools.cache
def _cases() -> tuple[pd.DataFrame, tuple[Case, ...]]:
    """The training half and the cases, made once per kernel from the penguins themselves."""
    import palmerpenguins

    penguins = palmerpenguins.load_penguins().dropna(subset=list(FEATURES))[list(FEATURES)]
    reference = penguins.sample(frac=0.5, random_state=CHECK_SEED)
    today = penguins.drop(reference.index).reset_index(drop=True)
    reference = reference.reset_index(drop=True)
    heavier = today.assign(body_mass_g=today["body_mass_g"] + 2000)
    flippers = today["flipper_length_mm"]
    wider = today.assign(flipper_length_mm=flippers.mean() + 1.6 * (flippers - flippers.mean()))
    dream = today.index[today["island"] == "Dream"][::2]
    relabelled = today.assign(island=today["island"].mask(today.index.isin(dream), "Torgersen"))
    males = today.assign(sex="male")
    shift, p_value = _borderline_shift(reference, today)
    deeper = today.assign(bill_depth_mm=today["bill_depth_mm"] + shift)
    bonferroni = (
        f"bill_depth_mm has p = {p_value:.4f} here, below alpha = {ALPHA} but not below alpha / {len(FEATURES)}: "
        f"with {len(FEATURES)} tests at once, hold each to alpha divided by the number of tests"
    )
    cases = (
        Case(
            "the other half of the penguins, unchanged",
            today,
            frozenset(),
            f"with {len(FEATURES)} tests at once, one may pass alpha by chance: hold each to alpha divided by "
            "the number of tests",
        ),
        Case(
            "body mass +2,000 g",
            heavier,
            frozenset({"body_mass_g"}),
            "compare each numeric feature's two samples as distributions",
        ),
        Case(
            "flipper lengths spread 1.6 times wider around the same mean",
            wider,
            frozenset({"flipper_length_mm"}),
            "a test of means sees no change when only the spread changes: compare whole distributions",
        ),
        Case(
            "every second Dream penguin recorded as Torgersen",
            relabelled,
            frozenset({"island"}),
            "island is a category: compare how often each value occurs in the two samples",
        ),
        Case(
            "every penguin recorded as male",
            males,
            frozenset({"sex"}),
            "sex is a category too: count each value in both samples, even one that no longer occurs",
        ),
        Case(f"bill depth {shift:+.2f} mm", deeper, frozenset(), bonferroni),
    )
    return reference, cases


def _borderline_shift(reference: pd.DataFrame, today: pd.DataFrame) -> tuple[float, float]:
    """The smallest shift of bill depth (0.01 mm steps) whose KS p-value lies in BORDERLINE."""
    import numpy as np
    from scipy import stats

    depth = reference["bill_depth_mm"].to_numpy()
    for shift in np.round(np.arange(0.01, 2.0, 0.01), 2):
        p_value = float(stats.ks_2samp(depth, today["bill_depth_mm"].to_numpy() + shift).pvalue)
        if BORDERLINE[0] < p_value < BORDERLINE[1]:
            return float(shift), p_value
    raise RuntimeError("no shift of bill depth gives a p-value between alpha / 6 and alpha")  # the data changed

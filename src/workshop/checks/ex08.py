"""Exercise 08, running it. Metrics: the student's app, in a server of its own, counts a known mix
of answered and refused requests apart and times the answers in a Histogram it serves, in any style.
Drift: `drifted_features` names exactly the feature the check changed on a seeded half of the
penguins; two cases put bill depth's p-value 10 % either side of alpha / 6 (only alpha / 6 gets both)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penguins.serving.contract import FEATURES
from workshop.checks.common import CheckFailed, call, first_line, passed, post_record, require, started

if TYPE_CHECKING:
    import pandas as pd
    from prometheus_client.metrics_core import Metric
    from prometheus_client.samples import Sample

    from workshop.server import Server

# ---------------------------------------------------------------- task 1: the service's metrics

ANSWERED = 13  # records the given service answers (200)
# Records it refuses (422), one value each that its wrapper cannot read.
BAD_VALUES = (
    ("bill_depth_mm", "deep"),
    ("flipper_length_mm", "12,3,4"),
    ("body_mass_g", "heavy"),
    ("bill_length_mm", -4),
    ("island", 7),
)
REFUSED = len(BAD_VALUES)
PATH = "/predict"
DEFAULT_METRICS = ("python_", "process_")  # prometheus_client's own, in its global registry
_STATUS = re.compile(r"^[1-5](\d\d|xx)$")  # "200", "422", or a class such as "4xx"
NOT_A_REFUSAL = ("404", "405")  # no such route: the check's readiness probe, not a refused record


def check_metrics(path: str | Path = "counted_service.py") -> None:
    path = Path(path)
    with started(path, "write your metrics there") as server:
        _send_mix(server)
        families = _scrape(server.url)
    counters = _counted(families)
    histogram, timed = _timed(families)
    passed(
        f"{path.name}: after {ANSWERED} answered and {REFUSED} refused requests, /metrics counts "
        f"{ANSWERED} and {REFUSED} apart ({counters}) and {histogram} timed {timed:g} of them"
    )


def _send_mix(server: Server) -> None:
    """Records, each with whether the service answers it: refusals spread out, so "the last few" fails."""
    from penguins.serving.examples import CLEAN_RECORD

    mixed = [
        ({**CLEAN_RECORD, "body_mass_g": 3600 + 25 * index, "bill_length_mm": 38.0 + 0.2 * index}, True)
        for index in range(ANSWERED)
    ]
    for place, (field, value) in enumerate(BAD_VALUES):
        mixed.insert(1 + place * 3, ({**CLEAN_RECORD, field: value}, False))
    keep = "keep what the given service answers as it was, and count around it"
    for record, answered in mixed:
        status = post_record(server, record, "a record of the check's mix", keep).status_code
        if answered != (status == 200):
            expected = "200 (answered)" if answered else "a 4xx (refused)"
            raise CheckFailed(f"expected {expected} for {record}, found {status}: {keep}")


def _scrape(url: str) -> list[Metric]:
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(url + "/metrics", timeout=10)
    if response.status_code != 200:
        status, tip = response.status_code, "serve them from `app` itself (a route, or a mounted app)"
        raise CheckFailed(f"expected GET /metrics at the service's own address to answer 200, found {status}: {tip}")
    try:
        return list(text_string_to_metric_families(response.text))
    except ValueError as error:
        found = f"{response.text[:80]!r} ({first_line(error)})"
        tip = "answer what prometheus_client renders, with its content type"
        raise CheckFailed(f"expected Prometheus' text format at /metrics, found {found}: {tip}") from None


def _own(families: list[Metric], kind: str) -> list[Metric]:
    return [family for family in families if family.type == kind and not family.name.startswith(DEFAULT_METRICS)]


def _of_predict(family: Metric, suffix: str) -> list[Sample]:
    """The family's `suffix` samples about /predict where a label says so; else all of them."""
    samples = [sample for sample in family.samples if sample.name.endswith(suffix)]
    return [sample for sample in samples if PATH in sample.labels.values()] or samples


def _status_label(samples: list[Sample]) -> str | None:
    """The label whose every value is an HTTP status ("200", "422", "4xx"), if one is."""
    names = sorted({name for sample in samples for name in sample.labels})
    return next((name for name in names if all(_STATUS.match(s.labels.get(name, "")) for s in samples)), None)


def _counted(families: list[Metric]) -> str:
    """The counters that hold the answered and the refused requests apart."""
    counters = _own(families, "counter")
    if not counters:
        others = ", ".join(sorted({f.name for f in families if not f.name.startswith(DEFAULT_METRICS)}))
        tip = "a count that only goes up is a prometheus_client Counter"
        raise CheckFailed(f"expected a Counter of your own in /metrics, found only {others or 'the defaults'}: {tip}")
    answers: dict[str, float] = {}
    refusals: dict[str, float] = {}
    totals: dict[str, float] = {}
    for family in counters:
        samples = _of_predict(family, "_total")
        if (status := _status_label(samples)) is None:
            totals[family.name] = sum(sample.value for sample in samples)
            continue
        codes = [(sample.labels[status], sample.value) for sample in samples]
        answers[family.name] = sum(value for code, value in codes if code.startswith("2"))
        refusals[family.name] = sum(
            value for code, value in codes if code.startswith("4") and code not in NOT_A_REFUSAL
        )
    answered = [name for name, value in {**answers, **totals}.items() if value == ANSWERED]
    refused = [name for name, value in {**refusals, **totals}.items() if value == REFUSED]
    if answered and refused:
        return " and ".join(dict.fromkeys((answered[0], refused[0])))
    counted = [f"{name} = {answers[name]:g} answered and {refusals[name]:g} refused" for name in answers]
    counted += [f"{name} = {value:g}" for name, value in totals.items()]
    everything = ANSWERED + REFUSED
    refusals_counted = REFUSED in {**refusals, **totals}.values()
    if everything in answers.values() or (refusals_counted and everything in totals.values()):
        tip = "a refused request was counted as answered: count a request once its status is known"
    elif everything in totals.values():
        tip = "count the answers and the refusals apart: the status as a label, or one counter each"
    elif answers and not any(refusals.values()):
        tip = "the refusals were never counted: a refusal leaves by an exception; count where the status is known"
    else:
        tip = f"count each request to {PATH} once, by whether it was answered or refused"
    raise CheckFailed(
        f"the check sent {ANSWERED} records the service answered (200) and {REFUSED} it refused (422); "
        f"expected them counted apart, found {', '.join(counted)}. Try: {tip}"
    )


def _timed(families: list[Metric]) -> tuple[str, float]:
    histograms = _own(families, "histogram")
    if not histograms:
        summaries = _own(families, "summary")
        found = f"a Summary ({summaries[0].name}), whose count and sum give no percentile" if summaries else "none"
        tip = "a Histogram counts durations in buckets, which p95 is computed from"
        raise CheckFailed(f"expected a Histogram of the time each request took, found {found}: {tip}")
    observed = {family.name: sum(sample.value for sample in _of_predict(family, "_count")) for family in histograms}
    name, timed = max(observed.items(), key=lambda item: item[1])
    if timed < ANSWERED:
        found = f"{name} with {timed:g} observations"
        raise CheckFailed(f"expected a Histogram that timed all {ANSWERED} answers, found {found}: time each {PATH}")
    return name, timed


# ---------------------------------------------------------------- task 2: the drift decision

CHECK_SEED = 11  # not the notebook's split: the check's halves are ones the student never saw
# 10 %: dividing by 5 calls the lenient case drifted (6 / 5 = 1.2 > 1.1), by 7 misses the strict one (0.86 < 0.9).
MARGIN = 0.1
SHIFT = 1.21  # mm of bill depth: its KS p-value on the check's split is then nearest 0.01 / 6 (log scale)


@dataclass(frozen=True)
class Case:
    """One call of the student's function and its right verdict (alpha None: the default)."""

    what: str
    recent: pd.DataFrame
    drifted: frozenset[str]
    tip: str
    alpha: float | None = None


def check_drift_decision(drifted_features: Callable[..., Any]) -> None:
    require(drifted_features, "write drifted_features(reference, recent, alpha=0.01) in the cell above")
    if not callable(drifted_features):
        found = type(drifted_features).__name__
        raise CheckFailed(f"expected a function in `drifted_features`, found {found}: define it with def")
    reference, cases = _cases()
    for case in cases:
        found = _verdict(drifted_features, reference, case)
        if found != case.drifted:
            raise CheckFailed(
                f"case '{case.what}': expected drifted {_names(case.drifted)}, found {_names(found)}. Try: {case.tip}"
            )
    alphas = " and ".join(f"{case.alpha:.4f}" for case in cases if case.alpha is not None)
    changed = sum(1 for case in cases if case.drifted)
    passed(
        f"on the check's own split your function named exactly the changed feature in {changed} cases and "
        f"nothing in {len(cases) - changed}, at alpha 0.01, {alphas}"
    )


def _names(features: Iterable[str]) -> str:
    return f"[{', '.join(sorted(features))}]" if features else "nothing"


def _verdict(drifted_features: Callable[..., Any], reference: pd.DataFrame, case: Case) -> frozenset[str]:
    given = () if case.alpha is None else (case.alpha,)
    args = (reference.copy(), case.recent.copy(), *given)
    answer = call(drifted_features, f"an answer for case '{case.what}'", "run it on that case in a cell", *args)
    if isinstance(answer, (dict, str)) or not isinstance(answer, Iterable):
        kind = "None" if answer is None else "a " + type(answer).__name__
        tip = "return only the names of the features that drifted"
        raise CheckFailed(f"case '{case.what}': expected a list of feature names, found {kind}: {tip}")
    found = frozenset(str(name) for name in answer)
    if unknown := sorted(found - set(FEATURES)):
        raise CheckFailed(f"case '{case.what}': {unknown} are not features; the features are {', '.join(FEATURES)}")
    return found


@functools.cache
def _cases() -> tuple[pd.DataFrame, tuple[Case, ...]]:
    import palmerpenguins
    from scipy import stats

    penguins = palmerpenguins.load_penguins().dropna(subset=list(FEATURES))[list(FEATURES)]
    reference = penguins.sample(frac=0.5, random_state=CHECK_SEED)
    today = penguins.drop(reference.index).reset_index(drop=True)
    reference = reference.reset_index(drop=True)
    flippers = today["flipper_length_mm"]
    dream = today.index[today["island"] == "Dream"][::2]
    tests = len(FEATURES)
    divide = f"with {tests} tests at once, hold each to the alpha your function is given divided by the number of tests"
    changes = {  # what changed: the new column and what to try when it is missed
        "body mass +2,000 g": (
            {"body_mass_g": today["body_mass_g"] + 2000},
            "compare each numeric feature's two samples as distributions",
        ),
        "flipper lengths spread 1.6 times wider around the same mean": (
            {"flipper_length_mm": flippers.mean() + 1.6 * (flippers - flippers.mean())},
            "a test of means sees no change when only the spread changes: compare whole distributions",
        ),
        "every second Dream penguin recorded as Torgersen": (
            {"island": today["island"].mask(today.index.isin(dream), "Torgersen")},
            "island is a category: compare the counts of each of its values in the two samples",
        ),
        "every penguin recorded as male": (
            {"sex": "male"},
            "sex is a category too: count each value in both samples, even one that no longer occurs",
        ),
    }
    cases = [
        Case("the other half of the penguins, unchanged", today, frozenset(), f"one may pass alpha by chance: {divide}")
    ]
    cases += [Case(what, today.assign(**new), frozenset(new), tip) for what, (new, tip) in changes.items()]
    deeper = today.assign(bill_depth_mm=today["bill_depth_mm"] + SHIFT)
    p_value = float(stats.ks_2samp(reference["bill_depth_mm"], deeper["bill_depth_mm"]).pvalue)
    for alpha, drifted in (
        (tests * p_value / (1 - MARGIN), {"bill_depth_mm"}),
        (tests * p_value / (1 + MARGIN), set()),
    ):
        tip = f"bill_depth_mm has p = {p_value:.5f} here and the check passed alpha = {alpha:.4f}: {divide} it makes"
        cases.append(Case(f"bill depth {SHIFT:+.2f} mm, alpha {alpha:.4f}", deeper, frozenset(drifted), tip, alpha))
    return reference, tuple(cases)

"""Exercise 04, the wrapper class: a kilograms rule in the cleaner, and a test that catches it missing."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from workshop.checks.common import (
    CheckFailed,
    first_line,
    passed,
    require,
)

if TYPE_CHECKING:
    from penguins.serving.cleaning import CleanBatch, Cleaner


def check_kilograms_rule(predictor: Any) -> None:
    """The wrapper reads a mass in kilograms as grams, and nothing else changes."""
    require(predictor, "load my_predictor = PenguinPredictor.load(cleaner=my_cleaner) with your rule")
    from penguins.serving.cleaning import DEFAULT_CLEANER
    from penguins.serving.predictor import PenguinPredictor

    if not isinstance(predictor, PenguinPredictor):
        raise CheckFailed(f"expected a PenguinPredictor, found {type(predictor).__name__}")
    cleaner = predictor.cleaner
    if not cleaner.pre_rules:
        raise CheckFailed(
            "the predictor's cleaner has no pre-rule: pass cleaner=DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams)"
        )
    grams = _weighed_records()
    kilograms = [{**record, "body_mass_g": _kilograms(cast(float, record["body_mass_g"]))} for record in grams]
    _check_rules_are_written(cleaner, kilograms[0])
    _compare_cleaning(cleaner, kilograms, DEFAULT_CLEANER.clean(grams))
    for value in _MASSES_TO_KEEP:
        _check_mass_kept(cleaner, value)
    got = [p.species for p in predictor.predict(kilograms)]
    expected = [p.species for p in predictor.predict_clean(DEFAULT_CLEANER.clean(grams))]
    if got != expected:
        raise CheckFailed("the same penguins get other species in kilograms than in grams: compare your cleaned masses")
    passed(
        f"{len(kilograms)} penguins weighed in kilograms clean to the same grams and get the same species; "
        "grams, text, 'NA', None and a missing mass are left as they were"
    )


# Raw masses a kilogram rule must leave alone: grams, grams as text, the data set's missing markers.
_MASSES_TO_KEEP: tuple[object, ...] = (3750, 3750.0, "3750", "NA", "", None, "missing field")


def _check_rules_are_written(cleaner: Cleaner, record: dict[str, object]) -> None:
    """A pre-rule whose body is still the placeholder returns `...`: that is "not done yet"."""
    for rule in cleaner.pre_rules:
        name = getattr(rule, "__name__", "your rule")
        try:
            result = rule(dict(record))
        except Exception as error:  # a crash inside the student's rule
            raise CheckFailed(f"{name} crashed on a record with the mass in kilograms ({first_line(error)})") from None
        require(result, f"finish {name}: it still returns ...")


@functools.cache
def _weighed_penguins() -> tuple[tuple[tuple[str, object], ...], ...]:
    from penguins.training import data

    records = data.to_records(data.raw_as_contract(data.load_penguins_raw()))
    weighed = [record for record in records if record["body_mass_g"] is not None][::17]
    return tuple(tuple(record.items()) for record in weighed)


def _weighed_records() -> list[dict[str, object]]:
    """Real raw records with a body mass, spread over the data set, plus one of exactly 4000 g
    (4 kg, an int); fresh dicts every call."""
    records = [dict(items) for items in _weighed_penguins()]
    return [*records, {**records[0], "body_mass_g": 4000.0}]


def _kilograms(grams: float) -> float | int:
    """A mass as a client writing kilograms sends it: 3.75, or 4 for a round number."""
    return int(grams // 1000) if grams % 1000 == 0 else grams / 1000


def _clean(cleaner: Cleaner, records: list[dict[str, object]], what: str) -> CleanBatch:
    """Clean with the student's cleaner; a refusal or a crash becomes the message."""
    from penguins.serving.cleaning import CleaningError

    try:
        return cleaner.clean(records)
    except CleaningError as error:
        raise CheckFailed(
            f"{what} was refused ({error.problems[0]}): convert kilograms to grams before the range check"
        ) from None
    except Exception as error:  # a crash inside the student's rule
        raise CheckFailed(
            f"your rule crashed on {what} ({first_line(error)}): a pre-rule sees raw values, "
            "so check the type before comparing"
        ) from None


def _compare_cleaning(cleaner: Cleaner, kilograms: list[dict[str, object]], expected: CleanBatch) -> None:
    """Masses in kilograms must clean to the grams the default cleaner makes of the same birds."""
    got = _clean(cleaner, kilograms, "a record with the body mass in kilograms")
    for name, column in expected.items():
        if column.dtype == object:
            differs = got[name] != column
        else:
            differs = ~np.isclose(got[name], column, rtol=1e-6, equal_nan=True)
        if differs.any():
            index = int(np.flatnonzero(differs)[0])
            found, wanted = _shown(got[name][index]), _shown(column[index])
            hint = (
                "multiply a mass below 100 by 1000" if name == "body_mass_g" else "leave the other fields as they are"
            )
            raise CheckFailed(f"{name} {kilograms[index][name]!r} cleans to {found}, expected {wanted}: {hint}")


def _shown(value: object) -> str:
    """A cleaned value as a person writes it: 3750 rather than np.float32(3750.0)."""
    return f"{float(value):g}" if isinstance(value, np.floating) else repr(value)


def _check_mass_kept(cleaner: Cleaner, value: object) -> None:
    """A value that is not a number of kilograms cleans exactly as it would without the rule."""
    from penguins.serving.cleaning import DEFAULT_CLEANER, CleaningError
    from penguins.serving.examples import CLEAN_RECORD

    record = {key: val for key, val in CLEAN_RECORD.items() if key != "body_mass_g"}
    if value != "missing field":
        record["body_mass_g"] = value
    try:
        expected = DEFAULT_CLEANER.clean([record])["body_mass_g"]
    except CleaningError:
        expected = None
    try:
        got = cleaner.clean([dict(record)])["body_mass_g"]
    except CleaningError:
        got = None
    except Exception as error:  # a crash inside the student's rule
        raise CheckFailed(
            f"your rule crashed on a body mass of {value!r} ({first_line(error)}): a pre-rule "
            "sees raw values (text, None, no field at all); convert only numbers below 100"
        ) from None
    same = got is None and expected is None
    if got is not None and expected is not None:
        same = bool(np.array_equal(got, expected, equal_nan=True))
    if not same:
        raise CheckFailed(
            f"a body mass of {value!r} cleans differently with your rule: convert only numbers "
            "(int or float) below 100 and leave everything else to the cleaner"
        )


def check_rule_test(test: Callable[[Cleaner], object], cleaner: Cleaner) -> None:
    """The student's test passes with their rule and fails without it or with a wrong one."""
    from penguins.serving.cleaning import DEFAULT_CLEANER

    without_rule = _run_test(test, DEFAULT_CLEANER)
    require(cleaner, "finish task 1 first: my_cleaner is still ...")
    mine = _run_test(test, cleaner)
    if mine is not None:
        raise CheckFailed(f"your test fails with your own cleaner ({first_line(mine)}): fix the test or the rule")
    if without_rule is None:
        raise CheckFailed(
            "your test passes with DEFAULT_CLEANER too, which has no kilogram rule: it would not "
            "notice the rule going missing. Clean a mass in kilograms and assert the grams"
        )
    if _run_test(test, DEFAULT_CLEANER.with_pre_rule(_rounding_kilograms)) is None:
        raise CheckFailed(
            "your test passes with a wrong rule that rounds 3.75 kg down to 3000 g: use a mass "
            "with decimals and assert the exact grams (3.75 kg is 3750 g)"
        )
    passed("your test passes with your rule and fails without it and with a rule that rounds kilograms down")


def _run_test(test: Callable[[Cleaner], object], cleaner: Cleaner) -> Exception | None:
    """None if the test passed, else what it raised; a blank test is "not done yet"."""
    try:
        outcome = test(cleaner)
    except Exception as error:  # a failing test may raise anything, AssertionError or not
        return error
    require(outcome, "write the test's body: clean a record with the mass in kilograms and assert the grams")
    return None


def _rounding_kilograms(record: dict[str, object]) -> dict[str, object]:
    """A wrong rule for check_rule_test: kilograms rounded down before they become grams."""
    mass = record.get("body_mass_g")
    if isinstance(mass, (int, float)) and not isinstance(mass, bool) and mass < 100:
        record["body_mass_g"] = int(mass) * 1000
    return record

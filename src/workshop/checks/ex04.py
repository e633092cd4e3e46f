"""Exercise 04, the wrapper class: the student's own wrapper of messy records (from scratch); then a kilograms
rule in the package's cleaner, and a test that catches it missing."""

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
    require(cleaner, "finish task 2 first: my_cleaner is still ...")
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


# Task 1 (from scratch): make_predictor() returns the student's own wrapper.
#
# The check needs no model of its own: it asks the student's wrapper about real penguins twice,
# once as clean records and once as the same birds written the way field notes and clients
# write them (decimal commas, odd case, spaces, "NA" for missing), and the two answers must be
# the same list of species. The clean answers must also be mostly the true species, so that a
# wrapper answering a constant cannot pass.

WRAPPER_PENGUINS = 24
WRAPPER_AGREEMENT = 0.90  # the starter's model is right about 0.97 of the time on these birds
BAD_FIELDS = (("bill_depth_mm", "deep"), ("flipper_length_mm", "12,3,4"))


def check_predictor(make_predictor: Callable[[], Any]) -> None:
    """make_predictor() gives an object whose predict(records) reads messy records like clean ones."""
    require(make_predictor, "define make_predictor() that returns your wrapper object")
    predictor = _make(make_predictor)
    clean, messy, species = _penguin_records()
    said_clean = _predict(predictor, clean, "clean records")
    said_messy = _predict(predictor, messy, "messy records (decimal commas, odd case, spaces, 'NA')")
    right = float(np.mean([a == b for a, b in zip(said_clean, species, strict=True)]))
    if right < WRAPPER_AGREEMENT:
        raise CheckFailed(
            f"expected the species of at least {WRAPPER_AGREEMENT:.0%} of {len(clean)} clean records to be right, "
            f"found {right:.0%}: feed the model the columns it was fitted on, one row per record, in order"
        )
    differ = [i for i, (a, b) in enumerate(zip(said_clean, said_messy, strict=True)) if a != b]
    if differ:
        first = differ[0]
        raise CheckFailed(
            f"expected the same species for a messy record as for its clean version, found {len(differ)} that "
            f"differ, e.g. {messy[first]} -> {said_messy[first]!r} but {clean[first]} -> {said_clean[first]!r}: "
            "strip spaces and fix the case of text, read a decimal comma, and treat 'NA' as missing"
        )
    single = _predict(predictor, messy[0], "a single record (a dict, not a list)", expected_length=1)
    if single != said_messy[:1]:
        raise CheckFailed(f"expected predict(one dict) to give [{said_messy[0]!r}], found {single}")
    for field, value in BAD_FIELDS:
        _check_refused(predictor, {**clean[0], field: value}, field, value)
    passed(
        f"{type(predictor).__name__}.predict reads {len(messy)} messy records like their clean versions "
        f"({right:.0%} right), takes a single dict, and names the field of a bad value"
    )


def _make(make_predictor: Callable[[], Any]) -> Any:
    try:
        predictor = make_predictor()
    except Exception as error:  # any crash of the student's function is the finding
        raise CheckFailed(
            f"expected make_predictor() to return your wrapper, but it raised {first_line(error)}"
        ) from None
    require(predictor, "write the body of make_predictor: build your wrapper and return it")
    if not callable(getattr(predictor, "predict", None)):
        raise CheckFailed(
            f"expected make_predictor() to return an object with a predict method, found {predictor!r}: "
            "end make_predictor with return and your wrapper"
        )
    return predictor


def _predict(predictor: Any, records: Any, what: str, expected_length: int | None = None) -> list[str]:
    """The wrapper's answer as a list of str: a list, tuple or array of names; a lone str for one dict."""
    try:
        answer = predictor.predict(records)
    except Exception as error:  # whatever the wrapper raises on good input is the finding
        raise CheckFailed(
            f"expected predict to answer {what}, but it raised {first_line(error)}: clean each value before "
            "the model sees it (str.strip, str.lower or .title, a decimal comma becomes a point)"
        ) from None
    if isinstance(answer, str) and expected_length == 1:
        answer = [answer]
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    length = len(records) if expected_length is None else expected_length
    if not isinstance(answer, (list, tuple)) or len(answer) != length:
        raise CheckFailed(
            f"expected predict to return a list of {length} species names for {what}, found {answer!r}: "
            "one name per record, in order"
        )
    if not all(isinstance(name, str) for name in answer):
        raise CheckFailed(f"expected species names (str) for {what}, found {answer!r}: return the model's labels")
    return list(answer)


def _check_refused(predictor: Any, record: dict[str, Any], field: str, value: str) -> None:
    try:
        answer = predictor.predict([record])
    except Exception as error:  # the error type is the student's choice; its message must name the field
        if field not in str(error):
            raise CheckFailed(
                f"expected the error for {field}={value!r} to name the field {field!r}, found "
                f"{first_line(error)}: put the field's name in the message"
            ) from None
        return
    raise CheckFailed(
        f"expected predict to refuse {field}={value!r} with an error naming {field!r}, found the answer "
        f"{answer!r}: a value that is not a number must not become one (nor a silent NaN)"
    )


@functools.cache
def _penguin_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Clean records of real penguins, the same birds written messily, and their true species."""
    import palmerpenguins

    numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    table = palmerpenguins.load_penguins().dropna(subset=[*numbers, "sex"])
    birds = table.sample(n=WRAPPER_PENGUINS, random_state=3)
    clean: list[dict[str, Any]] = []
    messy: list[dict[str, Any]] = []
    for index, (_, bird) in enumerate(birds.iterrows()):
        record = {"island": bird["island"], **{n: float(bird[n]) for n in numbers}, "sex": bird["sex"]}
        scruffy: dict[str, Any] = {
            "island": f"  {record['island'].upper() if index % 2 else record['island'].lower()} ",
            **{n: f"{record[n]}".replace(".", ",") for n in numbers},
            "sex": f"{record['sex'].upper()} ",
        }
        if index % 4 == 0:  # a missing measurement: None when clean, "NA" as field notes write it
            record["body_mass_g"], scruffy["body_mass_g"] = None, "NA"
        clean.append(record)
        messy.append(scruffy)
    return clean, messy, [str(s) for s in birds["species"]]

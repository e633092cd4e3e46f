"""Exercise 04, the wrapper class: the student's own wrapper of messy records, written from scratch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from workshop.checks.common import (
    CheckFailed,
    first_line,
    passed,
    require,
)

# Task 1 (from scratch): make_predictor() returns the student's own wrapper.
#
# The check needs no model of its own: it asks the student's wrapper about real penguins twice,
# once as clean records and once as the same birds written the way field notes and clients
# write them (decimal commas, odd case, spaces, "NA" for missing), and the two answers must be
# the same list of species. The clean answers must also be mostly the true species, so that a
# wrapper answering a constant cannot pass.

#
# A missing measurement must reach the model as missing, so that the pipeline's own imputer fills it
# in: with `model_path` (the starter's pickle), the answers for records with a gap are compared with
# what that pipeline says given NaN. Reading a gap as 0 answers the same for the clean and the
# messy version of a bird, so only the reference sees it. And a number is read as a number: an
# arithmetic text that only eval() would turn into one must be refused, naming its field.

WRAPPER_PENGUINS = 24
WRAPPER_AGREEMENT = 0.90  # the starter's model is right about 0.97 of the time on these birds
NUMBERS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
BAD_FIELDS = (("bill_depth_mm", "deep"), ("flipper_length_mm", "12,3,4"))
EXPRESSION = ("bill_length_mm", "40 - 0.9")  # 39.1 to eval(), and eval runs any text a client sends


def check_predictor(make_predictor: Callable[[], Any], model_path: Path | str | None = None) -> None:
    """make_predictor() gives an object whose predict(records) reads messy records like clean ones,
    and, given the wrapped pickle, answers records with a gap as that pipeline does."""
    require(make_predictor, "define make_predictor() that returns your wrapper object")
    predictor = _make(make_predictor)
    clean, messy, species = _penguin_records()
    said_clean = _predict(predictor, clean, "clean records")
    said_messy = _predict(predictor, messy, "messy records (decimal commas, odd case, spaces, 'NA')")
    if model_path is not None:
        _check_gaps_like_the_model(said_clean, clean, Path(model_path))
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
    single = _predict(predictor, messy[0], "a single record (a dict, not a list)", expected_length=1, advice=ONE_DICT)
    if single != said_messy[:1]:
        raise CheckFailed(f"expected predict(one dict) to give [{said_messy[0]!r}], found {single}: {ONE_DICT}")
    for field, value in BAD_FIELDS:
        _check_refused(predictor, {**clean[0], field: value}, field, value)
    _check_refused(predictor, {**clean[0], EXPRESSION[0]: EXPRESSION[1]}, *EXPRESSION, expression=True)
    gaps = " as the pipeline does" if model_path is not None else ""
    passed(
        f"{type(predictor).__name__}.predict reads {len(messy)} messy records like their clean versions "
        f"({right:.0%} right), answers missing values{gaps}, takes a single dict, and names the field of a "
        "bad value (arithmetic text included)"
    )


ONE_DICT = "a dict is one record: turn it into a list of one before treating records as a list"


def _check_gaps_like_the_model(said: list[str], clean: list[dict[str, Any]], model_path: Path) -> None:
    """Records with a missing measurement get the species the wrapped pipeline gives them, its
    imputer filling the gap (NaN in, as the pipeline was fitted to take it)."""
    import pickle

    import pandas as pd

    with open(model_path, "rb") as file:
        model = pickle.load(file)  # the starter's own file
    frame = pd.DataFrame(clean, columns=list(clean[0])).astype(dict.fromkeys(NUMBERS, float))
    expected = [str(species) for species in model.predict(frame)]
    whole = [
        got == wanted for record, got, wanted in zip(clean, said, expected, strict=True) if None not in record.values()
    ]
    if not all(whole):
        return  # it misreads complete records too: the checks that follow say how
    for record, got, wanted in zip(clean, said, expected, strict=True):
        gaps = [field for field, value in record.items() if value is None]
        if gaps and got != wanted:
            raise CheckFailed(
                f"expected {wanted!r} for a record whose {gaps[0]} is missing ({record}), as the pipeline says "
                f"when its imputer fills the gap, found {got!r}: hand the model a missing value as missing "
                "(NaN), never as a number such as 0"
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


CLEAN_FIRST = (
    "clean each value before the model sees it (str.strip, str.lower or .title, a decimal comma becomes a point)"
)


def _predict(
    predictor: Any, records: Any, what: str, expected_length: int | None = None, advice: str = CLEAN_FIRST
) -> list[str]:
    """The wrapper's answer as a list of str: a list, tuple or array of names; a lone str for one dict."""
    try:
        answer = predictor.predict(records)
    except Exception as error:  # whatever the wrapper raises on good input is the finding
        raise CheckFailed(f"expected predict to answer {what}, but it raised {first_line(error)}: {advice}") from None
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


def _check_refused(predictor: Any, record: dict[str, Any], field: str, value: str, expression: bool = False) -> None:
    try:
        answer = predictor.predict([record])
    except Exception as error:  # the error type is the student's choice; its message must name the field
        if field not in str(error):
            raise CheckFailed(
                f"expected the error for {field}={value!r} to name the field {field!r}, found "
                f"{first_line(error)}: put the field's name in the message"
            ) from None
        return
    if expression:
        raise CheckFailed(
            f"expected predict to refuse {field}={value!r} (arithmetic, not a number) with an error naming "
            f"{field!r}, found the answer {answer!r}: only eval() reads that text as a number, and eval runs "
            "whatever a client sends (os.system included); parse numbers, never evaluate them"
        )
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
        if index % 4 == 0:  # a missing measurement, each in turn: None when clean, "NA" as field notes write it
            gap = numbers[index // 4 % len(numbers)]
            record[gap], scruffy[gap] = None, "NA"
        clean.append(record)
        messy.append(scruffy)
    return clean, messy, [str(s) for s in birds["species"]]

"""Exercise 04, the wrapper: real penguins as clean and as messy records get the same, mostly right
species; with `model_path`, a gap gets what the pipeline gives NaN (not 0); a value that is no number
(arithmetic only eval() reads included) is refused by field."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from penguins.serving.contract import NUMERIC_FEATURES as NUMBERS
from workshop.checks.common import CheckFailed, call, first_line, passed, require

WRAPPER_PENGUINS = 24
WRAPPER_AGREEMENT = 0.90  # the starter's model is right about 0.97 of the time on these birds
NOT_A_NUMBER = "a value that is not a number must not become one (nor a silent NaN)"
REFUSED = (  # field, a value that is no number, what to try when the wrapper takes it
    ("bill_depth_mm", "deep", NOT_A_NUMBER),
    ("flipper_length_mm", "12,3,4", NOT_A_NUMBER),
    (
        "bill_length_mm",
        "40 - 0.9",  # 39.1 to eval(), and eval runs any text a client sends
        "it is arithmetic, and only eval() reads that text as a number, running whatever a client sends "
        "(os.system included): parse numbers, never evaluate them",
    ),
)
ONE_DICT = "a dict is one record: turn it into a list of one before treating records as a list"
CLEAN_FIRST = "clean each value before the model sees it (strip, fix the case, a decimal comma becomes a point)"


def check_predictor(make_predictor: Callable[[], Any], model_path: Path | str | None = None) -> None:
    """make_predictor() gives an object whose predict(records) reads messy records like clean ones."""
    require(make_predictor, "define make_predictor() that returns your wrapper object")
    predictor = call(make_predictor, "make_predictor() to return your wrapper", "build it inside and return it")
    require(predictor, "write the body of make_predictor: build your wrapper and return it")
    if not callable(getattr(predictor, "predict", None)):
        expected = "make_predictor() to return an object with a predict method"
        raise CheckFailed(f"expected {expected}, found {predictor!r}: end it with return and your wrapper")
    clean, messy, species = _penguin_records()
    said_clean = _predict(predictor, clean, "clean records")
    said_messy = _predict(predictor, messy, "messy records (decimal commas, odd case, spaces, 'NA')")
    if model_path is not None:
        _check_gaps_like_the_model(said_clean, clean, Path(model_path))
    right = float(np.mean([a == b for a, b in zip(said_clean, species, strict=True)]))
    if right < WRAPPER_AGREEMENT:
        tip = "feed the model the columns it was fitted on, one row per record, in order"
        raise CheckFailed(f"expected at least {WRAPPER_AGREEMENT:.0%} of clean records right, found {right:.0%}: {tip}")
    differ = [i for i, (a, b) in enumerate(zip(said_clean, said_messy, strict=True)) if a != b]
    if differ:
        i, tip = differ[0], "strip spaces, fix the case of text, read a decimal comma, treat 'NA' as missing"
        raise CheckFailed(
            f"expected a messy record's species to be its clean version's, found {len(differ)} that differ, e.g. "
            f"{messy[i]} -> {said_messy[i]!r} but {clean[i]} -> {said_clean[i]!r}: {tip}"
        )
    single = _predict(predictor, messy[0], "a single record (a dict, not a list)", ONE_DICT)
    if single != said_messy[:1]:
        raise CheckFailed(f"expected predict(one dict) to give [{said_messy[0]!r}], found {single}: {ONE_DICT}")
    for field, value, advice in REFUSED:
        try:
            answer = predictor.predict([{**clean[0], field: value}])
        except Exception as error:  # the error type is the student's choice; its message must name the field
            if field in str(error):
                continue
            expected = f"the error for {field}={value!r} to name the field {field!r}"
            raise CheckFailed(f"expected {expected}, found {first_line(error)}: put it in the message") from None
        expected = f"predict to refuse {field}={value!r} with an error naming {field!r}"
        raise CheckFailed(f"expected {expected}, found the answer {answer!r}: {advice}")
    gaps = " as the pipeline does" if model_path is not None else ""
    passed(
        f"{type(predictor).__name__}.predict reads {len(messy)} messy records like clean ones ({right:.0%} right), "
        f"answers missing values{gaps}, takes a dict, and names the field of a bad value"
    )


def _check_gaps_like_the_model(said: list[str], clean: list[dict[str, Any]], model_path: Path) -> None:
    """Records with a missing measurement get the species the wrapped pipeline gives them with NaN there."""
    import pickle

    import pandas as pd

    with open(model_path, "rb") as file:
        model = pickle.load(file)  # the starter's own file
    frame = pd.DataFrame(clean, columns=list(clean[0])).astype(dict.fromkeys(NUMBERS, float))
    answers = list(zip(clean, said, map(str, model.predict(frame)), strict=True))
    if any(got != wanted for record, got, wanted in answers if None not in record.values()):
        return  # it misreads complete records too: the checks that follow say how
    for record, got, wanted in answers:
        gaps = [field for field, value in record.items() if value is None]
        if gaps and got != wanted:
            raise CheckFailed(
                f"expected {wanted!r} for a record whose {gaps[0]} is missing ({record}), as the pipeline's imputer "
                f"says, found {got!r}: hand the model a missing value as missing (NaN), never as a number such as 0"
            )


def _predict(predictor: Any, records: Any, what: str, advice: str = CLEAN_FIRST) -> list[str]:
    """The wrapper's answer as a list of str: a list, tuple or array of names; a lone str for one dict."""
    answer = call(predictor.predict, f"predict to answer {what}", advice, records)
    length = 1 if isinstance(records, dict) else len(records)
    answer = [answer] if isinstance(answer, str) and isinstance(records, dict) else answer
    answer = answer.tolist() if isinstance(answer, np.ndarray) else answer
    if not isinstance(answer, (list, tuple)) or len(answer) != length or not all(isinstance(n, str) for n in answer):
        expected = f"predict to return a list of {length} species names (str) for {what}"
        raise CheckFailed(f"expected {expected}, found {answer!r}: one label per record, in order")
    return list(answer)


@functools.cache
def _penguin_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Clean records of real penguins, the same birds written messily, and their true species."""
    import palmerpenguins

    birds = palmerpenguins.load_penguins().dropna(subset=[*NUMBERS, "sex"]).sample(n=WRAPPER_PENGUINS, random_state=3)
    clean: list[dict[str, Any]] = []
    messy: list[dict[str, Any]] = []
    for index, (_, bird) in enumerate(birds.iterrows()):
        record = {"island": bird["island"], **{n: float(bird[n]) for n in NUMBERS}, "sex": bird["sex"]}
        scruffy: dict[str, Any] = {
            "island": f"  {record['island'].upper() if index % 2 else record['island'].lower()} ",
            **{n: f"{record[n]}".replace(".", ",") for n in NUMBERS},
            "sex": f"{record['sex'].upper()} ",
        }
        if index % 4 == 0:  # a missing measurement, each in turn: None when clean, "NA" as field notes write it
            gap = NUMBERS[index // 4 % len(NUMBERS)]
            record[gap], scruffy[gap] = None, "NA"
        clean.append(record)
        messy.append(scruffy)
    return clean, messy, [str(s) for s in birds["species"]]

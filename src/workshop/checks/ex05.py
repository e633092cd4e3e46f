"""Exercise 05, the service: the student's own my_service.py, judged only by what it answers.

Its `app` runs in a server of its own and is called over HTTP on loopback: real penguins get the
species the in-process PenguinPredictor gives them, a messy record that of its clean version, a
bad value a 4xx naming its field, GET /health a 200. The style is the student's (a pydantic
model, a dict or the Request, the model loaded at import or in a lifespan, 400 or 422, extra keys
in the answer); the birds are ones every sensible model agrees on, so the student's own wrapper
passes as well as the package's.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penguins.serving.contract import NUMERIC_FEATURES
from workshop.checks.common import CheckFailed, judge_species, passed, post_record, require_file, start_app

if TYPE_CHECKING:
    from workshop.server import Server

PER_SPECIES = 3
CONFIDENCE = 0.99  # the in-process probability of the birds the check asks about
BAD_FIELDS = (("bill_depth_mm", "deep"), ("flipper_length_mm", "12,3,4"))  # as exercise 04 refuses them


def check_service(path: str | Path = "my_service.py") -> None:
    """The file's `app`, started in a server of its own, answers one raw record with its species."""
    from workshop.server import get_status

    path = Path(path)
    require_file(path, "build your FastAPI app there", "app")
    server = start_app(path)
    try:
        penguins = [(dict(record), species) for record, species in _confident_penguins()]
        for record, species in penguins:
            _check_species_of(server, record, species, "a real penguin")
        record, species = penguins[0]
        _check_species_of(
            server, _messy(record), species, "a messy but valid record (decimal commas, odd case, spaces)"
        )
        for field, value in BAD_FIELDS:
            _check_bad_field(server, {**record, field: value}, field, value)
        if (status := get_status(server.port, "/health")) != 200:
            raise CheckFailed(
                f"expected GET /health to answer 200, found {status}: add a GET route at /health that "
                "answers as soon as the app can predict"
            )
    finally:
        server.stop()
    passed(
        f"{path.name}: POST /predict gives {len(penguins)} real penguins their in-process species and reads a "
        f"messy record; bad values get a 4xx naming {' and '.join(f for f, _ in BAD_FIELDS)}; GET /health is 200"
    )


def _check_species_of(server: Server, record: dict[str, Any], expected: str, what: str) -> None:
    """The answer is a JSON object whose "species" is the one name the wrapper gives here."""
    response = post_record(
        server, record, what, "send the same record to your wrapper in a cell to see where it breaks"
    )
    judge_species(response, record, expected, what)


def _check_bad_field(server: Server, record: dict[str, Any], field: str, value: str) -> None:
    """A value that is not a number gets a 4xx whose body names its field."""
    what = f"{field}={value!r}"
    response = post_record(
        server, record, what, "catch your wrapper's error and answer it with a 4xx (an HTTPException)"
    )
    if not 400 <= response.status_code < 500:
        raise CheckFailed(
            f"expected a 4xx naming {field!r} for {what}, found {response.status_code} {response.text[:150]}: "
            "a value that is not a number must be refused, not guessed"
        )
    if field not in response.text:
        raise CheckFailed(
            f"expected the {response.status_code} for {what} to name the field {field!r}, found "
            f"{response.text[:150]}: put the wrapper's error message (it names the field) in the answer"
        )


@functools.cache
def _confident_penguins() -> tuple[tuple[tuple[tuple[str, object], ...], str], ...]:
    """PER_SPECIES complete raw records of each species that the in-process wrapper names right
    with a probability of at least CONFIDENCE: birds no sensible model disputes."""
    from penguins.serving.predictor import PenguinPredictor
    from penguins.training import data

    frame = data.raw_as_contract(data.load_penguins_raw()).dropna()
    predictor = PenguinPredictor.load()
    chosen: list[tuple[tuple[tuple[str, object], ...], str]] = []
    for name, birds in frame.groupby("species", sort=True):
        records = data.to_records(birds.iloc[::7])
        sure = [
            (tuple(record.items()), said.species)
            for record, said in zip(records, predictor.predict(records), strict=True)
            if said.species == name and max(said.probabilities.values()) >= CONFIDENCE
        ]
        chosen += sure[:PER_SPECIES]
    return tuple(chosen)


def _messy(record: dict[str, object]) -> dict[str, object]:
    """The same bird as a person types it: decimal commas, shouted or lower case, stray spaces."""
    messy: dict[str, object] = {name: f" {record[name]}".replace(".", ",") for name in NUMERIC_FEATURES}
    return messy | {"island": f"  {str(record['island']).upper()} ", "sex": f"{str(record['sex']).lower()} "}

"""Exercise 05: the student's my_service.py judged only by what its `app` answers over HTTP, in any
style: confident birds get the wrapper's species, a messy record its clean one's, a bad value a 4xx
naming its field, GET /health a 200."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from penguins.serving.contract import NUMERIC_FEATURES
from workshop.checks.common import CheckFailed, judge_species, passed, post_record, started

PER_SPECIES = 3
CONFIDENCE = 0.99  # the in-process probability of the birds the check asks about
BAD_FIELDS = (("bill_depth_mm", "deep"), ("flipper_length_mm", "12,3,4"))  # as exercise 04 refuses them
MESSY = "a messy but valid record (decimal commas, odd case, spaces)"


def check_service(path: str | Path = "my_service.py") -> None:
    """The file's `app`, started in a server of its own, answers raw records with their species."""
    from workshop.server import get_status

    path = Path(path)
    with started(path, "build your FastAPI app there", "app") as server:
        penguins = [(dict(record), species, "a real penguin") for record, species in _confident_penguins()]
        record, species, _ = penguins[0]
        messy: dict[str, Any] = {name: f" {record[name]}".replace(".", ",") for name in NUMERIC_FEATURES}
        messy |= {"island": f"  {str(record['island']).upper()} ", "sex": f"{str(record['sex']).lower()} "}
        tip = "send the same record to your wrapper in a cell to see where it breaks"
        for each, expected, what in [*penguins, (messy, species, MESSY)]:
            judge_species(post_record(server, each, what, tip), each, expected, what)
        for field, value in BAD_FIELDS:
            what = f"{field}={value!r}"
            tip = "catch your wrapper's error and answer it with a 4xx (an HTTPException)"
            response = post_record(server, {**record, field: value}, what, tip)
            found = f"{response.status_code} {response.text[:150]}"
            if not 400 <= response.status_code < 500:
                raise CheckFailed(f"expected a 4xx naming {field!r} for {what}, found {found}: refuse it, never guess")
            if field not in response.text:
                expected = f"the {response.status_code} for {what} to name the field {field!r}"
                raise CheckFailed(f"expected {expected}, found {response.text[:150]}: answer the wrapper's message")
        if (status := get_status(server.port, "/health")) != 200:
            raise CheckFailed(f"expected GET /health to answer 200, found {status}: add a GET route at /health")
    passed(
        f"{path.name}: POST /predict gives {len(penguins)} real penguins their in-process species and reads a "
        "messy record; bad values get a 4xx naming the field; GET /health is 200"
    )


@functools.cache
def _confident_penguins() -> tuple[tuple[tuple[tuple[str, object], ...], str], ...]:
    """Per species, birds the wrapper names right with p >= CONFIDENCE: no sensible model disputes them."""
    from penguins.serving.predictor import PenguinPredictor
    from penguins.training import data

    frame = data.raw_as_contract(data.load_penguins_raw()).dropna()
    predictor = PenguinPredictor.load()
    chosen: list[tuple[tuple[tuple[str, object], ...], str]] = []
    for name, birds in frame.groupby("species", sort=True):
        records = data.to_records(birds.iloc[::7])
        chosen += [
            (tuple(record.items()), said.species)
            for record, said in zip(records, predictor.predict(records), strict=True)
            if said.species == name and max(said.probabilities.values()) >= CONFIDENCE
        ][:PER_SPECIES]
    return tuple(chosen)

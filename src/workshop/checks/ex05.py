"""Exercise 05, the service: POST /predict/species over HTTP, and a client that counts in batches."""

from __future__ import annotations

import functools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from workshop.checks.common import (
    CheckFailed,
    first_line,
    passed,
    require,
)

if TYPE_CHECKING:
    from penguins.serving.contract import Backend
    from workshop.server import Server


SPECIES_PATH = "/predict/species"
_SPECIES_LOGGED = re.compile(r"\bPOST /predict/species \d{3} [\d.]+ ms")  # penguins.serving.api's request log
_HEALTH_LOGGED = re.compile(r"\bGET /health \d{3} [\d.]+ ms")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")  # a traceback's last line
_RESTART = (
    "then run that cell and the cell that starts the server again: a running server keeps "
    "the my_service.py it started with"
)


def check_species_endpoint(server: Server) -> None:
    """POST /predict/species gives the in-process species, a 422 naming each bad field, and
    keeps the service's batch limit; everything over HTTP, against the student's own server."""
    require(server, 'start your service: server = start("my_service:app")')
    from penguins.client import InvalidInput
    from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD

    info = _service_model(server)
    limit = info["batch_limit"]
    records = _served_records()[:limit]
    response = _post_species(server, records, "real penguins")
    if response.status_code != 200:
        raise CheckFailed(
            f"real penguins got {response.status_code} ({response.text[:150]}), expected 200 "
            "with their species: predict with request.app.state.predictor"
        )
    _check_species_body(response.json(), records, info)

    bad = [CLEAN_RECORD, BAD_RECORD]
    response = _post_species(server, bad, "a batch with bad values ([CLEAN_RECORD, BAD_RECORD])")
    if response.status_code != 422:
        raise CheckFailed(
            f"a batch with bad values ([CLEAN_RECORD, BAD_RECORD]) got {response.status_code}, "
            "expected 422 naming each bad field: catch CleaningError, raise RequestValidationError"
        )
    detail = response.json().get("detail")
    if not isinstance(detail, list) or not all(isinstance(error, dict) for error in detail):
        raise CheckFailed(
            f"the 422's detail is {detail!r}, expected FastAPI's list of {{loc, msg, input}}: "
            "raise RequestValidationError([...]), so that clients learn which field to fix"
        )
    expected = _problems_named(bad)
    named = [where for where, _, _ in InvalidInput(detail).problems]
    if sorted(named) != sorted(expected):
        raise CheckFailed(
            f"the 422 names {named}, expected {expected}: one error per problem of "
            'error.problems, with loc ["body", problem.record, problem.field]'
        )

    too_many = _post_species(server, [CLEAN_RECORD] * (limit + 1), f"{limit + 1} records")
    if too_many.status_code != 422:
        raise CheckFailed(
            f"{limit + 1} records got {too_many.status_code}, but the service takes at most "
            f"{limit} (GET /model says batch_limit): keep Field(max_length=BATCH_LIMIT) on the list"
        )
    passed(
        f"POST {SPECIES_PATH}: {len(records)} penguins get their in-process species, bad values a 422 "
        f"naming {len(expected)} fields, {limit + 1} records a 422 (the limit is {limit})"
    )


def check_species_counts(
    species_counts: Callable[[str, list[dict[str, object]]], Mapping[str, int]], server: Server
) -> None:
    """The client counts species through the endpoint in as few calls as the batch limit allows."""
    require(server, "finish task 1 first: server is still ...")
    from penguins.client import InvalidInput, ServiceError

    info = _service_model(server)
    limit = info["batch_limit"]
    records = _counted_records(limit)
    expected = Counter(_in_process_species(info["backend"], records))
    since = len(server.logs())
    try:
        counts = species_counts(server.url, [dict(record) for record in records])
    except InvalidInput as error:
        where, why, _ = error.problems[0]
        raise CheckFailed(
            f"the service refused a call of species_counts ({where}: {why}): it takes at most "
            f"{limit} records per call (client.model()['batch_limit']): send them in chunks"
        ) from None
    except ServiceError as error:
        raise CheckFailed(f"species_counts failed talking to the service ({first_line(error)})") from None
    except Exception as error:  # whatever the student's function raises, the student needs the reason
        raise CheckFailed(f"species_counts raised {first_line(error)}") from None
    require(
        counts,
        "write the body of species_counts: ask the service in chunks of at most batch_limit "
        "records and add up the names",
    )
    calls = _logged_species_calls(server, since)
    if not isinstance(counts, Mapping):
        raise CheckFailed(
            f"species_counts must return a dict of species -> count, it returned a {type(counts).__name__}"
        )
    if calls == 0:
        raise CheckFailed(
            f"species_counts made no call to POST {SPECIES_PATH}: ask the service "
            "(SpeciesClient(url).species(...)), not a model of your own"
        )
    if dict(counts) != dict(expected):
        raise CheckFailed(
            f"species_counts says {_sorted(counts)} for these {len(records)} penguins, expected "
            f"{_sorted(expected)}: add up the names of every chunk, the last (shorter) one too"
        )
    needed = math.ceil(len(records) / limit)
    if calls > needed:
        raise CheckFailed(
            f"species_counts made {calls} calls for {len(records)} penguins, where {needed} calls of "
            f"up to {limit} carry them all: send chunks of batch_limit records, not a few at a time"
        )
    counted = ", ".join(f"{count} {name}" for name, count in _sorted(counts).items())
    passed(f"{len(records)} penguins counted in {calls} calls of at most {limit} records: {counted}")


def _service_model(server: Server) -> dict[str, Any]:
    """GET /model of the student's server; a stopped or broken server is the message."""
    from penguins.client import ServiceError
    from workshop.server import Server

    if not isinstance(server, Server):
        raise CheckFailed(f'expected the Server that start("my_service:app") returns, found {type(server).__name__}')
    if not server.running:
        raise CheckFailed(
            "your server is not running (it was stopped, or it crashed: server.logs() says why): "
            "run the cell that starts it again"
        )
    try:
        with server.client() as client:
            return client.model()
    except ServiceError as error:
        raise CheckFailed(
            f"GET /model failed ({first_line(error)}): build app with "
            "create_app(Settings(...)), which brings /model, /health and /predict"
        ) from None


def _post_species(server: Server, records: list[dict[str, Any]], what: str) -> Any:
    """POST the records to the endpoint; a missing route or a crash becomes the message."""
    import requests

    since = len(server.logs())
    try:
        response = requests.post(server.url + SPECIES_PATH, json=records, timeout=10)
    except requests.RequestException as error:
        raise CheckFailed(
            f"your server did not answer POST {SPECIES_PATH} ({first_line(error)}): server.logs() says why"
        ) from None
    if response.status_code in (404, 405):
        raise CheckFailed(
            f"your service has no POST {SPECIES_PATH} ({response.status_code}): declare it with "
            f'@app.post("{SPECIES_PATH}", ...) in my_service.py, {_RESTART}'
        )
    if response.status_code >= 500:
        logged, reason = _crash(server, since)
        if "Ellipsis" in logged:
            raise CheckFailed(
                f"not done yet: write the body of predict_species in my_service.py (it still returns ...), {_RESTART}"
            )
        raise CheckFailed(
            f"{what} crashed your endpoint ({response.status_code}; the server's log says "
            f"{reason}): server.logs() has the whole traceback"
        )
    return response


def _crash(server: Server, since: int) -> tuple[str, str]:
    """What the server logged after `since` and the last line of its traceback. Uvicorn logs
    the traceback just after it answers 500, so give it a moment to arrive."""
    deadline = time.monotonic() + 3
    while True:
        logged = server.logs()[since:]
        reasons = [line.strip() for line in logged.splitlines() if _EXCEPTION_LINE.match(line)]
        if reasons or time.monotonic() > deadline:
            return logged, reasons[-1] if reasons else "nothing yet"
        time.sleep(0.05)


def _check_species_body(body: Any, records: list[dict[str, object]], info: dict[str, Any]) -> None:
    species = body.get("species") if isinstance(body, dict) else None
    if not isinstance(species, list):
        raise CheckFailed(
            f'expected {{"species": [...], "model_version": ...}}, found {str(body)[:120]}: '
            "return SpeciesOut(species=[...], model_version=...)"
        )
    if len(species) != len(records):
        raise CheckFailed(f"{len(records)} records got {len(species)} names: one name per record, in the order sent")
    expected = _in_process_species(info["backend"], records)
    for index, (got, wanted) in enumerate(zip(species, expected, strict=True)):
        if got != wanted:
            raise CheckFailed(
                f"record {index} ({records[index]}) is {wanted} in process, your endpoint says {got!r}: "
                "predict all records with request.app.state.predictor and keep their order"
            )
    if body.get("model_version") != info["model_version"]:
        raise CheckFailed(
            f"the answer says model_version {body.get('model_version')!r}, the service serves "
            f"{info['model_version']!r}: take it from the predictor (predictor.model_version)"
        )


def _problems_named(records: list[dict[str, object]]) -> list[str]:
    """Where the wrapper's cleaning finds a problem in these records, as the client names it."""
    from penguins.serving.cleaning import DEFAULT_CLEANER, CleaningError

    try:
        DEFAULT_CLEANER.clean(records)
    except CleaningError as error:
        return [f"record {problem.record}, field {problem.field}" for problem in error.problems]
    return []


def _logged_species_calls(server: Server, since: int) -> int:
    """How many POST /predict/species the server logged after `since`. One more request first,
    GET /health, whose line in the log shows that every earlier request has been logged."""
    with server.client() as client:
        client.health()
    deadline = time.monotonic() + 3
    while not _HEALTH_LOGGED.search(server.logs()[since:]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(_SPECIES_LOGGED.findall(server.logs()[since:]))


@functools.cache
def _data_records() -> tuple[tuple[tuple[str, object], ...], ...]:
    from penguins.training import data

    records = data.to_records(data.raw_as_contract(data.load_penguins_raw()))
    return tuple(tuple(record.items()) for record in records)


def _served_records() -> list[dict[str, object]]:
    """Raw records as clients send them: the messy examples, then real penguins of every species."""
    from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS

    real = [dict(items) for items in _data_records()[5::23]]
    return [dict(CLEAN_RECORD), *(dict(record) for record in MESSY_RECORDS), *real]


def _counted_records(limit: int) -> list[dict[str, object]]:
    """Real penguins spread over the data set: two and a half batches' worth (all 344 at most)."""
    everything = _data_records()
    wanted = min(len(everything), 2 * limit + max(1, limit // 2))
    return [dict(everything[index * len(everything) // wanted]) for index in range(wanted)]


@functools.cache
def _predictor(backend: Backend) -> Any:
    from penguins.serving.predictor import PenguinPredictor

    return PenguinPredictor.load(backend)


def _in_process_species(backend: Backend, records: list[dict[str, object]]) -> list[str]:
    """The species the wrapper gives these records in this process: what the service must say."""
    return [prediction.species for prediction in _predictor(backend).predict(records)]


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return {name: counts[name] for name in sorted(counts)}

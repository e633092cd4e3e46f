"""Exercise 05, the service: the student's own my_service.py over HTTP (from scratch); then POST
/predict/species in the package's app, and a client that counts in batches."""

from __future__ import annotations

import functools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.checks.common import (
    PLACEHOLDER,
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
    "the species_service.py it started with"
)


def check_species_endpoint(server: Server) -> None:
    """POST /predict/species gives the in-process species, a 422 naming each bad field, and
    keeps the service's batch limit; everything over HTTP, against the student's own server."""
    require(server, 'start your service: server = start("species_service:app")')
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
    require(server, "finish task 2 first: server is still ...")
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
        raise CheckFailed(
            f'expected the Server that start("species_service:app") returns, found {type(server).__name__}'
        )
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
            f'@app.post("{SPECIES_PATH}", ...) in species_service.py, {_RESTART}'
        )
    if response.status_code >= 500:
        logged, reason = _crash(server, since)
        if "Ellipsis" in logged:
            raise CheckFailed(
                "not done yet: write the body of predict_species in species_service.py (it still returns ...), "
                f"{_RESTART}"
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


# Task 1 (from scratch): the student's own my_service.py, judged only by what it answers.
#
# The check starts the file's `app` in a child server (workshop.server, as the notebooks do),
# then talks to it over HTTP on loopback: real penguins must get the species this process's
# PenguinPredictor gives them, a messy record the same species as its clean version, a bad
# value a 4xx naming its field, and GET /health a 200. The style is the student's: a pydantic
# model, a dict or the Request, the model loaded at import or in a lifespan, 400 or 422, extra
# keys in the answer. The birds are ones every sensible model of the six fields agrees on, so
# the student's own ex04 wrapper passes as well as the package's.

SERVICE_PENGUINS = 3  # per species
SERVICE_CONFIDENCE = 0.99  # the in-process probability of the birds the check asks about
SERVICE_BAD_FIELDS = (("bill_depth_mm", "deep"), ("flipper_length_mm", "12,3,4"))  # as exercise 04 refuses them
_NUMBERS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")


def check_service(path: str | Path = "my_service.py") -> None:
    """The file's `app`, started in a server of its own, answers one raw record with its species."""
    from workshop.server import Server, ServerFailed

    path = Path(path)
    _require_written(path)
    server = Server(f"{path.stem}:app", app_dir=path.parent)
    try:
        server.start(echo=False)
    except ServerFailed:
        raise CheckFailed(_start_failure(path, server.logs())) from None
    try:
        records, species = _service_penguins()
        for record, expected in zip(records, species, strict=True):
            _check_species_of(server, record, expected, "a real penguin")
        messy = _messy(records[0])
        _check_species_of(server, messy, species[0], "a messy but valid record (decimal commas, odd case, spaces)")
        for field, value in SERVICE_BAD_FIELDS:
            _check_bad_field(server, {**records[0], field: value}, field, value)
        _check_health(server)
    finally:
        server.stop()
    passed(
        f"{path.name}: POST /predict gives {len(records)} real penguins their in-process species and reads a "
        f"messy record; bad values get a 4xx naming {' and '.join(f for f, _ in SERVICE_BAD_FIELDS)}; "
        "GET /health is 200"
    )


def _require_written(path: Path) -> None:
    """The file exists, and its `app` is no longer the exercise's placeholder `app = ...`."""
    import ast

    if not path.is_file():
        raise CheckFailed(
            f"not done yet: expected the file {path} (in {path.resolve().parent}), found none: "
            "run the %%writefile cell that writes it"
        )
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return  # the server's start-up names the line
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "app" for target in node.targets)
            and isinstance(node.value, ast.Constant)
            and node.value.value is PLACEHOLDER
        ):
            raise CheckFailed(f"not done yet: {path.name} still says app = ...: build your FastAPI app there")


def _start_failure(path: Path, logs: str) -> str:
    """Why the server did not start: the last error it logged and its last line."""
    lines = [line.strip() for line in logs.splitlines() if line.strip()]
    last = lines[-1] if lines else "nothing"
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    said = f"{errors[-1]}, then {last}" if errors and errors[-1] != last else last
    return (
        f"expected {path.name} to start a server, but it stopped before it answered; its log ends: {said} "
        f"(fix what the error names; `python -m uvicorn {path.stem}:app` in a terminal in {path.name}'s "
        "folder shows the whole traceback)"
    )


def _post(server: Server, record: dict[str, Any], what: str, on_crash: str) -> Any:
    """POST one record to /predict; no route, or a crash (with `on_crash`, what to try), is the message."""
    import requests

    since = len(server.logs())
    try:
        response = requests.post(server.url + "/predict", json=record, timeout=10)
    except requests.RequestException as error:
        raise CheckFailed(
            f"expected an answer to {what} within 10 s, found none ({first_line(error)}): send the same record "
            "to your wrapper in a cell; it should answer in well under a second"
        ) from None
    if response.status_code in (404, 405):
        raise CheckFailed(
            f"expected POST /predict to answer {what}, found {response.status_code}: declare a POST route "
            "at the path /predict on app"
        )
    if response.status_code >= 500:
        _, reason = _crash(server, since)
        raise CheckFailed(
            f"expected an answer to {what} ({record}), found {response.status_code} (the server's log says "
            f"{reason}): {on_crash}"
        )
    return response


def _check_species_of(server: Server, record: dict[str, Any], expected: str, what: str) -> None:
    response = _post(server, record, what, "send the same record to your wrapper in a cell to see where it breaks")
    if not 200 <= response.status_code < 300:
        raise CheckFailed(
            f"expected the species of {what} ({record}), found {response.status_code} {response.text[:200]}: "
            'take the record as a person types it (numbers may be text like "39,1") and let your wrapper clean it'
        )
    species = _species_in(response)
    if species != expected:
        raise CheckFailed(
            f"expected {expected!r} for {what} ({record}), as the wrapper says in this process, found "
            f"{species!r}: send the record to the wrapper as it came, all six fields"
        )


def _species_in(response: Any) -> object:
    """The answer's "species", a str; a list of one name is named as the mistake it is."""
    try:
        body = response.json()
    except ValueError:
        body = None
    species = body.get("species") if isinstance(body, dict) else None
    if species is None:
        raise CheckFailed(
            f'expected a JSON object with the key "species", found {response.text[:150]}: answer with a '
            'dict such as {"species": "Adelie"}'
        )
    if isinstance(species, list):
        raise CheckFailed(
            f'expected "species" to be one name (a str) for the one record sent, found a list {species}: '
            "take the first (the only) prediction"
        )
    return species


def _check_bad_field(server: Server, record: dict[str, Any], field: str, value: str) -> None:
    response = _post(
        server, record, f"{field}={value!r}", "catch your wrapper's error and answer it with a 4xx (an HTTPException)"
    )
    if not 400 <= response.status_code < 500:
        raise CheckFailed(
            f"expected a 4xx naming {field!r} for {field}={value!r}, found {response.status_code} "
            f"{response.text[:150]}: a value that is not a number must be refused, not guessed"
        )
    if field not in response.text:
        raise CheckFailed(
            f"expected the {response.status_code} for {field}={value!r} to name the field {field!r}, found "
            f"{response.text[:150]}: put the wrapper's error message (it names the field) in the answer"
        )


def _check_health(server: Server) -> None:
    from workshop.server import get_status

    status = get_status(server.port, "/health")
    if status != 200:
        raise CheckFailed(
            f"expected GET /health to answer 200, found {status}: add a GET route at /health that "
            "answers as soon as the app can predict"
        )


@functools.cache
def _confident_penguins() -> tuple[tuple[tuple[tuple[str, object], ...], str], ...]:
    """Complete raw records of every species, each one the in-process wrapper names right and
    with a probability of at least SERVICE_CONFIDENCE: birds no sensible model disputes."""
    from penguins.serving.predictor import PenguinPredictor
    from penguins.training import data

    frame = data.raw_as_contract(data.load_penguins_raw()).dropna()
    predictor = PenguinPredictor.load()
    chosen: list[tuple[tuple[tuple[str, object], ...], str]] = []
    for name, birds in frame.groupby("species", sort=True):
        records = data.to_records(birds.iloc[::7])
        for record, prediction in zip(records, predictor.predict(records), strict=True):
            sure = max(prediction.probabilities.values()) >= SERVICE_CONFIDENCE
            if prediction.species == name and sure and sum(s == name for _, s in chosen) < SERVICE_PENGUINS:
                chosen.append((tuple(record.items()), prediction.species))
    return tuple(chosen)


def _service_penguins() -> tuple[list[dict[str, object]], list[str]]:
    """Fresh raw records and the species the in-process wrapper gives them."""
    chosen = _confident_penguins()
    return [dict(items) for items, _ in chosen], [species for _, species in chosen]


def _messy(record: dict[str, object]) -> dict[str, object]:
    """The same bird as a person types it: decimal commas, shouted or lower case, stray spaces."""
    messy: dict[str, object] = {name: f" {record[name]}".replace(".", ",") for name in _NUMBERS}
    messy["island"] = f"  {str(record['island']).upper()} "
    messy["sex"] = f"{str(record['sex']).lower()} "
    return messy

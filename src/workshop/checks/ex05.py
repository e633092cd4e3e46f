"""Exercise 05, the service: the student's own my_service.py, judged over HTTP."""

from __future__ import annotations

import ast
import functools
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.checks.common import CheckFailed, first_line, passed, require_file

if TYPE_CHECKING:
    from workshop.server import Server


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")  # a traceback's last line


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
    path = Path(path)
    require_file(path, "build your FastAPI app there", "app")
    server = start_app(path)
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


def start_app(path: Path) -> Server:
    """The student's `app` in a server of its own (exercises 05 and 08); a start that fails says why."""
    from workshop.server import Server, ServerFailed

    if _runs_uvicorn_at_import(path):  # the server would stop without a word after its 30 s wait: say why now
        raise CheckFailed(_start_failure(path, ""))
    server = Server(f"{path.stem}:app", app_dir=path.parent)
    try:
        server.start(echo=False)
    except ServerFailed:
        raise CheckFailed(_start_failure(path, server.logs())) from None
    return server


def _runs_uvicorn_at_import(path: Path) -> bool:
    """Whether the module calls uvicorn.run (or a `run` imported from uvicorn) at its top level,
    outside `if __name__ == "__main__":`: importing it then starts a second server."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return False
    from_uvicorn = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "uvicorn"
        for alias in node.names
        if alias.name == "run"
    }
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "run" and ast.unparse(func.value) == "uvicorn":
                return True
            if isinstance(func, ast.Name) and func.id in from_uvicorn:
                return True
    return False


def _start_failure(path: Path, logs: str) -> str:
    """Why the server did not start: uvicorn.run at import, or the last error it logged and its last line."""
    if _runs_uvicorn_at_import(path):
        return (
            f"expected {path.name} to start a server, but it stopped before it answered, with no error: importing "
            "it calls uvicorn.run, which starts a server of its own inside the one that imports the app. Keep "
            'that call under if __name__ == "__main__": so it runs only when the file is started as a script'
        )
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

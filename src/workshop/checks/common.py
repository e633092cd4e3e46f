"""What every check shares: one failure shape (expected / found / try), "not done yet" while the
placeholder `...` stands, and the student's app in a server of its own. Every exercise imports this
module, so heavy libraries are imported inside the checks that need them."""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

    from penguins.client import PenguinClient
    from workshop.paced_load import Load
    from workshop.server import Server

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")  # a traceback's last line


class CheckFailed(AssertionError):
    """An AssertionError for pytest, one red line in a notebook (IPython shows `_render_traceback_`)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mCheckFailed\x1b[0m: {self}"]


def problem(expected: str, found: str, tip: str, what: str = "") -> CheckFailed:
    """The one shape of a failure: expected, found, one thing to try (never the answer)."""
    return CheckFailed(f"{what}: " * bool(what) + f"expected {expected}; found {found}. Try: {tip}")


def require(value: object, todo: str) -> None:
    if value is ...:
        raise CheckFailed(f"not done yet: {todo}")


def require_file(path: Path, todo: str, name: str | None = None) -> None:
    """ "Not done yet" while the file is missing, or its top-level `name = ...` (any name) is."""
    if not path.is_file():
        where = f"{path} (in {path.resolve().parent})"
        raise CheckFailed(f"not done yet: expected the file {where}, found none: run the %%writefile cell")
    for node in _parsed(path):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is ...:
            found = ast.unparse(node.targets[0])
            if name in (None, found):
                raise CheckFailed(f"not done yet: {path.name} still says {found} = ...: {todo}")


def written(path: Path, what: str) -> str:
    """A non-Python %%writefile file's text; "not done yet" while missing, comments only, or TODO."""
    from workshop.exercises import TEXT_TODO

    require_file(path, what, name="")
    text = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    if TEXT_TODO in lines or all(not line or line.startswith("#") for line in lines):
        cell = f"the %%writefile {path.name} cell"
        raise CheckFailed(f"not done yet: write {what} in place of the line {TEXT_TODO} in {cell}, then run both")
    return text


def _parsed(path: Path) -> list[ast.stmt]:
    """The module's top-level statements; none when it does not parse (the server's start-up names the line)."""
    try:
        return ast.parse(path.read_text(encoding="utf-8")).body
    except SyntaxError:
        return []


def passed(message: str) -> None:
    print(f"✓ {message}")


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def call(function: Callable[..., Any], expected: str, advice: str, *args: Any) -> Any:
    """The student's function called; whatever it raises is the finding."""
    try:
        return function(*args)
    except Exception as error:
        raise CheckFailed(f"expected {expected}, but it raised {first_line(error)}: {advice}") from None


def post_record(server: Server, record: dict[str, Any], what: str, on_crash: str) -> requests.Response:
    """POST one record to the student's /predict; no answer, no route, or a crash is the finding."""
    import requests

    since = len(server.logs())
    try:
        response = requests.post(server.url + "/predict", json=record, timeout=10)
    except requests.RequestException as error:
        found = f"none ({first_line(error)}): send the same record to your wrapper in a cell"
        raise CheckFailed(f"expected an answer to {what} within 10 s, found {found}") from None
    status = response.status_code
    if status in (404, 405):
        raise CheckFailed(f"expected POST /predict to answer {what}, found {status}: declare a POST route at /predict")
    if status >= 500:
        deadline = time.monotonic() + 3  # uvicorn logs the traceback just after it answers 500
        while not (logged := last_error(server.logs()[since:])) and time.monotonic() < deadline:
            time.sleep(0.05)
        said = f"{status} (the server's log says {logged or 'nothing yet'})"
        raise CheckFailed(f"expected an answer to {what} ({record}), found {said}: {on_crash}")
    return response


def judge_species(response: requests.Response, record: object, expected: str | None, what: str, tip: str = "") -> None:
    """A 2xx JSON object whose "species" is one name (the `expected` one); `tip` replaces the advice."""
    try:
        body = response.json()
    except ValueError:
        body = None
    species = body.get("species") if isinstance(body, dict) else None
    if not 200 <= response.status_code < 300:
        typed = 'take the record as typed (numbers may be text like "39,1") and let your wrapper clean it'
        said = (f"the species of {what} ({record})", f"{response.status_code} {response.text[:200]}", typed)
    elif species is None:
        said = ('a JSON object with the key "species"', response.text[:150], 'answer {"species": "Adelie"}')
    elif isinstance(species, list):
        said = ('"species" to be one name (a str) for the one record sent', f"a list {species}", "take the first one")
    elif expected is not None and species != expected:
        said = (f"{expected!r} for {what} ({record}) as in process", repr(species), "send all six fields as they came")
    else:
        return
    raise CheckFailed(f"expected {said[0]}, found {said[1]}: {tip or said[2]}")


@contextmanager
def started(path: Path, todo: str, name: str | None = None) -> Iterator[Server]:
    """The student's `app` in a server of its own; a start that fails says why."""
    from workshop.server import Server, ServerFailed

    require_file(path, todo, name)
    stopped = f"expected {path.name} to start a server, but it stopped before it answered"
    body = _parsed(path)
    runs = {"uvicorn.run"} | {  # a top-level uvicorn.run starts a second server on import, which then waits 30 s
        alias.asname or alias.name
        for node in body
        if isinstance(node, ast.ImportFrom) and node.module == "uvicorn"
        for alias in node.names
        if alias.name == "run"
    }
    if any(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and ast.unparse(n.value.func) in runs for n in body
    ):
        raise CheckFailed(
            f"{stopped}, with no error: importing it calls uvicorn.run, which starts a server inside the one "
            'that imports the app. Keep that call under if __name__ == "__main__": so it runs only as a script'
        )
    server = Server(f"{path.stem}:app", app_dir=path.parent)
    try:
        server.start(echo=False)
    except ServerFailed:
        lines = [line.strip() for line in server.logs().splitlines() if line.strip()] or ["nothing"]
        error = last_error(server.logs())
        said = f"{error}, then {lines[-1]}" if error and error != lines[-1] else lines[-1]
        tip = f"fix what the error names; `python -m uvicorn {path.stem}:app` in its folder shows the traceback"
        raise CheckFailed(f"{stopped}; its log ends: {said} ({tip})") from None
    try:
        yield server
    finally:
        server.stop()


def last_error(logs: str) -> str:
    """The last line of the last traceback in a server's log; "" if there is none."""
    errors = [line for line in map(str.strip, logs.splitlines()) if _EXCEPTION_LINE.match(line)]
    return errors[-1] if errors else ""


def yaml_documents(text: str) -> list[Any]:
    """The file's YAML documents; a file PyYAML cannot read is the finding."""
    import yaml

    try:
        return [document for document in yaml.safe_load_all(text) if document is not None]
    except yaml.YAMLError as error:
        tip = "indent with spaces only, each level two deeper than the key above it"
        raise problem("a file PyYAML can read", " ".join(str(error).split())[:300], tip, "the YAML") from None


def survives(make_client: Callable[[], PenguinClient], record: object, what: str, tip: str, **load: Any) -> Load:
    """A paced load on /predict, with its fault (`at`), in which no request may fail."""
    from workshop import paced_load

    done = paced_load.run(make_client, "/predict", record, **load)
    if done.failed:
        raise problem("0 failed requests", f"{done.failed} of {done.sent} failed:\n{done.table()}\n", tip, what)
    return done

"""Real servers for the live tests: a stage's server (`python -m workshop serve 04`, what
`make serve-04` runs) started by workshop.server, the helper the notebooks use, on a free
loopback port (never a stage's fixed port), stopped when the test is done."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import ROOT
from workshop.server import Server

START_TIMEOUT = 60.0


def serve_command(target: str, *args: str, port: int | None = None) -> list[str]:
    """`python -m workshop serve TARGET ARGS [--port PORT]`, to run by hand (a failing start-up)."""
    return [sys.executable, "-m", "workshop", "serve", target, *args, *(["--port", str(port)] if port else [])]


@contextmanager
def live_server(target: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A ready server for `target` ("04") started with `args` (e.g. "--artifacts", dir).

    Its output goes to a file, not a pipe: a pipe nobody reads fills up under load (one log
    line per request) and then blocks the server. server.logs() still holds it once stopped.
    """
    with Server(target, args=args, env=env, cwd=ROOT).start(START_TIMEOUT, echo=False) as server:
        yield server

"""What every request goes through first: a request id, one log line, its count, and a 500
of one line (never a traceback) when a bug crashes it.

The request id follows one call through every service it passes: a caller's X-Request-ID is
kept when it is a safe token (REQUEST_ID: it goes into log lines and headers), else a new one
is made; every response carries it back, the 500 of a crash too. The log line says method,
path, status, latency and the id (the JSON log format has them as fields).

One plain ASGI middleware (not BaseHTTPMiddleware, nor a stack of middlewares) because it runs
on every request and should cost microseconds. The body limit is FastAPI's own (max_body_size).
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from penguins.serving.api.errors import SafeJSONResponse
from penguins.serving.metrics import UNMATCHED, Meter

log = logging.getLogger("penguins.serving.api")

REQUEST_ID_HEADER = b"x-request-id"
# What a request id may be: short, and nothing that could forge a log line or a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
CRASHED = "internal error: the server's log has the details"


class RequestGate:
    """Every request's id, log line and count; see the module docstring."""

    def __init__(self, app: ASGIApp, metrics: Meter) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status, started = time.perf_counter(), 500, False
        request_id = _request_id(scope)
        header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_and_note(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            log.exception("%s %s crashed (request %s)", scope["method"], scope["path"], request_id)
            if started:
                raise
            await SafeJSONResponse({"detail": CRASHED}, 500)(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - start
            self.metrics.request(getattr(scope.get("route"), "path", UNMATCHED), scope["method"], status, seconds)
            if log.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                    "request_id": request_id,
                }
                log.info("%s %s %d %.1f ms %s", *fields.values(), extra=fields)


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a safe token, else a new one (32 hex digits)."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            sent: str = value.decode("latin-1")
            if REQUEST_ID.fullmatch(sent):
                return sent
            break
    return secrets.token_hex(16)

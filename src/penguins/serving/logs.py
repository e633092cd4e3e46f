"""The service's log lines: plain text for a person at a terminal, or one JSON object per line
(PENGUINS_LOG_FORMAT=json) for a log collector that indexes fields rather than parsing text.

A request's line also has its fields (REQUEST_FIELDS) as record attributes, which the JSON form
writes as keys, so a search for one request id finds its line in every service it passed.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Literal

LogFormat = Literal["text", "json"]
# The attributes a request's line carries (RequestGate sets them on the record it hands over).
REQUEST_FIELDS = ("method", "path", "status", "ms", "request_id")
_OURS = "_penguins_handler"  # marks the handler configure() installed, so a later call can change it
# json.dumps with options builds an encoder per call: one, made once, is ~1 µs less per line.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    request's fields when it has them."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in REQUEST_FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODE(line)


def configure(level: str, form: LogFormat = "text") -> None:
    """The penguins loggers write to stderr, as uvicorn writes its own lines, unless the host
    program set up handlers of its own (then it decides where and how)."""
    logger = logging.getLogger("penguins")
    ours = [handler for handler in logger.handlers if getattr(handler, _OURS, False)]
    if not logger.handlers:
        handler: logging.Handler = logging.StreamHandler()
        setattr(handler, _OURS, True)
        logger.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(JsonFormatter() if form == "json" else logging.Formatter("%(levelname)s:     %(message)s"))
    logger.setLevel(level.upper())

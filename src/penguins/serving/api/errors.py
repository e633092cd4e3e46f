"""One serving error type, carrying its status, and the one handler that answers it.

Every 4xx the service gives itself is a ServingError (a refusal, a body that is not JSON, a
missing key, a model not loaded yet), answered in its route family's shape: FastAPI's
`{"detail": ...}`, or the Open Inference Protocol's `{"error": "..."}` under /v2, as MLServer
does with its one exception type and handler.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from penguins.serving.cleaning import RECORD_FIELD, CleaningError

V2_PREFIX = "/v2"


class ServingError(Exception):
    """A request the service will not answer: its status, what to tell the client, headers."""

    def __init__(
        self,
        status: int,
        detail: str | list[dict[str, Any]],
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        self.status, self.detail, self.headers = status, detail, headers
        super().__init__(message or (detail if isinstance(detail, str) else "; ".join(i["msg"] for i in detail)))

    @classmethod
    def refused(cls, error: CleaningError) -> ServingError:
        """Cleaning's refusal as a 422: each problem's code, where it is (body, the record's
        index in a batch, the field), why, and what was sent. The protocol's 400 says the same
        sentences (see handle)."""
        items = [
            {
                "type": problem.code,
                "loc": ["body", *([] if error.one_record else [problem.record])]
                + ([] if problem.field == RECORD_FIELD else [problem.field]),
                "msg": problem.reason,
                "input": problem.value,
            }
            for problem in error.problems
        ]
        return cls(422, items, message="; ".join(str(problem) for problem in error.problems))


class SafeJSONResponse(JSONResponse):
    """JSON that renders whatever the client sent back to it: ASCII-escaped, so an echoed lone
    surrogate ("\\ud800" is valid JSON text) cannot turn a 4xx into a 500; a number no float
    holds (1e400 reads as infinity) as its text, which strict JSON (and many clients) needs;
    anything else JSON has no type for (a NaN token kept by read_json) as its text too."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            _finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":"), default=str
        ).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def handle(request: Request, error: Exception) -> Response:
    """The one handler: a ServingError in its route family's shape."""
    assert isinstance(error, ServingError)  # registered for ServingError only
    if request.url.path.startswith(V2_PREFIX):  # the protocol has no 422: what cannot be answered is a 400
        return SafeJSONResponse({"error": str(error)}, 400 if error.status == 422 else error.status, error.headers)
    return SafeJSONResponse({"detail": error.detail}, error.status, error.headers)

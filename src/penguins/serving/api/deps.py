"""What the routes share (the full-stack-fastapi-template way: a dependency with an `Annotated`
alias): the loaded model with its settings and counters (one dependency: FastAPI solves each
one per request), the request body read as JSON, the one record limit, the API key.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from pydantic import TypeAdapter, ValidationError

from penguins.serving.api.errors import ServingError
from penguins.serving.cleaning import CleaningError, read_json
from penguins.serving.metrics import Meter
from penguins.serving.predictor import PenguinPredictor, Predictions
from penguins.serving.settings import Settings

T = TypeVar("T")
API_KEY_HEADER = "X-API-Key"
MISSING_OR_WRONG = f"missing or wrong {API_KEY_HEADER}"
NOT_LOADED = "the model is not loaded yet: try again in a moment"
# Where the model runs. The endpoints are `async def`, so FastAPI calls them on the event loop,
# the one thread that serves every request. An ONNX backend answers up to INLINE_RECORDS records
# in about 0.1-0.3 ms, no more than the hop to another thread and back costs (~0.1 ms), so they
# run right there. A bigger batch (up to 1,000 records: 2-6 ms) or the pickled scikit-learn
# pipeline (milliseconds a call) would stall every other request meanwhile, so it runs in
# FastAPI's thread pool, as a plain `def` endpoint would, and the loop keeps serving.
IN_THREAD_POOL = frozenset({"sklearn-pickle"})
INLINE_RECORDS = 100


@dataclass(frozen=True)
class Model:
    """What a prediction route works with once the model is loaded: the predictor, the settings
    and the counters (app.state.model, set at start-up)."""

    predictor: PenguinPredictor
    settings: Settings
    metrics: Meter

    async def answer(self, call: Callable[[PenguinPredictor], Predictions], records: int = 1) -> Predictions:
        """`call(predictor)` for `records` records where it costs least (see INLINE_RECORDS), its
        answers or its refusals counted: the one place a prediction is made and counted."""
        try:
            if records > INLINE_RECORDS or self.predictor.backend_name in IN_THREAD_POOL:
                predictions = await run_in_threadpool(call, self.predictor)
            else:
                predictions = call(self.predictor)
        except CleaningError as refused:
            self.metrics.refused(refused)
            raise ServingError.refused(refused) from None
        self.metrics.answered(predictions.species, predictions.warnings)
        return predictions


def model_of(request: Request) -> Model:
    """The app's model; a 503 while it is not loaded. The prediction routes call it themselves:
    FastAPI solving it as a dependency cost ~40 µs a request in process (bench.ab: the whole A/B)."""
    model: Model | None = request.app.state.model
    if model is None:
        raise ServingError(503, NOT_LOADED)
    return model


async def loaded(request: Request) -> Model:
    return model_of(request)


Loaded = Annotated[Model, Depends(loaded)]


async def json_body(request: Request, protocol: bool = False) -> Any:
    """The body as JSON, declared so (else 415, saying which header to send) and read by
    cleaning's read_json: NaN and Infinity stay tokens, refused by name (not_json_number),
    rather than floats that would pass for missing values. The Open Inference Protocol's
    clients (`protocol`) need not declare it."""
    sent = request.headers.get("content-type", "")
    media = sent.split(";")[0].strip().lower()
    if not (protocol or media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        got = f"Content-Type {sent!r}" if sent else "no Content-Type"
        raise ServingError(415, f"send the records as JSON with the header Content-Type: application/json (got {got})")
    body = await request.body()
    try:
        return read_json(body)
    except UnicodeDecodeError:
        raise ServingError(400, "the body is not UTF-8 text") from None
    except ValueError as error:
        pos = getattr(error, "pos", 0)
        reason = getattr(error, "msg", str(error))
        item = {"type": "json_invalid", "loc": ["body", pos], "msg": f"the body is not JSON: {reason}", "input": {}}
        raise ServingError(422, [{**item, "ctx": {"error": reason}}]) from None


def validated(adapter: TypeAdapter[T], body: object) -> T:
    """`body` as pydantic types it (the bare model's records, the protocol's request), or every
    error as a 422 in FastAPI's shape, its message naming each place (the protocol's 400 says it)."""
    try:
        return adapter.validate_python(body)
    except ValidationError as error:
        found = error.errors(include_url=False)
        items = [{"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"], "input": e["input"]} for e in found]
        said = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in found)
        raise ServingError(422, items, message=said) from None


def request_body(schema: dict[str, Any], examples: dict[str, Any] | None = None) -> dict[str, Any]:
    """A route's request body as /docs shows it (its `openapi_extra`): the routes read their
    bodies themselves, so FastAPI does not know it, and it is stated here."""
    content = {"schema": schema, **({"examples": examples} if examples else {})}
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def many(records: Any, limit: int, what: str = "body") -> list[Any]:
    """The one record limit of every route that takes many records: a list of 1 to `limit`.
    A batch over it is not echoed back whole (it may be a megabyte): its size says enough."""
    if not isinstance(records, list):
        raise ServingError(422, [_item("list_type", what, "must be a list of records", records)])
    if not records:
        raise ServingError(422, [_item("too_short", what, "must hold at least 1 record", [])])
    if len(records) > limit:
        refusal = _item("too_long", what, f"must hold at most {limit} items (records)", f"{len(records)} records")
        raise ServingError(422, [refusal])
    return records


def _item(code: str, where: str, msg: str, value: object) -> dict[str, Any]:
    return {"type": code, "loc": [where], "msg": f"{where}: {msg}" if where != "body" else msg, "input": value}


def guarded(settings: Settings) -> dict[str, Any]:
    """What every route that takes records is included with: the key first (PENGUINS_API_KEY,
    when the service has one), then the body, held to the one body limit. The key's check takes
    the same time whatever was sent (`secrets.compare_digest`); FastAPI's own APIKeyHeader reads
    the header, so /docs shows the key, and its 401, exactly when it is asked for."""
    limit: dict[str, Any] = {"max_body_size": settings.max_body_bytes}
    if settings.api_key is None:
        return limit
    expected = settings.api_key.get_secret_value().encode()
    header = APIKeyHeader(
        name=API_KEY_HEADER, auto_error=False, description="the key the service was given (PENGUINS_API_KEY)"
    )

    async def check(sent: Annotated[str | None, Depends(header)]) -> None:
        """A 401 naming the header, before the body is read (the room's proxy answers the same)."""
        if sent is None or not secrets.compare_digest(sent.encode(), expected):
            raise ServingError(401, MISSING_OR_WRONG, headers={"WWW-Authenticate": "APIKey"})

    denied = {401: {"description": f"{MISSING_OR_WRONG} (PENGUINS_API_KEY)"}}
    return limit | {"dependencies": [Depends(check)], "responses": denied}

"""The service (lecture stage 05): a FastAPI app around one PenguinPredictor.

`create_app(settings)` builds it; `python -m penguins serve` and the container's
`uvicorn penguins.serving.app:app` both call it, so there is one service whatever starts it.

HTTP only: a request model, `predictor.predict_one` or `predictor.predict`, a response model.
The request models check the shape of a request (an object; a list of at most the batch limit)
and hand every value on exactly as the client sent it: whether "46,5", "NA" or -3 is acceptable
is penguins.serving.cleaning's call, and so is the schema /docs shows for each field (written
from the same rules). Whatever the wrapper refuses comes back through one handler as a 422 in
FastAPI's error shape, `detail: [{type, loc, msg, input}]`, with cleaning's code as the `type`.
In `features` mode (stage 03) the same routes serve the bare model instead: six clean, typed
features, so a messy record fails with a 422, which is why stage 04 wraps the model.

Beside them: /metrics for Prometheus (penguins.serving.metrics, counted in RequestGate and by
the routes), and in raw mode the Open Inference Protocol's /v2 routes (penguins.serving.v2).

This module is on the serving path: no torch, scikit-learn or pandas (the pickle backend
brings scikit-learn in by itself, only when it is chosen). Annotations are evaluated (no
`from __future__ import annotations`): FastAPI reads them.
"""

import json
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

import numpy as np
from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from penguins import __version__
from penguins.serving import api_key, logs, v2
from penguins.serving.cleaning import (
    RECORD_FIELD,
    CleaningError,
    FieldWarning,
    WarningCode,
    json_schema,
    read_json,
    typed_batch,
)
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, INCOMPLETE_RECORD, MESSY_RECORDS
from penguins.serving.metrics import CONTENT_TYPE, UNMATCHED, Metrics
from penguins.serving.predictor import PenguinPredictor, Prediction, Predictions
from penguins.serving.running import loaded, run
from penguins.serving.settings import Settings

log = logging.getLogger("penguins.serving.api")

_FLOAT32_MAX = float(np.finfo(np.float32).max)


# ---------------------------------------------------------------- request and response models


def _unicode(value: str) -> str:
    """Text that is not Unicode is refused as a matter of encoding: JSON can escape half a
    surrogate pair ("\\ud800"), which no UTF-8 model input (nor response) can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text that is not valid Unicode (half of a surrogate pair)") from None
    return value


def _raw_field(name: str, description: str) -> Any:
    """A raw field: any JSON value, passed on as sent; its schema is cleaning's rules for `name`."""
    return Field(None, description=description, json_schema_extra=json_schema(name))


class RawRecord(BaseModel):
    """One penguin as a client sends it: any field may be missing, text, a number or null.

    Values are `object`: taken as they come, judged by cleaning. So are fields beyond these six
    (extra="allow"): cleaning refuses each by name (unknown_field), which the schema states.
    """

    model_config = ConfigDict(extra="allow", title="RawRecord", json_schema_extra={"additionalProperties": False})

    island: object = _raw_field(
        "island", "Biscoe, Dream or Torgersen, in any case; another island is answered with an unknown_category warning"
    )
    bill_length_mm: object = _raw_field(
        "bill_length_mm",
        'a number or numeric text ("46,5" too); "NA", "" or null = missing (answered with an imputed warning)',
    )
    bill_depth_mm: object = _raw_field("bill_depth_mm", "a number or numeric text")
    flipper_length_mm: object = _raw_field("flipper_length_mm", "a number or numeric text")
    body_mass_g: object = _raw_field("body_mass_g", "grams: a number or numeric text")
    sex: object = _raw_field("sex", 'female/male, F/M, in any case; "." = unknown')

    def as_sent(self) -> dict[str, object]:
        """The record as the client sent it: the fields it gave, unknown ones included."""
        return {**{name: getattr(self, name) for name in self.model_fields_set}, **(self.model_extra or {})}


Float32 = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-_FLOAT32_MAX, le=_FLOAT32_MAX)]
Text = Annotated[str, AfterValidator(_unicode)]


class FeatureRecord(BaseModel):
    """One penguin as the bare model takes it: six typed features, all present, nothing cleaned."""

    model_config = ConfigDict(extra="forbid", strict=True, title="FeatureRecord")

    island: Text
    bill_length_mm: Float32
    bill_depth_mm: Float32
    flipper_length_mm: Float32
    body_mass_g: Float32
    sex: Text

    def as_sent(self) -> dict[str, object]:
        return self.model_dump()


class WarningOut(BaseModel):
    """Something the model answered despite, with its code (cleaning.WARNINGS)."""

    model_config = ConfigDict(from_attributes=True)

    code: WarningCode
    field: str
    message: str


class PredictionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    species: str
    probabilities: dict[str, float]
    model_version: str
    warnings: list[WarningOut] = Field(description="fields the model filled in (imputed), categories it never saw")


class BatchOut(BaseModel):
    predictions: list[PredictionOut]
    model_version: str


class Health(BaseModel):
    status: str
    model_version: str | None


class ModelInfo(BaseModel):
    model_version: str
    sha256: str
    backend: str
    mode: str
    kind: str
    file: str
    features: list[dict[str, str]]
    classes: list[str]
    metrics: dict[str, float]
    package_version: str
    trained_with_package: str
    git_commit: str
    created_at: str
    batch_limit: int


_RAW_EXAMPLES = {
    "clean": {"summary": "a clean record", "value": CLEAN_RECORD},
    "messy": {"summary": "numbers as text, a decimal comma, shouting", "value": MESSY_RECORDS[0]},
    "markers": {"summary": 'the raw data set\'s markers: "NA", "." for an unknown sex', "value": MESSY_RECORDS[1]},
    "left out": {
        "summary": "a field left out, null, empty text: answered with imputed warnings",
        "value": MESSY_RECORDS[2],
    },
    "nothing measured": {"summary": "no measurement at all: a 422 (no_measurements)", "value": INCOMPLETE_RECORD},
    "bad": {"summary": "bad values: a 422 naming each one, with its code", "value": BAD_RECORD},
}
_RAW_BATCH_EXAMPLES = {
    "messy": {"summary": "a clean record and three messy ones", "value": [CLEAN_RECORD, *MESSY_RECORDS]},
    "bad": {"summary": "one bad record: a 422 naming its index and fields", "value": [CLEAN_RECORD, BAD_RECORD]},
}
_FEATURE_EXAMPLES = {
    "clean": {"summary": "clean typed features", "value": CLEAN_RECORD},
    "messy": {"summary": "a messy record: refused (the wrapper of stage 04 cleans it)", "value": MESSY_RECORDS[0]},
}


# ---------------------------------------------------------------- reading requests, answering errors


class _JsonRequest(Request):
    """A request whose JSON body is read by cleaning's read_json: NaN and Infinity stay tokens
    to refuse by name (not_json_number) rather than floats that pass for missing values."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


class _Route(APIRoute):
    """FastAPI's route, reading bodies as _JsonRequest (FastAPI's documented custom-Request way)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read_with_cleaning(request: Request) -> Response:
            return await handler(_JsonRequest(request.scope, request.receive))

        return read_with_cleaning


def _finite(value: Any) -> Any:
    """Non-finite floats as text: an error echoes the client's input (1e400 reads as infinity),
    and strict JSON (and many clients) cannot carry Infinity or NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


class SafeJSONResponse(JSONResponse):
    """JSON that renders whatever the client sent: ASCII-escaped, so a lone surrogate in an
    echoed value ("\\ud800" is valid JSON text) cannot turn a 422 into a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(_finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


async def _refused(request: Request, exc: Exception) -> Response:
    """What the wrapper will not answer, as 422 items: the code, where (body, the record's index
    in a batch, the field), why, and what was sent."""
    err = cast(CleaningError, exc)
    if request.app.state.metrics is not None:
        request.app.state.metrics.refused(err)
    detail = [
        {
            "type": problem.code,
            "msg": problem.reason,
            "input": problem.value,
            "loc": [
                "body",
                *([] if err.one_record else [problem.record]),
                *([] if problem.field == RECORD_FIELD else [problem.field]),
            ],
        }
        for problem in err.problems
    ]
    return SafeJSONResponse({"detail": jsonable_encoder(detail)}, status_code=422)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's own 422 (not an object, not JSON, a batch too long), on the same safe renderer;
    a batch over the limit is not echoed back whole (it may be a megabyte): its size says enough."""
    errors = jsonable_encoder(cast(RequestValidationError, exc).errors())
    for error in errors:
        if error["type"] == "too_long" and "actual_length" in error.get("ctx", {}):
            error["input"] = f"{error['ctx']['actual_length']} records"
    return SafeJSONResponse({"detail": errors}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    http = cast(StarletteHTTPException, exc)
    return SafeJSONResponse({"detail": http.detail}, status_code=http.status_code, headers=http.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug is logged with its traceback on the server; the client gets one line, never the traceback,
    and its request id (this answer is sent from outside RequestGate, by Starlette's outermost layer)."""
    return SafeJSONResponse(
        {"detail": "internal error: the server's log has the details"},
        status_code=500,
        headers={REQUEST_ID_HEADER.decode(): str(request.state.request_id)},
    )


# ---------------------------------------------------------------- what every request goes through

_TOO_LARGE = "Content Too Large"
REQUEST_ID_HEADER = b"x-request-id"
# What a request id may be: short, and nothing that could forge a log line or a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestGate:
    """Every request passes here first: its body is held to `max_body_bytes` (413), it gets a
    request id, it is counted (metrics, when on), and it is logged in one line: method, path,
    status, latency and its id (a request that crashed as 500).

    The request id follows one call through every service it passes: a caller's X-Request-ID
    is kept when it is a safe token (REQUEST_ID: it goes into log lines and headers), else a new
    one is made; every response carries it back, the 500 of a crash too (see _unexpected).

    One plain ASGI middleware (not BaseHTTPMiddleware, nor a stack of middlewares) because it
    runs on every request and should cost microseconds. A body whose Content-Length is too
    large is refused before the app sees it. A body sent without one (chunked) is counted as
    it arrives, and the route reading it gets a 413 once it passes the limit; a declared length
    needs no counting, since the server reads exactly that many bytes.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: Metrics | None) -> None:
        self.app, self.max_body_bytes, self.metrics = app, max_body_bytes, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is None:
                await self.app(scope, self._counting(receive), send_and_note)
            elif declared > self.max_body_bytes:
                await PlainTextResponse(_TOO_LARGE, status_code=413)(scope, receive, send_and_note)
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - start
            if self.metrics is not None:
                route = scope.get("route")
                self.metrics.request(getattr(route, "path", UNMATCHED), scope["method"], status, seconds)
            if log.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                    "request_id": request_id,
                }
                log.info("%s %s %d %.1f ms %s", *fields.values(), extra=fields)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, _TOO_LARGE)
            return message

        return receive_counted


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a safe token, else a new one (32 hex digits)."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            sent: str = value.decode("latin-1")
            if REQUEST_ID.fullmatch(sent):
                return sent
            break
    return secrets.token_hex(16)


def _content_length(scope: Scope) -> int | None:
    """The body's declared length, or None when it is not declared (or not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------- predicting


def load_predictor(settings: Settings) -> PenguinPredictor:
    """The model the settings name, loaded and checked once (sha256, feature contract)."""
    return PenguinPredictor.load(settings.backend, settings.model_path)


async def _declared_json(request: Request) -> None:
    """A body declared as JSON, not guessed at: else 415, saying which header to send."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        got = f"Content-Type {declared!r}" if declared else "no Content-Type"
        raise HTTPException(415, f"send the records as JSON with the header Content-Type: application/json (got {got})")


@dataclass(frozen=True)
class _Mode:
    """What differs between the wrapper's routes (raw records) and the bare model's (features)."""

    record: type[RawRecord] | type[FeatureRecord]
    one: Callable[[PenguinPredictor, dict[str, object]], Prediction]
    many: Callable[[PenguinPredictor, list[dict[str, object]]], Predictions]
    what_one: str  # what a /predict body is, for the docs
    what_many: str
    examples: dict[str, Any]
    batch_examples: dict[str, Any]


_RAW = _Mode(
    RawRecord,
    PenguinPredictor.predict_one,
    PenguinPredictor.predict,
    "raw record",
    "raw records",
    _RAW_EXAMPLES,
    _RAW_BATCH_EXAMPLES,
)
_FEATURES = _Mode(
    FeatureRecord,
    lambda predictor, record: predictor.predict_clean(typed_batch([record]), one_record=True)[0],
    lambda predictor, records: predictor.predict_clean(typed_batch(records)),
    "record of clean typed features",
    "clean records",
    _FEATURE_EXAMPLES,
    {"clean": {"value": [CLEAN_RECORD]}},
)

_STATUSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "a body that is not UTF-8 text"},
    413: {"description": "a body larger than the limit (PENGUINS_MAX_BODY_BYTES)"},
    415: {"description": "a body not declared as JSON (Content-Type)"},
    422: {
        "description": "values the model will not answer for; each item's `type` is its code "
        "(penguins.serving.cleaning.REFUSALS)"
    },
    503: {"description": "the model is not loaded yet"},
}


# ---------------------------------------------------------------- the app


def create_app(settings: Settings | None = None, predictor: PenguinPredictor | None = None) -> FastAPI:
    """The service. The model is loaded once, at start-up (or handed in already loaded, as
    `python -m penguins serve` does so that a bad artifact stops it before the port opens)."""
    settings = settings or Settings()
    logs.configure(settings.log_level, settings.log_format)
    metrics = Metrics() if settings.metrics else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.predictor is None:
            app.state.predictor = load_predictor(settings)
        meta = app.state.predictor.metadata
        if metrics is not None:
            metrics.serving(meta.model_version, meta.sha256, app.state.predictor.backend_name)
        log.info("model %s (%s, %s mode) ready", meta.model_version, settings.backend, settings.mode)
        yield

    app = FastAPIOffline(
        title="Penguin species service",
        version=__version__,
        description=_description(settings),
        lifespan=lifespan,
    )
    app.state.predictor, app.state.settings, app.state.metrics = predictor, settings, metrics
    app.add_middleware(RequestGate, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    app.add_exception_handler(CleaningError, _refused)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    _add_status_routes(app, settings)
    if metrics is not None:
        _add_metrics_route(app, metrics)
    _add_predict_routes(app, settings, _FEATURES if settings.mode == "features" else _RAW)
    if settings.mode == "raw":  # the protocol's clients send raw values through the wrapper, as /predict's do
        key = settings.api_key
        app.include_router(v2.router, dependencies=api_key.requirement(key), responses=api_key.responses(key))
    return app


def _description(settings: Settings) -> str:
    if settings.mode == "features":
        what = (
            "**Stage 03, the bare model**: it takes six clean, typed features and nothing else. "
            "Try the *messy* example: it is refused with a 422. Cleaning raw data is the wrapper's job (stage 04)."
        )
    else:
        what = (
            "**The wrapper over the model**: send raw records as they come (numbers as text, a decimal comma, "
            '"NA", any case); a value that cannot be used comes back as a 422 naming the field, the value, '
            "the reason and its code; a field the model fills in comes back as a warning."
        )
    return f"Which of three species is this penguin? {what} Backend: `{settings.backend}`."


def _add_status_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/health", response_model=Health, summary="the process is alive")
    async def health(request: Request) -> Health:
        predictor = request.app.state.predictor
        return Health(status="ok", model_version=predictor.model_version if predictor else None)

    @app.get(
        "/ready",
        response_model=Health,
        summary="the model is loaded: send predictions",
        responses={503: {"description": "the model is not loaded yet"}},
    )
    async def ready(predictor: Annotated[PenguinPredictor, Depends(loaded)]) -> Health:
        return Health(status="ready", model_version=predictor.model_version)

    @app.get("/model", response_model=ModelInfo, summary="which model answers: version, sha256, features, metrics")
    async def model(predictor: Annotated[PenguinPredictor, Depends(loaded)]) -> ModelInfo:
        meta = predictor.metadata
        return ModelInfo(
            model_version=meta.model_version,
            sha256=meta.sha256,
            backend=predictor.backend_name,
            mode=settings.mode,
            kind=meta.kind,
            file=meta.file,
            features=meta.contract["features"],
            classes=meta.classes,
            metrics=meta.metrics,
            package_version=__version__,
            trained_with_package=meta.package_version,
            git_commit=meta.git_commit,
            created_at=meta.created_at,
            batch_limit=settings.batch_limit,
        )


def _add_metrics_route(app: FastAPI, metrics: Metrics) -> None:
    @app.get(
        "/metrics",
        response_class=Response,
        summary="requests, answers, refusals and the model, for Prometheus to scrape",
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)


def _counted(request: Request, species: list[str], warnings: Sequence[tuple[FieldWarning, ...]]) -> None:
    """The answers, counted by species and warning code (when metrics are on)."""
    metrics: Metrics | None = request.app.state.metrics
    if metrics is not None:
        metrics.answered(species, warnings)


def _add_predict_routes(app: FastAPI, settings: Settings, mode: _Mode) -> None:
    """POST /predict and /predict/batch for one kind of record; FastAPI reads these annotations
    at run time, where the record type is the mode's (mypy cannot follow a type chosen then)."""
    app.router.route_class = _Route
    # The key first (when the service has one), then the body's declared type.
    guarded = [*api_key.requirement(settings.api_key), Depends(_declared_json)]
    statuses = {**_STATUSES, **api_key.responses(settings.api_key)}

    @app.post(
        "/predict",
        response_model=PredictionOut,
        summary=f"predict one {mode.what_one}",
        responses=statuses,
        dependencies=guarded,
    )
    async def predict(
        record: Annotated[mode.record, Body(openapi_examples=mode.examples)],  # type: ignore[name-defined]
        predictor: Annotated[PenguinPredictor, Depends(loaded)],
        request: Request,
    ) -> PredictionOut:
        sent = record.as_sent()
        prediction = await run(predictor, lambda: mode.one(predictor, sent))
        _counted(request, [prediction.species], [prediction.warnings])
        return PredictionOut.model_validate(prediction)

    @app.post(
        "/predict/batch",
        response_model=BatchOut,
        summary=f"predict up to {settings.batch_limit} {mode.what_many}",
        responses=statuses,
        dependencies=guarded,
    )
    async def predict_batch(
        records: Annotated[
            list[mode.record],  # type: ignore[name-defined]
            Body(
                min_length=1,
                max_length=settings.batch_limit,
                openapi_examples=mode.batch_examples,
            ),
        ],
        predictor: Annotated[PenguinPredictor, Depends(loaded)],
        request: Request,
    ) -> BatchOut:
        sent = [record.as_sent() for record in records]
        predictions = await run(predictor, lambda: mode.many(predictor, sent))
        _counted(request, predictions.species, predictions.warnings)
        return BatchOut(
            predictions=[PredictionOut.model_validate(p) for p in predictions], model_version=predictions.model_version
        )

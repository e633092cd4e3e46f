"""The service (lecture stage 05): a FastAPI app around one PenguinPredictor.

`create_app(settings)` builds it; `python -m penguins serve` and the container's
`uvicorn penguins.serving.app:app` both call it, so there is one service whatever starts it.

Raw data in, value rules in one place. The request models check only the shape of a
request (an object, known field names, nothing extra) and hand every value on exactly as
the client sent it; whether "46,5" or "NA" or -3 is acceptable is penguins.serving.cleaning's call,
and its problems come back as 422 in FastAPI's own error shape (`detail: [{loc, msg,
input}]`). In `features` mode (stage 03) the bare model is served instead: six clean,
typed features, so a messy record fails with a 422, which is why stage 04 wraps the model.

This module is on the serving path: no torch, scikit-learn or pandas (the pickle backend
brings scikit-learn in by itself, only when it is chosen). Annotations are evaluated (no
`from __future__ import annotations`): FastAPI reads them, including the batch type that
create_app builds with the configured limit.
"""

import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator
from pydantic_core import to_json
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from penguins import __version__
from penguins.serving.cleaning import KNOWN_CATEGORIES, CleanBatch, CleaningError, unknown_categories
from penguins.serving.contract import FEATURES, NUMERIC_FEATURES
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings

log = logging.getLogger("penguins.serving.api")

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_QUOTE_LENGTH = 40


# ---------------------------------------------------------------- request and response models


def _as_sent(value: object) -> object:
    """Keep a field's value exactly as the client sent it: judging it is cleaning's job.

    Only text that is not Unicode is refused here, as a matter of encoding: JSON can escape
    half a surrogate pair ("\\ud800"), which no UTF-8 model input (nor response) can carry.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text that is not valid Unicode (half of a surrogate pair)") from None
    return value


def _unchanged(value: Any) -> Any:
    return value


# The schema says number, text or null (what clients send); the value itself is not touched,
# neither read in nor dumped out (record.model_dump() gives back what the client sent).
RawValue = Annotated[float | str | None, PlainValidator(_as_sent, json_schema_input_type=float | str | None),
                     PlainSerializer(_unchanged)]
Text = Annotated[str, AfterValidator(_as_sent)]


class RawRecord(BaseModel):
    """One penguin as a client sends it: any field may be missing, text, a number or null."""

    model_config = ConfigDict(extra="forbid", title="RawRecord")

    island: RawValue = Field(None, description="Biscoe, Dream or Torgersen, in any case")
    bill_length_mm: RawValue = Field(None, description='a number or numeric text ("46,5" too); "NA" = missing')
    bill_depth_mm: RawValue = Field(None, description="a number or numeric text")
    flipper_length_mm: RawValue = Field(None, description="a number or numeric text")
    body_mass_g: RawValue = Field(None, description="grams: a number or numeric text")
    sex: RawValue = Field(None, description='female/male, F/M, in any case; "." = unknown')


Float32 = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-_FLOAT32_MAX, le=_FLOAT32_MAX)]


class FeatureRecord(BaseModel):
    """One penguin as the bare model takes it: six typed features, all present, nothing cleaned."""

    model_config = ConfigDict(extra="forbid", strict=True, title="FeatureRecord")

    island: Text
    bill_length_mm: Float32
    bill_depth_mm: Float32
    flipper_length_mm: Float32
    body_mass_g: Float32
    sex: Text


class PredictionOut(BaseModel):
    species: str
    probabilities: dict[str, float]
    model_version: str
    warnings: list[str] = Field(
        default_factory=list, description="categories the model never saw: it answered from the other features"
    )


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
    "left out": {"summary": "a field left out, null, empty text", "value": MESSY_RECORDS[2]},
    "bad": {"summary": "bad values: a 422 naming each one", "value": BAD_RECORD},
}
_RAW_BATCH_EXAMPLES = {
    "messy": {"summary": "a clean record and three messy ones", "value": [CLEAN_RECORD, *MESSY_RECORDS]},
    "bad": {"summary": "one bad record: a 422 naming its index and fields", "value": [CLEAN_RECORD, BAD_RECORD]},
}
_FEATURE_EXAMPLES = {
    "clean": {"summary": "clean typed features", "value": CLEAN_RECORD},
    "messy": {"summary": "a messy record: refused (the wrapper of stage 04 cleans it)", "value": MESSY_RECORDS[0]},
}


# ---------------------------------------------------------------- responses any client can read


def _finite(value: Any) -> Any:
    """Non-finite floats as text: an error echoes the client's input, and Python's JSON
    reader accepts Infinity and NaN, which strict JSON (and many clients) cannot carry."""
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


def _quote(value: object) -> str:
    """A value for a message: repr (escapes anything odd), cut short."""
    text = repr(value)
    return text if len(text) <= _QUOTE_LENGTH else text[:_QUOTE_LENGTH] + "..."


def _loc(index: int, field: str | None, single: bool) -> list[Any]:
    """Where a problem is, as FastAPI says it: body, then the record's index in a batch, then the field."""
    return ["body", *([] if single else [index]), *([field] if field else [])]


def _cleaning_errors(err: CleaningError, single: bool) -> list[dict[str, Any]]:
    """Cleaning's problems in FastAPI's error shape: where (loc), why (msg) and what (input)."""
    return [
        {"type": "value_error", "loc": _loc(p.record, p.field, single), "msg": p.reason, "input": p.value}
        for p in err.problems
    ]


def _summarise_batch(error: dict[str, Any]) -> dict[str, Any]:
    """A batch over the limit is not echoed back whole (it may be a megabyte): its size says enough."""
    if error["type"] == "too_long":
        return {**error, "input": f"{error['ctx']['actual_length']} records"}
    return error


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_summarise_batch(error) for error in jsonable_encoder(exc.errors())]
    return SafeJSONResponse({"detail": errors}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug is logged with its traceback on the server; the client gets one line, never the traceback."""
    return SafeJSONResponse({"detail": "internal error: the server's log has the details"}, status_code=500)


# ---------------------------------------------------------------- what every request goes through

_TOO_LARGE = "Content Too Large"


class RequestGate:
    """Every request passes here first: its body is held to `max_body_bytes` (413), and it is
    logged in one line, method, path, status and latency (a request that crashed as 500).

    One plain ASGI middleware (not BaseHTTPMiddleware, nor a stack of middlewares) because it
    runs on every request and should cost microseconds. A body whose Content-Length is too
    large is refused before the app sees it. A body sent without one (chunked) is counted as
    it arrives, and the route reading it gets a 413 once it passes the limit; a declared length
    needs no counting, since the server reads exactly that many bytes.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
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
            millis = (time.perf_counter() - start) * 1000
            log.info("%s %s %d %.1f ms", scope["method"], scope["path"], status, millis)

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


def _content_length(scope: Scope) -> int | None:
    """The body's declared length, or None when it is not declared (or not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _LineHandler(logging.StreamHandler):
    """`LEVEL:     message` on stderr, as uvicorn writes its own lines. The line is written
    straight from the record: a Formatter's general machinery would cost more than the line
    itself, on every request. A record carrying a traceback is formatted in full."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.stack_info:
            super().emit(record)
            return
        try:
            self.stream.write(f"{record.levelname}:     {record.getMessage()}\n")
            self.flush()
        except Exception:
            self.handleError(record)


def _configure_log(level: str) -> None:
    """The request log goes to stderr unless the host program set up the penguins loggers."""
    logger = logging.getLogger("penguins")
    if not logger.handlers:
        logger.addHandler(_LineHandler())
    logger.setLevel(level.upper())


# ---------------------------------------------------------------- predicting


def load_predictor(settings: Settings) -> PenguinPredictor:
    """The model the settings name, loaded and checked once (sha256, feature contract)."""
    return PenguinPredictor.load(settings.backend, settings.model_path)


async def _loaded(request: Request) -> PenguinPredictor:
    """The app's predictor; a 503 while it is not loaded (async: no thread-pool hop per request)."""
    predictor = request.app.state.predictor
    if predictor is None:
        raise HTTPException(503, "the model is not loaded yet: try again in a moment")
    return predictor


async def _json_and_loaded(request: Request) -> PenguinPredictor:
    """What a prediction needs before its records are validated: a body declared as JSON,
    not guessed at (else 415), and a loaded model (else 503). One dependency rather than two:
    FastAPI spends microseconds on each, on every request."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        got = f"Content-Type {declared!r}" if declared else "no Content-Type"
        raise HTTPException(415, f"send the records as JSON with the header Content-Type: application/json (got {got})")
    return await _loaded(request)


# Where the model runs. The endpoints are `async def`, so FastAPI calls them on the event loop,
# the one thread that serves every request. The ONNX backends answer in microseconds, less than
# a hop to another thread costs, so they run right there. The pickled scikit-learn pipeline
# takes milliseconds a call (a big network would take far more): on the loop it would stall
# every other request meanwhile, so it runs in FastAPI's thread pool, as a plain `def`
# endpoint would, and the loop keeps serving.
IN_THREAD_POOL = frozenset({"sklearn-pickle"})

Predict = Callable[[PenguinPredictor, Sequence[Any], bool], list[dict[str, Any]]]


async def _run_model(predict: Predict, predictor: PenguinPredictor, records: Sequence[Any], single: bool) -> list[dict[str, Any]]:
    """`predict(predictor, records, single)`, where this backend costs least (see above)."""
    if predictor.backend_name in IN_THREAD_POOL:
        return await run_in_threadpool(predict, predictor, records, single)
    return predict(predictor, records, single)


def _reply(content: object) -> Response:
    """The answer as JSON, serialised once. FastAPI sends a Response as it is, so the route's
    response_model (kept for /docs) is not validated and serialised a second time."""
    return Response(to_json(content), media_type="application/json")


def _answers(predictor: PenguinPredictor, batch: CleanBatch, sent: Sequence[dict], single: bool, warn: bool) -> list[dict[str, Any]]:
    """Predict a clean batch; refuse (422) any record the model could not give finite odds for."""
    predictions = predictor.predict_clean(batch)
    unanswerable = [
        {"type": "value_error", "loc": _loc(index, None, single), "input": sent[index],
         "msg": "the model gave no finite probabilities for these values: they are far outside anything it was trained on"}
        for index, p in enumerate(predictions)
        if not all(map(math.isfinite, p.probabilities.values()))
    ]
    if unanswerable:
        raise RequestValidationError(unanswerable)
    notes = _unknown_category_notes(batch, len(predictions)) if warn else [[] for _ in predictions]
    return [  # the fields of PredictionOut
        {"species": p.species, "probabilities": p.probabilities, "model_version": p.model_version, "warnings": note}
        for p, note in zip(predictions, notes)
    ]


def _unknown_category_notes(batch: CleanBatch, count: int) -> list[list[str]]:
    notes: list[list[str]] = [[] for _ in range(count)]
    for index, name, value in unknown_categories(batch):
        known = ", ".join(KNOWN_CATEGORIES[name])
        notes[index].append(f"{name} {_quote(value)} is not a category the model knows ({known}); it answered from the other features")
    return notes


def _predict_raw(predictor: PenguinPredictor, records: Sequence[RawRecord], single: bool) -> list[dict[str, Any]]:
    """The wrapper's way: cleaning judges every value, then the model answers."""
    sent = [{name: getattr(record, name) for name in record.model_fields_set} for record in records]
    try:
        batch = predictor.cleaner.clean(sent)
    except CleaningError as err:
        raise RequestValidationError(_cleaning_errors(err, single)) from None
    return _answers(predictor, batch, sent, single, warn=True)


def _predict_features(predictor: PenguinPredictor, records: Sequence[FeatureRecord], single: bool) -> list[dict[str, Any]]:
    """The bare model's way: the typed values go in as they are; nobody cleans them."""
    sent = [record.model_dump() for record in records]
    batch = {
        name: np.array([row[name] for row in sent], dtype=np.float32 if name in NUMERIC_FEATURES else object)
        for name in FEATURES
    }
    return _answers(predictor, batch, sent, single, warn=False)


# ---------------------------------------------------------------- the app


def create_app(settings: Settings | None = None, predictor: PenguinPredictor | None = None) -> FastAPI:
    """The service. The model is loaded once, at start-up (or handed in already loaded, as
    `python -m penguins serve` does so that a bad artifact stops it before the port opens)."""
    settings = settings or Settings()
    _configure_log(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.predictor is None:
            app.state.predictor = load_predictor(settings)
        meta = app.state.predictor.metadata
        log.info("model %s (%s, %s mode) ready", meta.model_version, settings.backend, settings.mode)
        yield

    app = FastAPIOffline(
        title="Penguin species service",
        version=__version__,
        description=_description(settings),
        lifespan=lifespan,
    )
    app.state.predictor, app.state.settings = predictor, settings
    app.add_middleware(RequestGate, max_body_bytes=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    _add_status_routes(app, settings)
    _add_predict_routes(app, settings, _FEATURES if settings.mode == "features" else _RAW)
    _api_routes_first(app)
    return app


def _api_routes_first(app: FastAPI) -> None:
    """Every request is matched against the routes in order, first to last: the API's come
    first, the pages people open by hand (/docs, /redoc, their files, /openapi.json, /) last.
    A stable sort: /docs still lists the API in the order it was written."""
    app.router.routes.sort(key=lambda route: not getattr(route, "include_in_schema", False))


def _description(settings: Settings) -> str:
    if settings.mode == "features":
        what = ("**Stage 03, the bare model**: it takes six clean, typed features and nothing else. "
                "Try the *messy* example: it is refused with a 422. Cleaning raw data is the wrapper's job (stage 04).")
    else:
        what = ("**The wrapper over the model**: send raw records as they come (numbers as text, a decimal comma, "
                '"NA", any case); a value that cannot be used comes back as a 422 naming the field, the value and the reason.')
    return f"Which of three species is this penguin? {what} Backend: `{settings.backend}`."


def _add_status_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/health", response_model=Health, summary="the process is alive")
    async def health(request: Request) -> Health:
        predictor = request.app.state.predictor
        return Health(status="ok", model_version=predictor.model_version if predictor else None)

    @app.get("/ready", response_model=Health, summary="the model is loaded: send predictions",
             responses={503: {"description": "the model is not loaded yet"}})
    async def ready(predictor: Annotated[PenguinPredictor, Depends(_loaded)]) -> Health:
        return Health(status="ready", model_version=predictor.model_version)

    @app.get("/model", response_model=ModelInfo, summary="which model answers: version, sha256, features, metrics")
    async def model(predictor: Annotated[PenguinPredictor, Depends(_loaded)]) -> ModelInfo:
        meta = predictor.metadata
        return ModelInfo(
            model_version=meta.model_version, sha256=meta.sha256, backend=predictor.backend_name,
            mode=settings.mode, kind=meta.kind, file=meta.file, features=meta.contract["features"],
            classes=meta.classes, metrics=meta.metrics, package_version=__version__,
            trained_with_package=meta.package_version, git_commit=meta.git_commit,
            created_at=meta.created_at, batch_limit=settings.batch_limit,
        )


_POST = {"responses": {413: {"description": "body too large"}, 415: {"description": "not JSON"}}}


@dataclass(frozen=True)
class _Routes:
    """What differs between the wrapper's routes (raw records) and the bare model's (features)."""

    record: type[BaseModel]
    predict: Predict
    one: str  # what a /predict body is, for the docs
    many: str
    examples: dict[str, Any]
    batch_examples: dict[str, Any]


_RAW = _Routes(RawRecord, _predict_raw, "raw record", "raw records", _RAW_EXAMPLES, _RAW_BATCH_EXAMPLES)
_FEATURES = _Routes(FeatureRecord, _predict_features, "record of clean typed features", "clean records",
                    _FEATURE_EXAMPLES, {"clean": {"value": [CLEAN_RECORD]}})


def _add_predict_routes(app: FastAPI, settings: Settings, routes: _Routes) -> None:
    """POST /predict and /predict/batch for one kind of record (FastAPI reads these annotations)."""
    Batch = Annotated[list[routes.record], Field(min_length=1, max_length=settings.batch_limit)]

    @app.post("/predict", response_model=PredictionOut, summary=f"predict one {routes.one}", **_POST)
    async def predict(
        record: Annotated[routes.record, Body(openapi_examples=routes.examples)],
        predictor: Annotated[PenguinPredictor, Depends(_json_and_loaded)],
    ) -> Response:
        answers = await _run_model(routes.predict, predictor, [record], single=True)
        return _reply(answers[0])

    @app.post("/predict/batch", response_model=BatchOut, summary=f"predict up to {settings.batch_limit} {routes.many}", **_POST)
    async def predict_batch(
        records: Annotated[Batch, Body(openapi_examples=routes.batch_examples)],
        predictor: Annotated[PenguinPredictor, Depends(_json_and_loaded)],
    ) -> Response:
        answers = await _run_model(routes.predict, predictor, records, single=False)
        return _reply({"predictions": answers, "model_version": predictor.model_version})

"""The Open Inference Protocol (KServe V2) beside /predict: KServe, Seldon MLServer, Triton and
OpenVINO speak it, so their clients and tools can call this model without a custom client.

    GET  /v2                          the server: name, version, extensions (none)
    GET  /v2/health/live, /ready      the process is alive; the model is loaded
    GET  /v2/models/penguins          versions [model_version], its inputs and outputs
    GET  /v2/models/penguins/ready
    POST /v2/models/penguins/infer    tensors in, tensors out

The protocol speaks in tensors, the wrapper in records: one input per feature column, each
BYTES (text exactly as sent, so "46,5" and "NA" reach cleaning) or, for a number, FP32; shape
[n] or [n, 1]. The server rebuilds the n raw records, asks the wrapper (the one path from a raw
record to an answer), and answers `probabilities` FP32 [n, 3] (CLASSES order) and `species`
BYTES [n], the warnings in the response's `parameters` (as JSON text: a parameter's value is
a string, a number or a boolean). A feature left out is missing in every record, as a field
left out of /predict. Errors take the protocol's shape, `{"error": "..."}` with a 400, a
refusal naming the record and field ("record 0, field 'sex': ..."). Tensors travel as JSON;
Triton's binary-tensor extension is not offered (a client sends `binary_data=False`).
"""

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from penguins import __version__
from penguins.serving.cleaning import CleaningError, read_json
from penguins.serving.contract import CATEGORICAL_FEATURES, CLASSES, FEATURES, NUMERIC_FEATURES, OUTPUT
from penguins.serving.metrics import Metrics
from penguins.serving.predictor import PenguinPredictor, Predictions
from penguins.serving.running import loaded, run

MODEL = "penguins"
SPECIES = "species"
Feature = Literal["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex"]
Datatype = Literal["BYTES", "FP32"]
OutputName = Literal["probabilities", "species"]


# ---------------------------------------------------------------- the protocol's documents


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class Live(BaseModel):
    live: bool


class Ready(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class V2Error(BaseModel):
    error: str


Parameters = dict[str, StrictStr | StrictInt | StrictFloat | bool]


class InputTensor(BaseModel):
    """One feature column: BYTES holds text as sent, FP32 numbers (numeric features only)."""

    model_config = ConfigDict(extra="forbid")

    name: Feature
    shape: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, max_length=2)
    datatype: Datatype
    parameters: Parameters | None = None
    data: list[StrictStr | StrictInt | StrictFloat]


class RequestedOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OutputName
    parameters: Parameters | None = None


class InferenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    parameters: Parameters | None = None
    inputs: list[InputTensor] = Field(min_length=1, max_length=len(FEATURES))
    outputs: list[RequestedOutput] | None = None


class OutputTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list[float] | list[str]


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    parameters: dict[str, str]
    outputs: list[OutputTensor]


# ---------------------------------------------------------------- errors in the protocol's shape


class V2Failure(Exception):
    """A request the protocol cannot answer: a 400 (or `status`) with {"error": message}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class _V2Route(APIRoute):
    """Every V2 route answers its errors as {"error": "..."}: a refusal, a malformed request, a
    503 while the model loads, a chunked body over the limit (FastAPI's custom route class way)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def in_v2_shape(request: Request) -> Response:
            try:
                return await handler(request)
            except CleaningError as refused:
                metrics: Metrics | None = request.app.state.metrics
                if metrics is not None:
                    metrics.refused(refused)
                return _error("; ".join(str(problem) for problem in refused.problems), 400)
            except V2Failure as failure:
                return _error(str(failure), failure.status)
            except StarletteHTTPException as http:
                return _error(str(http.detail), http.status_code)

        return in_v2_shape


def _error(message: str, status: int) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON Schema with its $defs written in place (OpenAPI resolves "#/$defs/..."
    against the whole document, not against this schema)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": V2Error, "description": "a malformed request, or values the model will not answer for"},
    413: {"description": "a body larger than the limit (PENGUINS_MAX_BODY_BYTES)"},
    503: {"model": V2Error, "description": "the model is not loaded yet"},
}
_NOT_READY: dict[int | str, dict[str, Any]] = {503: _ERRORS[503]}


# ---------------------------------------------------------------- tensors ⇄ records


def read_request(body: bytes) -> InferenceRequest:
    """The request, or a V2Failure saying what is wrong with it."""
    try:
        return InferenceRequest.model_validate(read_json(body))
    except (ValueError, UnicodeDecodeError) as err:
        if isinstance(err, ValidationError):
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise V2Failure(f"{where}: {first['msg']}") from None
        raise V2Failure(f"the body is not JSON: {err}") from None


def records_of(request: InferenceRequest) -> list[dict[str, object]]:
    """The raw records the input tensors carry, one per row."""
    seen: dict[str, InputTensor] = {}
    for tensor in request.inputs:
        if tensor.name in seen:
            raise V2Failure(f"input {tensor.name!r} is given twice")
        seen[tensor.name] = tensor
        _check(tensor)
    rows = {len(tensor.data) for tensor in request.inputs}
    if len(rows) != 1:
        raise V2Failure(f"every input must hold the same number of records, got {sorted(rows)}")
    [count] = rows
    return [{name: tensor.data[index] for name, tensor in seen.items()} for index in range(count)]


def _check(tensor: InputTensor) -> None:
    """A tensor's shape and datatype agree with its data and its feature."""
    if tensor.shape[0] != len(tensor.data) or tensor.shape[1:] not in ([], [1]):
        raise V2Failure(
            f"input {tensor.name!r}: shape {tensor.shape} must be [n] or [n, 1] for {len(tensor.data)} values"
        )
    if tensor.datatype == "FP32":
        if tensor.name in CATEGORICAL_FEATURES:
            raise V2Failure(f"input {tensor.name!r} is text: send it as BYTES")
        if any(isinstance(value, str) for value in tensor.data):
            raise V2Failure(f"input {tensor.name!r}: FP32 data must be numbers (send text as BYTES)")
    elif any(not isinstance(value, str) for value in tensor.data):
        raise V2Failure(f"input {tensor.name!r}: BYTES data must be text (send numbers as FP32)")


def response_of(request: InferenceRequest, predictions: Predictions) -> InferenceResponse:
    count = len(predictions)
    tensors = {
        OUTPUT: OutputTensor(
            name=OUTPUT,
            shape=[count, len(predictions.classes)],
            datatype="FP32",
            data=predictions.probabilities.astype(float).ravel().tolist(),
        ),
        SPECIES: OutputTensor(name=SPECIES, shape=[count], datatype="BYTES", data=predictions.species),
    }
    wanted = [output.name for output in request.outputs] if request.outputs else list(tensors)
    warnings = [
        {"record": index, "code": warning.code, "field": warning.field, "message": warning.message}
        for index, notes in enumerate(predictions.warnings)
        for warning in notes
    ]
    return InferenceResponse(
        model_name=MODEL,
        model_version=predictions.model_version,
        id=request.id,
        parameters={"warnings": json.dumps(warnings)},
        outputs=[tensors[name] for name in wanted],
    )


# ---------------------------------------------------------------- the routes

router = APIRouter(prefix="/v2", route_class=_V2Route, tags=["Open Inference Protocol (V2)"])


@router.get("", response_model=ServerMetadata, summary="the server: name, version, protocol extensions")
async def server_metadata() -> ServerMetadata:
    return ServerMetadata(name="penguins-to-production", version=__version__, extensions=[])


@router.get("/health/live", response_model=Live, summary="the process is alive")
async def live() -> Live:
    return Live(live=True)


@router.get("/health/ready", response_model=Ready, summary="the model is loaded", responses=_NOT_READY)
async def server_ready(predictor: Annotated[PenguinPredictor, Depends(loaded)]) -> Ready:
    return Ready(ready=True)


@router.get(
    f"/models/{MODEL}",
    response_model=ModelMetadata,
    summary="the model's versions, inputs and outputs",
    responses=_NOT_READY,
)
async def model_metadata(predictor: Annotated[PenguinPredictor, Depends(loaded)]) -> ModelMetadata:
    inputs = [
        TensorMetadata(name=name, datatype="FP32" if name in NUMERIC_FEATURES else "BYTES", shape=[-1, 1])
        for name in FEATURES
    ]
    outputs = [
        TensorMetadata(name=OUTPUT, datatype="FP32", shape=[-1, len(CLASSES)]),
        TensorMetadata(name=SPECIES, datatype="BYTES", shape=[-1]),
    ]
    return ModelMetadata(
        name=MODEL, versions=[predictor.model_version], platform=predictor.backend_name, inputs=inputs, outputs=outputs
    )


@router.get(f"/models/{MODEL}/ready", response_model=ModelReady, summary="the model is loaded", responses=_NOT_READY)
async def model_ready(predictor: Annotated[PenguinPredictor, Depends(loaded)]) -> ModelReady:
    return ModelReady(name=MODEL, ready=True)


@router.post(
    f"/models/{MODEL}/infer",
    response_model=InferenceResponse,
    summary="tensors in (one per feature), probabilities and species out",
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(InferenceRequest.model_json_schema())}},
        }
    },
)
async def infer(request: Request, predictor: Annotated[PenguinPredictor, Depends(loaded)]) -> InferenceResponse:
    """The body is read here, not by FastAPI, so a malformed request is the protocol's 400."""
    inference = read_request(await request.body())
    records = records_of(inference)
    predictions = await run(predictor, lambda: predictor.predict(records))
    metrics: Metrics | None = request.app.state.metrics
    if metrics is not None:
        metrics.answered(predictions.species, predictions.warnings)
    return response_of(inference, predictions)

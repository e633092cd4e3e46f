"""The Open Inference Protocol (KServe V2) beside /predict: KServe, Seldon MLServer, Triton and
OpenVINO speak it, so their clients and tools can call this model without a custom client.

One input per feature column, BYTES (text exactly as sent, so "46,5" and "NA" reach cleaning)
or, for a number, FP32; shape [n] or [n, 1]. The columns go to the wrapper as they are
(PenguinPredictor.predict_columns: the one path, no record per row), and the answer is
`probabilities` FP32 [n, 3] (CLASSES order) and `species` BYTES [n], the warnings as JSON text
in its `parameters`. A feature left out is missing in every record. Errors take the protocol's
shape, `{"error": "..."}` with a 400 (errors.handle), a refusal naming the record and field.
Tensors travel as JSON: Triton's binary-tensor extension is not offered (`binary_data=False`).
"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, TypeAdapter

from penguins import __version__
from penguins.serving.api.deps import Loaded, guarded, json_body, many, model_of, request_body, validated
from penguins.serving.api.errors import ServingError
from penguins.serving.cleaning import json_schema
from penguins.serving.contract import CLASSES, FEATURES, NUMERIC_FEATURES, OUTPUT
from penguins.serving.predictor import Predictions
from penguins.serving.settings import Settings

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


class ModelReady(Ready):
    name: str


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


REQUEST = TypeAdapter(InferenceRequest)


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


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """A JSON Schema with its $defs written in place (OpenAPI resolves "#/$defs/..." against the
    whole document, not against this schema)."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        return (
            _inline(defs[ref[8:]], defs)
            if ref.startswith("#/$defs/")
            else {k: _inline(v, defs) for k, v in node.items()}
        )
    return [_inline(item, defs) for item in node] if isinstance(node, list) else node


# Which datatypes each feature may be sent as: text always, a number as FP32 (numeric features only).
DATATYPES: dict[str, tuple[str, ...]] = {
    name: ("BYTES", "FP32") if name in NUMERIC_FEATURES else ("BYTES",) for name in FEATURES
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": V2Error,
        "description": "a malformed request, more records than the limit (PENGUINS_BATCH_LIMIT), "
        "or values the model will not answer for",
    },
    413: {"description": "a body larger than the limit (PENGUINS_MAX_BODY_BYTES)"},
    503: {"model": V2Error, "description": "the model is not loaded yet"},
}
_NOT_READY: dict[int | str, dict[str, Any]] = {503: _ERRORS[503]}


def request_schema(limit: int) -> dict[str, Any]:
    """InferenceRequest's JSON Schema with each input stated per feature: its datatypes
    (DATATYPES), cleaning's rule for its values, a shape [n] or [n, 1], 1 to `limit` records (the
    one record limit); and one input at least a measurement, given in every record (a text
    measurement as a number, not "NA": JSON Schema cannot say that each record needs one)."""
    generated = InferenceRequest.model_json_schema()
    schema: dict[str, Any] = _inline(generated, generated.pop("$defs"))
    tensors = []
    for name in FEATURES:
        number, text = json_schema(name, missing=False)["anyOf"] if name in NUMERIC_FEATURES else (None, {})
        text = text or json_schema(name)["anyOf"][0]
        for datatype in DATATYPES[name]:
            properties = {
                "name": {"const": name},
                "datatype": {"const": datatype},
                "shape": {
                    "type": "array",
                    "prefixItems": [{"type": "integer", "minimum": 1}],
                    "items": {"const": 1},
                    "minItems": 1,
                    "maxItems": 2,
                },
                "parameters": schema["properties"]["parameters"],
                "data": {
                    "type": "array",
                    "items": number if datatype == "FP32" else text,
                    "minItems": 1,
                    "maxItems": limit,
                },
            }
            required = ["name", "shape", "datatype", "data"]
            tensors.append(
                {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
            )
    measured = {"properties": {"name": {"enum": list(NUMERIC_FEATURES)}}}
    named = [{"properties": {"name": {"const": name}}} for name in FEATURES]
    once = [{"contains": name, "minContains": 0, "maxContains": 1} for name in named]  # each feature once
    schema["properties"]["inputs"] |= {"items": {"oneOf": tensors}, "contains": measured, "allOf": once}
    return schema


# ---------------------------------------------------------------- tensors → columns


def columns_of(request: InferenceRequest, limit: int) -> dict[str, list[Any]]:
    """The raw values the input tensors carry, by feature: each feature once, each tensor's
    shape and datatype agreeing with its data and its feature, all as long, within the limit."""
    columns: dict[str, list[Any]] = {}
    for tensor in request.inputs:
        if tensor.name in columns:
            raise ServingError(400, f"input {tensor.name!r} is given twice")
        columns[tensor.name] = _checked(tensor)
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise ServingError(400, f"every input must hold the same number of records, got {sorted(lengths)}")
    many(request.inputs[0].data, limit, f"input {request.inputs[0].name!r}")
    return columns


def _checked(tensor: InputTensor) -> list[Any]:
    """A tensor's data, once its shape and datatype agree with it and with its feature."""
    if tensor.shape[0] != len(tensor.data) or tensor.shape[1:] not in ([], [1]):
        raise ServingError(
            400, f"input {tensor.name!r}: shape {tensor.shape} must be [n] or [n, 1] for {len(tensor.data)} values"
        )
    if tensor.datatype not in DATATYPES[tensor.name]:
        raise ServingError(400, f"input {tensor.name!r} is text: send it as BYTES")
    text = tensor.datatype == "BYTES"
    if any(isinstance(value, str) != text for value in tensor.data):
        must = (
            "BYTES data must be text (send numbers as FP32)"
            if text
            else "FP32 data must be numbers (send text as BYTES)"
        )
        raise ServingError(400, f"input {tensor.name!r}: {must}")
    return tensor.data


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

TAG = "Open Inference Protocol (V2)"
documents = APIRouter(prefix="/v2", tags=[TAG])


@documents.get("", summary="the server: name, version, protocol extensions")
async def server_metadata() -> ServerMetadata:
    return ServerMetadata(name="penguins-to-production", version=__version__, extensions=[])


@documents.get("/health/live", summary="the process is alive")
async def live() -> Live:
    return Live(live=True)


@documents.get("/health/ready", summary="the model is loaded", responses=_NOT_READY)
async def server_ready(model: Loaded) -> Ready:
    return Ready(ready=True)


@documents.get(f"/models/{MODEL}", summary="the model's versions, inputs and outputs", responses=_NOT_READY)
async def model_metadata(model: Loaded) -> ModelMetadata:
    predictor = model.predictor
    # Each input as its values are: a measurement FP32 (it may come as BYTES too), a category BYTES.
    inputs = [TensorMetadata(name=name, datatype=DATATYPES[name][-1], shape=[-1, 1]) for name in FEATURES]
    outputs = [
        TensorMetadata(name=OUTPUT, datatype="FP32", shape=[-1, len(CLASSES)]),
        TensorMetadata(name=SPECIES, datatype="BYTES", shape=[-1]),
    ]
    return ModelMetadata(
        name=MODEL, versions=[predictor.model_version], platform=predictor.backend_name, inputs=inputs, outputs=outputs
    )


@documents.get(f"/models/{MODEL}/ready", summary="the model is loaded", responses=_NOT_READY)
async def model_ready(model: Loaded) -> ModelReady:
    return ModelReady(name=MODEL, ready=True)


async def infer(request: Request) -> InferenceResponse:
    """The body is read here, not by FastAPI, so a malformed request is the protocol's 400."""
    model, inference = model_of(request), validated(REQUEST, await json_body(request, protocol=True))
    columns = columns_of(inference, model.settings.batch_limit)
    count = len(inference.inputs[0].data)
    return response_of(inference, await model.answer(lambda predictor: predictor.predict_columns(columns), count))


def router(settings: Settings) -> APIRouter:
    """The protocol's routes behind deps.guarded, infer's body documented with the one record limit."""
    routes = APIRouter(**guarded(settings))
    routes.include_router(documents)
    routes.add_api_route(
        f"/v2/models/{MODEL}/infer",
        infer,
        methods=["POST"],
        summary="tensors in (one per feature), probabilities and species out",
        responses=_ERRORS,
        tags=[TAG],
        openapi_extra=request_body(request_schema(settings.batch_limit)),
    )
    return routes

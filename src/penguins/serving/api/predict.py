"""POST /predict and /predict/batch: raw records in, species, probabilities and warnings out.

The body goes to the wrapper exactly as sent: what is acceptable is cleaning's call, and so is
the schema /docs shows (cleaning.record_schema through `openapi_extra`): one validation layer.
A refusal is a 422 in FastAPI's shape, cleaning's code as each item's `type`. In `features`
mode (stage 03) the same paths serve the bare model: six typed features (FeatureRecord), so a
messy record is a 422, which is why stage 04 wraps the model.
"""

import functools
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic_core import to_json

from penguins.serving.api.deps import guarded, json_body, many, model_of, request_body, validated
from penguins.serving.cleaning import WarningCode, record_schema, unicode_text
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, INCOMPLETE_RECORD, MESSY_RECORDS
from penguins.serving.predictor import Predictions
from penguins.serving.settings import Settings

_FLOAT32_MAX = float(np.finfo(np.float32).max)


Float32 = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-_FLOAT32_MAX, le=_FLOAT32_MAX)]
Text = Annotated[str, AfterValidator(unicode_text)]


class FeatureRecord(BaseModel):
    """One penguin as the bare model takes it: six typed features, all present, nothing cleaned."""

    model_config = ConfigDict(extra="forbid", strict=True, title="FeatureRecord")

    island: Text
    bill_length_mm: Float32
    bill_depth_mm: Float32
    flipper_length_mm: Float32
    body_mass_g: Float32
    sex: Text


class WarningOut(BaseModel):
    """Something the model answered despite, with its code (cleaning.WARNINGS)."""

    code: WarningCode
    field: str
    message: str


class PredictionOut(BaseModel):
    species: str
    probabilities: dict[str, float]
    model_version: str
    warnings: list[WarningOut] = Field(description="fields the model filled in (imputed), categories it never saw")


class BatchOut(BaseModel):
    predictions: list[PredictionOut]
    model_version: str


def _example(summary: str, value: object) -> dict[str, object]:
    return {"summary": summary, "value": value}


STATUSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "a body that is not UTF-8 text"},
    413: {"description": "a body larger than the limit (PENGUINS_MAX_BODY_BYTES)"},
    415: {"description": "a body not declared as JSON (Content-Type)"},
    422: {
        "description": "values the model will not answer for; each item's `type` is its code "
        "(penguins.serving.cleaning.REFUSALS)"
    },
    503: {"description": "the model is not loaded yet"},
}
RAW_EXAMPLES = {
    "clean": _example("a clean record", CLEAN_RECORD),
    "messy": _example("numbers as text, a decimal comma, shouting", MESSY_RECORDS[0]),
    "markers": _example('the raw data set\'s markers: "NA", "." for an unknown sex', MESSY_RECORDS[1]),
    "left out": _example("a field left out, null, empty text: answered with imputed warnings", MESSY_RECORDS[2]),
    "nothing measured": _example("no measurement at all: a 422 (no_measurements)", INCOMPLETE_RECORD),
    "bad": _example("bad values: a 422 naming each one, with its code", BAD_RECORD),
}
RAW_BATCH_EXAMPLES = {
    "messy": _example("a clean record and three messy ones", [CLEAN_RECORD, *MESSY_RECORDS]),
    "bad": _example("one bad record: a 422 naming its index and fields", [CLEAN_RECORD, BAD_RECORD]),
}
FEATURE_EXAMPLES = {
    "clean": _example("clean typed features", CLEAN_RECORD),
    "messy": _example("a messy record: refused (the wrapper of stage 04 cleans it)", MESSY_RECORDS[0]),
}
FEATURE_BATCH_EXAMPLES = {"clean": _example("clean typed features", [CLEAN_RECORD])}


def answered(answers: Predictions, one_record: bool = False) -> Response:
    """The answer rendered once, as bytes, from the wrapper's dataclasses: a Response goes out as
    it is, so the response models only document it (their validation cost CPU: bench/results/ab.md)."""
    body = answers[0] if one_record else dict(predictions=list(answers), model_version=answers.model_version)
    return Response(to_json(body), media_type="application/json")


# ---------------------------------------------------------------- the wrapper: raw records


async def predict(request: Request) -> Response:
    model, record = model_of(request), await json_body(request)
    return answered(await model.answer(lambda predictor: predictor.predict([record], one_record=True)), True)


async def predict_batch(request: Request) -> Response:
    model = model_of(request)
    records = many(await json_body(request), model.settings.batch_limit)
    return answered(await model.answer(lambda predictor: predictor.predict(records), len(records)))


# ---------------------------------------------------------------- stage 03: the bare model, typed features

_ONE, _MANY = TypeAdapter(FeatureRecord), TypeAdapter(list[FeatureRecord])


async def predict_features(request: Request) -> Response:
    model, record = model_of(request), validated(_ONE, await json_body(request)).model_dump()
    return answered(await model.answer(lambda predictor: predictor.predict_typed([record], one_record=True)), True)


async def predict_features_batch(request: Request) -> Response:
    model = model_of(request)
    checked = validated(_MANY, many(await json_body(request), model.settings.batch_limit))
    records = [record.model_dump() for record in checked]
    return answered(await model.answer(lambda predictor: predictor.predict_typed(records), len(records)))


def router(settings: Settings) -> APIRouter:
    """/predict and /predict/batch for the settings' mode, behind deps.guarded, their bodies documented
    with the one record limit; the endpoints above read the bodies themselves."""
    routes = APIRouter(responses=STATUSES)
    raw, limit = settings.mode == "raw", settings.batch_limit
    record = record_schema() if raw else FeatureRecord.model_json_schema()
    what = "raw {}" if raw else "{} of clean typed features"
    endpoints = (predict, predict_batch) if raw else (predict_features, predict_features_batch)
    examples = (RAW_EXAMPLES, RAW_BATCH_EXAMPLES) if raw else (FEATURE_EXAMPLES, FEATURE_BATCH_EXAMPLES)
    batch = {"type": "array", "items": record, "minItems": 1, "maxItems": limit}
    post = functools.partial(routes.add_api_route, methods=["POST"], **guarded(settings))
    post(
        path="/predict",
        endpoint=endpoints[0],
        response_model=PredictionOut,
        summary=f"predict one {what.format('record')}",
        openapi_extra=request_body(record, examples[0]),
    )
    post(
        path="/predict/batch",
        endpoint=endpoints[1],
        response_model=BatchOut,
        summary=f"predict up to {limit} {what.format('records')}",
        openapi_extra=request_body(batch, examples[1]),
    )
    return routes

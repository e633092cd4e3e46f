"""Property-based tests from the app's own OpenAPI schema (schemathesis): whatever a client
sends, valid or not, the service answers without a server error.

Bounded and reproducible: at most EXAMPLES generated cases per operation and phase,
derandomized, no deadline (this is not a timing test), in process through ASGI.

The schema is read from an app built without a model (the schema does not need one), so
it exists when pytest collects; the requests go to the same app built around a loaded
model. (schemathesis.pytest.from_fixture would be the usual way, but its lazy loader
touches a private pytest attribute that pytest 9 no longer has.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from penguins.serving.api import create_app
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings

EXAMPLES = 50
BACKEND = "mlp-onnx"


def _settings(mode: str) -> Settings:
    return Settings(backend=BACKEND, mode=mode, batch_limit=20, max_body_bytes=50_000, log_level="warning")


def _loaded_app(artifact_dir: Path, mode: str) -> FastAPI:
    return create_app(_settings(mode), PenguinPredictor.load(BACKEND, artifact_dir / BACKEND_FILES[BACKEND]))


wrapper = schemathesis.openapi.from_dict(create_app(_settings("raw")).openapi())
bare = schemathesis.openapi.from_dict(create_app(_settings("features")).openapi())
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def wrapper_app(artifact_dir: Path) -> FastAPI:
    return _loaded_app(artifact_dir, "raw")


@pytest.fixture(scope="module")
def bare_app(artifact_dir: Path) -> FastAPI:
    return _loaded_app(artifact_dir, "features")


@wrapper.parametrize()
@BOUNDED
def test_wrapper_never_answers_with_a_server_error(case: schemathesis.Case, wrapper_app: FastAPI) -> None:
    case.call_and_validate(app=wrapper_app, checks=[not_a_server_error])


@bare.parametrize()
@BOUNDED
def test_bare_model_never_answers_with_a_server_error(case: schemathesis.Case, bare_app: FastAPI) -> None:
    case.call_and_validate(app=bare_app, checks=[not_a_server_error])

"""Property-based tests from the app's own OpenAPI schema (schemathesis), as an outside client
runs them (`schemathesis run <url>/openapi.json --checks all`): every check, on the wrapper
(raw mode, its V2 routes included) and on the bare model (features mode). A schema-valid
request must be answered, a schema-invalid one refused with a 4xx, every status and body must
be the documented ones.

The wrapper's schema states every rule it refuses by, so nothing is excused there: numeric text
is stated in decimals within its range, a record must carry one measurement, each V2 input
is stated per feature. The Open Inference Protocol's agreement between tensors (shapes that say
their data's length, every input as long), which JSON Schema cannot state, is taught to
schemathesis by tests/schemathesis_hooks.py, as a served instance's run is
(`SCHEMATHESIS_HOOKS=tests.schemathesis_hooks`). The bare model excuses only what no schema can
state: values the model gives no finite odds for (no_finite_odds).

Bounded and reproducible: at most EXAMPLES generated cases per operation and phase, a fixed
seed, no deadline (this is not a timing test), in process through ASGI. The schema is read from
an app built without a model (the schema does not need one), so it exists when pytest collects;
the requests go to the same app built around a loaded model. Each operation's test is built when
it runs, not while pytest collects: schemathesis builds its coverage phase's cases with the test
(a minute of CPU), which `parametrize()` would spend in every xdist worker of `make test`, the
workers that never run it included. (schemathesis.pytest.from_fixture would be the usual lazy
way, but it touches a private pytest attribute that pytest 9 no longer has.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.pytest.lazy import get_all_tests

from penguins.serving.api import create_app
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings
from tests import schemathesis_hooks  # noqa: F401  (registers the protocol's agreement between tensors)

EXAMPLES = 50
SEED = 20261201
BACKEND = "mlp-onnx"
# What JSON Schema cannot state; everything else a schema-valid request gets must be a 2xx.
EXCUSED = "no_finite_odds"  # the bare model only: what JSON Schema cannot state

load_all_checks()
POSITIVE_DATA_ACCEPTANCE = CHECKS.get_one("positive_data_acceptance")


def _settings(mode: str) -> Settings:
    return Settings(backend=BACKEND, mode=mode, batch_limit=20, max_body_bytes=50_000, log_level="warning")


def _loaded_app(artifact_dir: Path, mode: str) -> FastAPI:
    return create_app(_settings(mode), PenguinPredictor.load(BACKEND, artifact_dir / BACKEND_FILES[BACKEND]))


wrapper = schemathesis.openapi.from_dict(create_app(_settings("raw")).openapi())
bare = schemathesis.openapi.from_dict(create_app(_settings("features")).openapi())
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def excused(response: object) -> bool:
    """A 422 whose every item is a refusal no schema can state (see the module docstring)."""
    if getattr(response, "status_code", None) != 422:
        return False
    detail = response.json().get("detail")  # type: ignore[attr-defined]
    return bool(detail) and all(item.get("type") == EXCUSED for item in detail)


@seed(SEED)
@BOUNDED
def call_and_check_all(case: schemathesis.Case, app: FastAPI) -> None:
    response = case.call(app=app)
    case.validate_response(response, excluded_checks=[POSITIVE_DATA_ACCEPTANCE] if excused(response) else None)


def operations(schema: schemathesis.BaseSchema) -> list[str]:
    """Each operation's label ("POST /predict"): the test ids `parametrize()` would give."""
    return [result.ok().label for result in schema.get_all_operations()]


def every_phase(schema: schemathesis.BaseSchema, label: str, app: FastAPI) -> None:
    """The operation's hypothesis test as `parametrize()` builds it (examples, fuzzing, coverage), run."""
    method, path = label.split(" ", 1)
    (built,) = get_all_tests(
        schema=schema.include(method=method, path=path), test_func=call_and_check_all, settings=None, given_kwargs=None
    )
    operation, test = built.ok()
    assert operation.label == label
    try:
        test(app=app)
    except FailureGroup as failures:
        raise as_reported_failure(failures) from None


@pytest.fixture(scope="module")
def wrapper_app(artifact_dir: Path) -> FastAPI:
    return _loaded_app(artifact_dir, "raw")


@pytest.fixture(scope="module")
def bare_app(artifact_dir: Path) -> FastAPI:
    return _loaded_app(artifact_dir, "features")


@pytest.mark.parametrize("label", operations(wrapper))
def test_wrapper_passes_every_check(label: str, wrapper_app: FastAPI) -> None:
    every_phase(wrapper, label, wrapper_app)


@pytest.mark.parametrize("label", operations(bare))
def test_bare_model_passes_every_check(label: str, bare_app: FastAPI) -> None:
    every_phase(bare, label, bare_app)

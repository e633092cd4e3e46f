"""The service (lecture stage 05): a FastAPI app around one PenguinPredictor.

`create_app(settings)` builds it for `python -m penguins serve` and the container's uvicorn
alike. HTTP only, one module per resource (status, predict, v2, metrics) as
full-stack-fastapi-template and MLServer lay it out; `deps` holds what routes share, `errors`
the one error type, `gate` what every request goes through. No torch, scikit-learn or pandas.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from penguins import __version__
from penguins.serving import logs
from penguins.serving.api import metrics as metrics_route
from penguins.serving.api import predict, status, v2
from penguins.serving.api.deps import Model
from penguins.serving.api.errors import ServingError, handle
from penguins.serving.api.gate import REQUEST_ID, RequestGate
from penguins.serving.metrics import Metrics, NoMetrics
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings

__all__ = ["REQUEST_ID", "create_app", "load_predictor"]
log = logging.getLogger("penguins.serving.api")


def load_predictor(settings: Settings) -> PenguinPredictor:
    """The model the settings name, loaded and checked once (sha256, feature contract)."""
    return PenguinPredictor.load(settings.backend, settings.model_path)


def create_app(settings: Settings | None = None, predictor: PenguinPredictor | None = None) -> FastAPI:
    """The service. The model is loaded once, at start-up (or handed in already loaded, as
    `python -m penguins serve` does so that a bad artifact stops it before the port opens)."""
    settings = settings or Settings()
    logs.configure(settings.log_level, settings.log_format)
    meter = Metrics() if settings.metrics else NoMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.predictor is None:
            app.state.predictor = load_predictor(settings)
        app.state.model = Model(app.state.predictor, settings, meter)
        meta = app.state.predictor.metadata
        meter.serving(meta.model_version, meta.sha256, app.state.predictor.backend_name)
        log.info("model %s (%s, %s mode) ready", meta.model_version, settings.backend, settings.mode)
        yield

    # FastAPI's own OpenTelemetry stays off: this service counts for Prometheus and logs a line per
    # request, and asking three providers per request whether anyone set one cost ~4 µs in process
    # (a constant route here, the gate left out, costs 0.85× the bare endpoint's CPU under uvicorn).
    off = {"tracing": False, "metrics": False, "logs": False}
    app = FastAPIOffline(title="Penguin species service", version=__version__, lifespan=lifespan, telemetry=off)
    app.description = _description(settings)
    app.state.predictor, app.state.model, app.state.metrics = predictor, None, meter
    app.add_middleware(RequestGate, metrics=meter)
    app.add_exception_handler(ServingError, handle)
    raw = settings.mode == "raw"  # the protocol's clients send raw values through the wrapper, as /predict's do
    routers = [predict.router(settings), *([v2.router(settings)] if raw else []), status.router]
    if isinstance(meter, Metrics):
        routers.append(metrics_route.router)
    # The routes themselves, /predict first, not include_router's nested router: FastAPI 0.165
    # matches one of those twice per request, after the docs' routes (bench/results/ab.md).
    app.router.routes[:0] = [route for router in routers for route in router.routes]
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

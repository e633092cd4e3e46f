"""Is it up, is the model loaded, which model answers: /, /health, /ready, /model."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from penguins import __version__
from penguins.serving.api.deps import NOT_LOADED, Loaded

router = APIRouter()


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


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/docs")


@router.get("/health", summary="the process is alive")
async def health(request: Request) -> Health:
    predictor = request.app.state.predictor
    return Health(status="ok", model_version=predictor.model_version if predictor else None)


@router.get("/ready", summary="the model is loaded: send predictions", responses={503: {"description": NOT_LOADED}})
async def ready(model: Loaded) -> Health:
    return Health(status="ready", model_version=model.predictor.model_version)


@router.get("/model", summary="which model answers: version, sha256, features, metrics")
async def model(loaded: Loaded) -> ModelInfo:
    meta, settings = loaded.predictor.metadata, loaded.settings
    served = {"backend": loaded.predictor.backend_name, "mode": settings.mode, "batch_limit": settings.batch_limit}
    trained = {"features": meta.contract["features"], "trained_with_package": meta.package_version}
    return ModelInfo.model_validate({**vars(meta), **trained, **served, "package_version": __version__})

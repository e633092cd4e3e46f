"""GET /metrics: what penguins.serving.metrics counted, for Prometheus to scrape."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from penguins.serving.metrics import Metrics

router = APIRouter()


@router.get(
    "/metrics",
    response_class=Response,
    summary="requests, answers, refusals and the model, for Prometheus to scrape",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def prometheus(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics  # the route exists only when metrics are on
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

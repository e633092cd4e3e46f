"""A registry of its own, the route template and the status class as labels, custom buckets,
a BaseHTTPMiddleware class, and a /metrics route rendering that registry."""

import time

from fastapi import FastAPI, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
registry = CollectorRegistry()
served = Counter("penguins_served", "requests by route and status class", ["route", "code"], registry=registry)
took = Histogram(
    "penguins_seconds", "seconds per request", ["route"], buckets=(0.001, 0.005, 0.02, 0.1, 1), registry=registry
)


class Measure(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        began = time.monotonic()
        response = await call_next(request)
        route = request.scope.get("route")
        template = route.path if route else "unknown"
        took.labels(template).observe(time.monotonic() - began)
        served.labels(template, f"{response.status_code // 100}xx").inc()
        return response


app.add_middleware(Measure)


@app.post("/predict")
def predict(record: dict) -> dict[str, str]:
    try:
        species = predictor.predict_one(record).species
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return {"species": species}


@app.get("/metrics")
def metrics():
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

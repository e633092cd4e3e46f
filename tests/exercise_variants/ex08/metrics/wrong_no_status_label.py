# fails with: count the answers and the refusals apart
"""Counts every request by path only: answers and refusals end up in one number."""

import time

from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
REQUESTS = Counter("penguin_requests", "requests, by path", ["path"])
SECONDS = Histogram("penguin_request_seconds", "time to answer", ["path"])


@app.middleware("http")
async def count(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    SECONDS.labels(request.url.path).observe(time.perf_counter() - started)
    REQUESTS.labels(request.url.path).inc()
    return response


@app.post("/predict")
def predict(record: dict) -> dict[str, str]:
    try:
        species = predictor.predict_one(record).species
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return {"species": species}


@app.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

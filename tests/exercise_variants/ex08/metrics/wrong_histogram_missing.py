# fails with: expected a Histogram of the time each request took, found none
"""Counts answers and refusals by status, but never times a request."""

from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
REQUESTS = Counter("penguin_requests", "requests, by status", ["status"])


@app.middleware("http")
async def count(request: Request, call_next):
    response = await call_next(request)
    if request.url.path == "/predict":
        REQUESTS.labels(str(response.status_code)).inc()
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

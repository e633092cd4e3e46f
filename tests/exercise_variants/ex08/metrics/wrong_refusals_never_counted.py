# fails with: the refusals were never counted
"""Counts in the endpoint after the answer: a refusal leaves by its exception first, uncounted."""

from fastapi import FastAPI, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
REQUESTS = Counter("penguin_requests", "requests, by status", ["status"])
SECONDS = Histogram("penguin_request_seconds", "time to answer")


@app.post("/predict")
def predict(record: dict) -> dict[str, str]:
    with SECONDS.time():
        try:
            species = predictor.predict_one(record).species
        except ValueError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
    REQUESTS.labels("200").inc()
    return {"species": species}


@app.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

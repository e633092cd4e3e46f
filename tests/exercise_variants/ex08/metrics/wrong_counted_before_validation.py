# fails with: a refused request was counted as answered
"""Counts an answer as soon as a record arrives, before the wrapper has read it: every refusal
is also counted as an answer."""

from fastapi import FastAPI, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
ANSWERED = Counter("penguin_answered", "records answered")
REFUSED = Counter("penguin_refused", "records refused")
SECONDS = Histogram("penguin_seconds", "time per prediction")


@app.post("/predict")
@SECONDS.time()
def predict(record: dict) -> dict[str, str]:
    ANSWERED.inc()
    try:
        species = predictor.predict_one(record).species
    except ValueError as error:
        REFUSED.inc()
        raise HTTPException(status_code=422, detail=str(error)) from None
    return {"species": species}


@app.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

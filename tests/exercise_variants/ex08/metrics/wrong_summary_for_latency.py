# fails with: found a Summary (penguin_request_seconds)
"""Times requests with a Summary: a count and a sum, no buckets, so no p95 across replicas."""

from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Summary, generate_latest

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
REQUESTS = Counter("penguin_requests", "requests, by status", ["status"])
SECONDS = Summary("penguin_request_seconds", "time to answer")


@app.middleware("http")
async def count(request: Request, call_next):
    with SECONDS.time():
        response = await call_next(request)
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

# fails with: expected GET /metrics at the service's own address
"""prometheus_client's own HTTP server, on a port of its own: the service's address has no
/metrics, so Prometheus, pointed at the service, finds nothing."""

import time

from fastapi import FastAPI, HTTPException, Request
from prometheus_client import Counter, Histogram, start_http_server

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
REQUESTS = Counter("penguin_requests", "requests, by status", ["status"])
SECONDS = Histogram("penguin_request_seconds", "time to answer")
start_http_server(0)  # any free port: the mistake is that it is not the service's


@app.middleware("http")
async def count(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    SECONDS.observe(time.perf_counter() - started)
    REQUESTS.labels(str(response.status_code)).inc()
    return response


@app.post("/predict")
def predict(record: dict) -> dict[str, str]:
    try:
        species = predictor.predict_one(record).species
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return {"species": species}

"""A plain ASGI middleware that reads the status from the response's start message; method,
path and status as labels; text/plain at /metrics."""

import time

from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter, Histogram, generate_latest

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
HITS = Counter("http_requests", "HTTP requests", ["method", "path", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "path"])


class CountRequests:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = {}
        start = time.perf_counter()

        async def remember(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, remember)
        LATENCY.labels(scope["method"], scope["path"]).observe(time.perf_counter() - start)
        HITS.labels(scope["method"], scope["path"], str(status.get("code", 500))).inc()


app.add_middleware(CountRequests)


@app.post("/predict")
def predict(record: dict) -> dict[str, str]:
    try:
        species = predictor.predict_one(record).species
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return {"species": species}


@app.get("/metrics", response_class=PlainTextResponse)
def metrics():
    return generate_latest().decode()

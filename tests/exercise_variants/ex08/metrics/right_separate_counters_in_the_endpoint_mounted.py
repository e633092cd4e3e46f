"""One Counter for answers and one for refusals, counted inside the endpoint, the Histogram
timing the endpoint's body, and prometheus_client's ASGI app mounted at /metrics."""

from fastapi import FastAPI, HTTPException
from prometheus_client import Counter, Histogram, make_asgi_app

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI(title="A penguin service")
app.mount("/metrics", make_asgi_app())

answers = Counter("penguin_answers", "records answered with a species")
refusals = Counter("penguin_refusals", "records refused for a value the wrapper cannot read")
duration = Histogram("penguin_predict_duration_seconds", "time spent in /predict")


@app.post("/predict")
def predict(record: dict) -> dict[str, str]:
    with duration.time():
        try:
            species = predictor.predict_one(record).species
        except ValueError as error:
            refusals.inc()
            raise HTTPException(status_code=422, detail=str(error)) from None
        answers.inc()
    return {"species": species}

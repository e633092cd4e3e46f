# fails with: expected GET /health to answer 200, found 404
"""Predicts well, but forgot the health endpoint that a container's orchestrator asks."""

from fastapi import FastAPI, HTTPException

from penguins import PenguinPredictor

app = FastAPI()
predictor = PenguinPredictor.load()


@app.post("/predict")
def predict(record: dict):
    try:
        return {"species": predictor.predict_one(record).species}
    except ValueError as error:
        raise HTTPException(422, str(error)) from None

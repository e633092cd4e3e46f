# fails with: expected "species" to be one name (a str) for the one record sent, found a list ['Adelie']
"""Answers the one record with the wrapper's batch shape: a list of one name."""

from fastapi import FastAPI, HTTPException

from penguins import PenguinPredictor

app = FastAPI()
predictor = PenguinPredictor.load()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(record: dict):
    try:
        return {"species": predictor.predict([record]).species}
    except ValueError as error:
        raise HTTPException(422, str(error)) from None

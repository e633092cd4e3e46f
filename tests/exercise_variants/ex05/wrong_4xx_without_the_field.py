# fails with: expected the 400 for bill_depth_mm='deep' to name the field 'bill_depth_mm', found {"detail":"invalid
"""Refuses a bad value with a 400, but does not say which field to fix."""

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
        return {"species": predictor.predict_one(record).species}
    except ValueError:
        raise HTTPException(400, "invalid input") from None

# fails with: expected a JSON object with the key "species", found {"prediction":"Adelie"}
"""The right name under the wrong key: a client reading "species" finds nothing."""

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
        return {"prediction": predictor.predict_one(record).species}
    except ValueError as error:
        raise HTTPException(422, str(error)) from None

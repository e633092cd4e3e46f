# fails with: found 500 (the server's log says penguins.serving.cleaning.CleaningError: record 0, field 'bill_depth_mm'
"""Never catches the wrapper's refusal: a bad value crashes the endpoint into a 500."""

from fastapi import FastAPI

from penguins import PenguinPredictor

app = FastAPI()
predictor = PenguinPredictor.load()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(record: dict):
    return {"species": predictor.predict_one(record).species}

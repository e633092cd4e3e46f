# fails with: Keep that call under if __name__ == "__main__":
"""Runs itself with `python my_service.py`: uvicorn.run at the bottom, without the __main__ guard,
so importing the module (as uvicorn my_service:app does) starts a second server and no error shows."""

import uvicorn
from fastapi import FastAPI, HTTPException

from penguins import PenguinPredictor

predictor = PenguinPredictor.load()
app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(record: dict):
    try:
        return {"species": predictor.predict_one(record).species}
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


uvicorn.run(app, host="127.0.0.1", port=8123)

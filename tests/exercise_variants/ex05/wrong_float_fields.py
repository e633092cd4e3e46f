# fails with: expected the species of a messy but valid record (decimal commas, odd case, spaces)
"""A pydantic model with float fields: FastAPI refuses "46,5" with a 422 before the wrapper sees it."""

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from penguins import PenguinPredictor


class Penguin(BaseModel):
    island: str
    bill_length_mm: float
    bill_depth_mm: float
    flipper_length_mm: float
    body_mass_g: float
    sex: str | None = None


app = FastAPI()
predictor = PenguinPredictor.load()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(penguin: Penguin):
    try:
        return {"species": predictor.predict_one(penguin.model_dump()).species}
    except ValueError as error:
        raise HTTPException(422, str(error)) from None

"""A pydantic model of the record whose fields take text too, and a 400 with the wrapper's message."""

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from penguins import PenguinPredictor

Value = float | str | None


class Penguin(BaseModel):
    island: Value = None
    bill_length_mm: Value = None
    bill_depth_mm: Value = None
    flipper_length_mm: Value = None
    body_mass_g: Value = None
    sex: Value = None


app = FastAPI()
model = PenguinPredictor.load()


@app.get("/health")
def health():
    return {"ok": True}


@app.post("/predict")
def predict(penguin: Penguin):
    try:
        prediction = model.predict([penguin.model_dump(exclude_none=True)])[0]
    except ValueError as error:
        raise HTTPException(400, detail=str(error)) from None
    return {"species": prediction.species, "probabilities": prediction.probabilities}

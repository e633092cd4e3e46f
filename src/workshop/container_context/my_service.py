"""My penguin service, in exercise 05's shape: POST /predict takes one raw record and answers
{"species": ...}; GET /health says it is up, with the model's version.

It finds its model in artifacts/ beside this file and imports the wrapper from the penguins
package beside it: keep the three together, in the image as in this folder.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException

from penguins.serving.cleaning import CleaningError
from penguins.serving.predictor import PenguinPredictor

MODEL = Path(__file__).resolve().parent / "artifacts" / "mlp.onnx"
predictor = PenguinPredictor.load("mlp-onnx", MODEL)  # a missing or tampered model stops the service here
app = FastAPI(title="My penguin service")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "model_version": predictor.model_version}


@app.post("/predict")
def predict(record: dict[str, Any]) -> dict[str, str]:
    """The species of one raw record; a value the wrapper cannot use is a 422 naming its field."""
    try:
        prediction = predictor.predict_one(record)
    except CleaningError as error:
        problems = [{"field": problem.field, "reason": problem.reason} for problem in error.problems]
        raise HTTPException(status_code=422, detail=problems) from None
    return {"species": prediction.species}

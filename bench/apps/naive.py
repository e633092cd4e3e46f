"""The naive baseline: a model served the way typical tutorials do it, on purpose.

Everything here is what the workshop teaches you not to do, kept so the benchmark can show
what it costs: the pickle is loaded with no check of its origin, version or hash; every
request builds a one-row pandas DataFrame and runs the scikit-learn pipeline on it; values
are not cleaned, only typed by pydantic. It is not part of the package and nothing imports it.
Run: NAIVE_MODEL=artifacts/pipeline.pkl uvicorn bench.apps.naive:app
"""

from __future__ import annotations

import os
import pickle

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

with open(os.environ.get("NAIVE_MODEL", "model.pkl"), "rb") as file:
    model = pickle.load(file)

app = FastAPI()


class Penguin(BaseModel):
    island: str
    bill_length_mm: float
    bill_depth_mm: float
    flipper_length_mm: float
    body_mass_g: float
    sex: str


@app.get("/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/predict")
def predict(penguin: Penguin) -> dict[str, object]:
    frame = pd.DataFrame([penguin.model_dump()])
    probabilities = model.predict_proba(frame)[0]
    best = int(probabilities.argmax())
    return {
        "species": str(model.classes_[best]),
        "probabilities": dict(zip(map(str, model.classes_), probabilities.tolist(), strict=True)),
    }

"""The student's own ex04 wrapper pasted in, around a pickled scikit-learn pipeline; a 422 naming the field."""

import math
import os
import pickle
from pathlib import Path

import pandas as pd
from fastapi import FastAPI, HTTPException

NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
TEXT = ["island", "sex"]


class MyWrapper:
    def __init__(self, path):
        with open(path, "rb") as file:
            self.model = pickle.load(file)

    def predict(self, records):
        if isinstance(records, dict):
            records = [records]
        rows = [self.clean(record) for record in records]
        return [str(s) for s in self.model.predict(pd.DataFrame(rows, columns=NUMBERS + TEXT))]

    def clean(self, record):
        row = {}
        for field in NUMBERS:
            value = record.get(field)
            text = str(value).strip().replace(",", ".") if value is not None else ""
            try:
                row[field] = float(text) if text.lower() not in ("", "na") else math.nan
            except ValueError:
                raise ValueError(f"{field}: cannot read {value!r}") from None
        row["island"] = str(record.get("island") or "").strip().title()
        row["sex"] = str(record.get("sex") or "").strip().lower()
        return row


# The session's pickled pipeline, where exercise 04's own model file would be.
wrapper = MyWrapper(Path(os.environ["PENGUINS_ARTIFACTS"]) / "pipeline.pkl")
app = FastAPI()


@app.get("/health")
def health():
    return {}


@app.post("/predict")
def predict(record: dict):
    try:
        (species,) = wrapper.predict(record)
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return {"species": species}

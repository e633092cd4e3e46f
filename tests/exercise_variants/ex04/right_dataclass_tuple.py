# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
"""A dataclass that is handed the loaded model; plain-Python cleaning; answers as a tuple."""

import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def read_number(field: str, value: Any) -> float:
    if value is None or (isinstance(value, str) and value.strip().upper() in {"", "NA"}):
        return np.nan
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        raise KeyError(f"field {field} must be a number, got {value!r}") from None


@dataclass
class Wrapper:
    model: Any

    def predict(self, records):
        many = records if isinstance(records, list) else [records]
        rows = []
        for record in many:
            row = {field: read_number(field, record.get(field)) for field in NUMBERS}
            row.update({field: " ".join(str(record.get(field, "")).split()) for field in TEXT})
            row["island"], row["sex"] = row["island"].title(), row["sex"].lower()
            rows.append(row)
        return tuple(str(name) for name in self.model.predict(pd.DataFrame(rows)[NUMBERS + TEXT]))


def make_predictor():
    with open(model_path, "rb") as file:
        return Wrapper(pickle.load(file))

# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
# fails with: a dict is one record: turn it into a list of one before treating records as a list
"""A wrapper written for lists only: a single dict is iterated key by key."""

import pickle

import numpy as np
import pandas as pd


def parse(field, value):
    if value is None:
        return np.nan
    text = str(value).strip().replace(",", ".")
    if text in ("", "NA", "na"):
        return np.nan
    try:
        return float(text)
    except ValueError as error:
        raise ValueError(f"{field} is not a number: {value!r}") from error


class ListsOnly:
    def __init__(self):
        self.model = pickle.load(open(model_path, "rb"))  # noqa: SIM115

    def predict(self, records):
        table = pd.DataFrame(
            {
                **{field: [parse(field, record.get(field)) for record in records] for field in NUMBERS},
                "island": [str(record.get("island", "")).strip().title() for record in records],
                "sex": [str(record.get("sex", "")).strip().lower() for record in records],
            }
        )
        return list(map(str, self.model.predict(table[NUMBERS + TEXT])))


make_predictor = ListsOnly

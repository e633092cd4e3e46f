# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
# fails with: expected predict to refuse bill_depth_mm='deep' with an error naming 'bill_depth_mm'
"""pd.to_numeric(errors="coerce"): a bill depth of "deep" silently becomes a missing value."""

import pickle

import pandas as pd


class Wrapper:
    def __init__(self, path):
        with open(path, "rb") as file:
            self.model = pickle.load(file)

    def predict(self, records):
        table = pd.DataFrame([records] if isinstance(records, dict) else records)
        for field in NUMBERS:
            text = table[field].astype(str).str.strip().str.replace(",", ".", regex=False)
            table[field] = pd.to_numeric(text, errors="coerce")
        table["island"] = table["island"].astype(str).str.strip().str.title()
        table["sex"] = table["sex"].astype(str).str.strip().str.lower()
        return table.pipe(lambda t: self.model.predict(t[NUMBERS + TEXT])).tolist()


def make_predictor():
    return Wrapper(model_path)

# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
"""Cleaning with pandas on the whole table at once; a custom exception that carries the field."""

import pickle

import pandas as pd


class BadField(ValueError):
    def __init__(self, field, value):
        super().__init__(f"cannot read {value!r} in field {field}")


class TableWrapper:
    def __init__(self, model):
        self.model = model

    @classmethod
    def from_file(cls, path):
        return cls(pickle.loads(path.read_bytes()))

    def predict(self, records):
        table = pd.DataFrame([records] if isinstance(records, dict) else list(records))
        for field in TEXT:
            table[field] = table[field].astype(str).str.strip()
        table["island"] = table["island"].str.capitalize()
        table["sex"] = table["sex"].str.lower()
        for field in NUMBERS:
            text = table[field].astype(str).str.strip().str.replace(",", ".", regex=False)
            text = text.mask(text.str.upper().isin(["NA", "NONE", ""]))
            numbers = pd.to_numeric(text, errors="coerce")
            bad = numbers.isna() & text.notna()
            if bad.any():
                raise BadField(field, table.loc[bad.idxmax(), field])
            table[field] = numbers
        return list(self.model.predict(table[NUMBERS + TEXT]))


def make_predictor():
    return TableWrapper.from_file(model_path)

# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
# fails with: expected the error for bill_depth_mm='deep' to name the field 'bill_depth_mm', found ValueError
"""Refuses the bad value, but the message does not say which field to fix."""

import pickle

import pandas as pd


class Wrapper:
    def __init__(self, path):
        with open(path, "rb") as file:
            self.model = pickle.load(file)

    def predict(self, records):
        records = [records] if isinstance(records, dict) else records
        rows = []
        for record in records:
            row = {}
            for field in NUMBERS:
                value = record.get(field)
                if value is None or str(value).strip() == "NA":
                    row[field] = None
                else:
                    row[field] = float(str(value).replace(",", "."))
            row["island"] = str(record["island"]).strip().title()
            row["sex"] = str(record["sex"]).strip().lower()
            rows.append(row)
        return [str(s) for s in self.model.predict(pd.DataFrame(rows, columns=NUMBERS + TEXT))]


def make_predictor():
    return Wrapper(model_path)

# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
# fails with: expected predict to answer messy records (decimal commas, odd case, spaces, 'NA'), but it raised
"""Strips and fixes the case, but reads "39,1" with float() as it is."""

import pickle

import pandas as pd


class Wrapper:
    def __init__(self, path):
        self.model = pickle.loads(path.read_bytes())

    def predict(self, records):
        records = [records] if isinstance(records, dict) else records
        rows = []
        for record in records:
            row = {}
            for field in NUMBERS:
                value = record.get(field)
                row[field] = None if value in (None, "NA") else float(value)
            row["island"] = str(record["island"]).strip().title()
            row["sex"] = str(record["sex"]).strip().lower()
            rows.append(row)
        return [str(s) for s in self.model.predict(pd.DataFrame(rows, columns=NUMBERS + TEXT))]


def make_predictor():
    return Wrapper(model_path)

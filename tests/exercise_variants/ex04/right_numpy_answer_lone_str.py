# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
"""Per-field functions in a table of rules; a numpy array for many records, a str for one dict."""

import pickle
import re

import pandas as pd

NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def number(field, value):
    if value is None or str(value).strip() in ("", "NA", "na"):
        return None
    text = str(value).strip()
    if not NUMBER.match(text):
        raise ValueError(f"{field!r} should be a number, not {value!r}")
    return float(text.replace(",", "."))


RULES = {field: number for field in NUMBERS}
RULES["island"] = lambda field, value: str(value).strip().capitalize()
RULES["sex"] = lambda field, value: str(value).strip().casefold()


class RulePredictor:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as file:
            self.model = pickle.loads(file.read())

    def predict(self, records):
        if isinstance(records, dict):
            return str(self.predict([records])[0])
        rows = [{field: rule(field, record.get(field)) for field, rule in RULES.items()} for record in records]
        return self.model.predict(pd.DataFrame(rows, columns=NUMBERS + TEXT).astype({f: float for f in NUMBERS}))


def make_predictor():
    return RulePredictor(model_path)

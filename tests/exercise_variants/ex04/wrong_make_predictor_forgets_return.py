# ruff: noqa: F821  (model_path, NUMBERS, TEXT: the starter cell defines them)
# fails with: expected make_predictor() to return an object with a predict method, found None
"""Builds the wrapper in make_predictor and forgets to return it."""

import pickle

import pandas as pd


class Wrapper:
    def __init__(self, path):
        with open(path, "rb") as file:
            self.model = pickle.load(file)

    def predict(self, records):
        return [str(s) for s in self.model.predict(pd.DataFrame(records))]


def make_predictor():
    predictor = Wrapper(model_path)  # noqa: F841

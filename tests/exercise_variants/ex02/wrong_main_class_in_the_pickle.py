# ruff: noqa: F821  (penguins, NUMBERS: the starter cell defines them)
# fails with: your model refers to `__main__.LogBodyMass`: move it into a module
"""A transformer class defined in the notebook: pickled by reference to __main__, missing elsewhere."""

import hashlib
import json
import pickle
import platform
from pathlib import Path

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline


class LogBodyMass(BaseEstimator, TransformerMixin):
    def fit(self, features, labels=None):
        return self

    def transform(self, features):
        return np.log(np.asarray(features, dtype=float))


model = make_pipeline(LogBodyMass(), LogisticRegression(max_iter=1000)).fit(penguins[NUMBERS], penguins["species"])


def save(model, path):
    data = pickle.dumps(model)
    Path(path).write_bytes(data)
    versions = {"sklearn": sklearn.__version__, "python": platform.python_version()}
    Path(f"{path}.json").write_text(json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "versions": versions}))


def verify(path):
    recorded = json.loads(Path(f"{path}.json").read_text())["sha256"]
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() == recorded

"""A class with two methods, plain open(), versions from importlib.metadata, Python as major.minor."""

import hashlib
import json
import pickle
import sys
from importlib import metadata


class ModelStore:
    def save(self, model, path):
        with open(path, "wb") as file:
            pickle.dump(model, file)
        with open(path, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        versions = {"sklearn": metadata.version("scikit-learn"), "python": python}
        with open(f"{path}.json", "w", encoding="utf-8") as file:
            json.dump({"sha256": digest, "versions": versions}, file)

    def verify(self, path):
        with open(f"{path}.json", encoding="utf-8") as file:
            recorded = json.load(file)["sha256"]
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest() == recorded


store = ModelStore()
save, verify = store.save, store.verify

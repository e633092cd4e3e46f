"""A class with static methods; the versions as the interpreter and the library print them: the
whole sys.version banner, "3.11.7 (main, ...) [GCC ...]", judged by the same rule as "3.11"."""

import hashlib
import json
import pickle
import sys
from importlib.metadata import version
from pathlib import Path


class Store:
    @staticmethod
    def save(model, path):
        blob = pickle.dumps(model)
        Path(path).write_bytes(blob)
        versions = {"python": sys.version, "sklearn": version("scikit-learn")}
        meta = {"sha256": hashlib.sha256(blob).hexdigest(), "versions": versions}
        Path(str(path) + ".json").write_text(json.dumps(meta))

    @staticmethod
    def verify(path):
        recorded = json.loads(Path(str(path) + ".json").read_text())
        return recorded["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()


save, verify = Store.save, Store.verify

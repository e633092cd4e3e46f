# fails with: (the hash of the bytes in model.pkl)
"""Hashes the model's repr instead of the bytes written: verify agrees with itself, the file does not."""

import hashlib
import json
import pickle
import platform
from pathlib import Path

import sklearn


def save(model, path):
    Path(path).write_bytes(pickle.dumps(model))
    versions = {"sklearn": sklearn.__version__, "python": platform.python_version()}
    meta = {"sha256": hashlib.sha256(repr(model).encode()).hexdigest(), "versions": versions}
    Path(f"{path}.json").write_text(json.dumps(meta))


def verify(path):
    return json.loads(Path(f"{path}.json").read_text())["sha256"] is not None

# fails with: expected verify to return True or False for the untouched file, found None
"""Computes the comparison and forgets to return it."""

import hashlib
import json
import pickle
import platform
from pathlib import Path

import sklearn


def save(model, path):
    data = pickle.dumps(model)
    Path(path).write_bytes(data)
    versions = {"sklearn": sklearn.__version__, "python": platform.python_version()}
    Path(f"{path}.json").write_text(json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "versions": versions}))


def verify(path):
    recorded = json.loads(Path(f"{path}.json").read_text())["sha256"]
    ok = hashlib.sha256(Path(path).read_bytes()).hexdigest() == recorded  # noqa: F841

"""pathlib throughout, a sidecar helper, verify that says False when the sidecar is missing."""

import hashlib
import json
import pickle
import platform
from pathlib import Path

import sklearn


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save(model, path):
    path = Path(path)
    path.write_bytes(pickle.dumps(model))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    versions = {"sklearn": sklearn.__version__, "python": platform.python_version()}
    sidecar(path).write_text(json.dumps({"sha256": sha, "versions": versions}), encoding="utf-8")


def verify(path) -> bool:
    path = Path(path)
    if not sidecar(path).exists():
        return False
    expected = json.loads(sidecar(path).read_text(encoding="utf-8"))["sha256"]
    return hashlib.sha256(path.read_bytes()).hexdigest() == expected

# fails with: expected versions['python'] to state
"""A version typed from memory: "Python 3.10" is another interpreter than the one that pickled."""

import hashlib
import json
import pickle
from pathlib import Path

import sklearn


def save(model, path):
    data = pickle.dumps(model)
    Path(path).write_bytes(data)
    versions = {"sklearn": sklearn.__version__, "python": "Python 3.10"}
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "versions": versions}
    Path(f"{path}.json").write_text(json.dumps(meta))


def verify(path):
    meta = json.loads(Path(f"{path}.json").read_text())
    return meta["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()

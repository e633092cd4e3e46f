# fails with: expected versions['python'] to state
"""Records the scikit-learn version but not Python's (a pickle can break across Python versions too)."""

import hashlib
import json
import pickle
from pathlib import Path

import sklearn


def save(model, path):
    data = pickle.dumps(model)
    Path(path).write_bytes(data)
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "versions": {"sklearn": sklearn.__version__}}
    Path(f"{path}.json").write_text(json.dumps(meta))


def verify(path):
    recorded = json.loads(Path(f"{path}.json").read_text())["sha256"]
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() == recorded

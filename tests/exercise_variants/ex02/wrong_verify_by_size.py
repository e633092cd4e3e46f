# fails with: expected verify to return False for a copy with one byte changed, found True
"""Records and compares the size: a cut or an added byte is caught, a changed byte is not."""

import hashlib
import json
import pickle
import platform
from pathlib import Path

import sklearn


def save(model, path):
    data = pickle.dumps(model)
    Path(path).write_bytes(data)
    meta = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "versions": {"sklearn": sklearn.__version__, "python": platform.python_version()},
    }
    Path(f"{path}.json").write_text(json.dumps(meta), encoding="utf-8")


def verify(path):
    return Path(path).stat().st_size == json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))["size"]

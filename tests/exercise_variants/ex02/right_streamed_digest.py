"""os.path strings, the hash read back in chunks, a sidecar with more fields than asked for."""

import hashlib
import json
import os.path
import pickle
import platform
import time

import sklearn


def digest_of(filename):
    sha = hashlib.sha256()
    with open(filename, "rb") as file:
        for chunk in iter(lambda: file.read(1024), b""):
            sha.update(chunk)
    return sha.hexdigest().upper()


def save(model, path):
    filename = os.fspath(path)
    with open(filename, "wb") as file:
        file.write(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    meta = {
        "sha256": digest_of(filename),
        "size": os.path.getsize(filename),
        "saved_at": time.time(),
        "versions": {"python": platform.python_version(), "sklearn": sklearn.__version__},
    }
    with open(filename + ".json", "w", encoding="utf-8") as file:
        json.dump(meta, file)
    return meta


def verify(path):
    with open(os.fspath(path) + ".json", encoding="utf-8") as file:
        return digest_of(path).lower() == json.load(file)["sha256"].lower()

"""Exercise 02: `save(model, path)` writes a pickle that loads in a fresh process (no notebook classes)
and a sidecar with the sha256 of the bytes on disk and the versions; `verify(path)` accepts the file
and refuses a copy with a byte changed, cut or added."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from penguins.serving.artifacts import sidecar
from workshop import fresh
from workshop.checks.common import CheckFailed, call, passed, require

VERSION_NUMBER = re.compile(r"\d+(?:\.\d+)+")  # 3.11, 3.11.7, 1.9.1: the number inside a version text
MAIN_CLASS = re.compile(r"Can't get attribute '([\w.]+)' on <module '__main__'")
# Unpickle where nothing of the notebook exists, in the notebook's folder (on sys.path) as `python` there.
LOADER = """\
import pickle, sys
with open(sys.stdin.read(), "rb") as file:
    model = pickle.load(file)
print(type(model).__module__ + "." + type(model).__qualname__)
"""
COPIES: dict[str, Callable[[bytes], bytes]] = {  # what verify is given, and how its bytes differ
    "the untouched file": lambda data: data,
    "a copy with one byte changed": lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
    "a copy cut short": lambda data: data[:-10],
    "a copy with one byte added": lambda data: data + b"\0",
}


def check_save_and_verify(save: Callable[[Any, Path], object], verify: Callable[[Path], object], model: Any) -> None:
    """`save` writes a pickle that loads elsewhere and a true sidecar; `verify` catches damage."""
    require(save, "define save(model, path)")
    require(verify, "define verify(path)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pkl"
        tip = "a lambda or a class defined in this notebook cannot be pickled by reference; put it in a module"
        result = call(save, "save(model, path) to write the files", tip, model, path)
        require(result, "write the body of save: pickle the model to path, then the sidecar next to it")
        for written, advice in (
            (path, "write to the path you are given"),
            (sidecar(path), "name it after the pickle plus .json"),
        ):
            if not written.is_file():
                found = sorted(p.name for p in path.parent.iterdir()) or "nothing"
                raise CheckFailed(f"expected save(model, path) to write {written.name}, found only {found}: {advice}")
        loaded = _load_in_fresh_process(path)
        recorded = _check_sidecar(path)
        for index, (what, change) in enumerate(COPIES.items()):
            copy = path.parent / f"copy{index}" / path.name
            copy.parent.mkdir()
            shutil.copyfile(sidecar(path), sidecar(copy))
            copy.write_bytes(change(path.read_bytes()))
            _expect(verify, copy, what, index == 0)
    passed(
        f"save wrote model.pkl ({loaded}, loads in a fresh process) and model.pkl.json (sha256 {recorded[:12]}); "
        "verify accepts it and refuses a changed, a cut and an added byte"
    )


def _load_in_fresh_process(path: Path) -> str:
    done = fresh.run(LOADER, stdin=str(path), cwd=Path.cwd())
    if done.ok:
        return done.stdout.strip()
    found = MAIN_CLASS.search(done.stderr)
    if found:
        raise CheckFailed(
            f"your model refers to `__main__.{found.group(1)}`: move it into a module (a .py file beside the "
            "notebook) and import it; a fresh process has no notebook"
        )
    tip = "pickle.load on the file in a terminal, `python -c` in the notebook's folder"
    raise CheckFailed(f"expected the pickle to load in a fresh process, found: {done.error or 'no message'}; try {tip}")


def _check_sidecar(path: Path) -> str:
    """The sidecar's sha256 is that of the bytes on disk; its versions are this environment's."""
    import sklearn

    meta_path = sidecar(path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        recorded, versions = meta.get("sha256"), meta.get("versions")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:  # AttributeError: no object
        raise CheckFailed(f"expected a JSON object in {meta_path.name}, found other text ({error})") from None
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if not isinstance(recorded, str) or recorded.lower() != actual:
        raise CheckFailed(
            f"expected sha256 {actual[:16]}... (the hash of the bytes in {path.name}), found {recorded!r}: "
            "hash exactly the bytes you wrote, as hex digits (.hexdigest())"
        )
    for key, version, where in (
        ("sklearn", sklearn.__version__, "sklearn.__version__"),
        ("python", platform.python_version(), "platform.python_version()"),
    ):
        # Any text stating a version passes when its first dotted number ("3.11" in "3.11.7 (main, ...)")
        # is this one, in full or as far as it goes, major.minor at least.
        value = versions.get(key) if isinstance(versions, dict) else None  # 'versions': {'sklearn': ..., ...}
        found = VERSION_NUMBER.search(value) if isinstance(value, str) else None
        if not found or not (version == found.group(0) or version.startswith(found.group(0) + ".")):
            raise CheckFailed(f"expected versions['{key}'] to state {version!r}, found {value!r}: read it from {where}")
    return actual


def _expect(verify: Callable[[Path], object], path: Path, what: str, expected: bool) -> None:
    tip = "compare hashes before anything reads the pickle, and return the result"
    verdict = call(verify, f"verify to return {expected} for {what}", tip, path)
    require(verdict, "write the body of verify: hash the file and compare with the sidecar's sha256")
    if not isinstance(verdict, (bool, np.bool_)):
        tip = "return the comparison itself (did the function end without a return?)"
        raise CheckFailed(f"expected verify to return True or False for {what}, found {verdict!r}: {tip}")
    if bool(verdict) != expected:
        tip = "compare the sha256 of the file's bytes now with the sidecar's, not its size or its name"
        raise CheckFailed(f"expected verify to return {expected} for {what}, found {bool(verdict)}: {tip}")

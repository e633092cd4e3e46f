"""Exercise 02, save the model: `save(model, path)` writes a pickle and a true sidecar; `verify(path)` catches damage.

The check calls the student's two functions on files of its own, in a folder of its own:
- the pickle must load in a fresh Python process (`sys.executable`, nothing of this kernel in
  memory), which is where a class defined in the notebook (`__main__.X`) is found missing;
- `path.json` must hold the sha256 of the bytes on disk and the versions that made them;
- `verify` must accept the untouched file and refuse a copy with one byte changed, one cut
  short and one with a byte added.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from workshop.checks.common import CheckFailed, first_line, passed, require

VERSION_NUMBER = re.compile(r"\d+(?:\.\d+)+")  # 3.11, 3.11.7, 1.9.1: the number inside a version text
MAIN_CLASS = re.compile(r"Can't get attribute '([\w.]+)' on <module '__main__'")
LOAD_TIMEOUT = 120.0
# The fresh process unpickles the file and names what it found: the student's model, loaded
# where nothing of the notebook exists.
LOADER = """\
import pickle, sys
with open(sys.argv[1], "rb") as file:
    model = pickle.load(file)
print(type(model).__module__ + "." + type(model).__qualname__)
"""


def sidecar(path: Path) -> Path:
    """`model.pkl` -> `model.pkl.json`: the metadata file the task asks for."""
    return path.with_name(path.name + ".json")


def check_save_and_verify(save: Callable[[Any, Path], object], verify: Callable[[Path], object], model: Any) -> None:
    """`save` writes a pickle that loads elsewhere and a true sidecar; `verify` catches damage."""
    require(save, "define save(model, path)")
    require(verify, "define verify(path)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pkl"
        _call_save(save, model, path)
        loaded = _load_in_fresh_process(path)
        recorded = _check_sidecar(path)
        _check_verify(verify, path)
    passed(
        f"save wrote model.pkl ({loaded}, loads in a fresh process) and model.pkl.json (sha256 {recorded[:12]}, "
        "versions); verify accepts the file and refuses a changed byte, a cut and an added byte"
    )


def _call_save(save: Callable[[Any, Path], object], model: Any, path: Path) -> None:
    try:
        result = save(model, path)
    except Exception as error:  # any crash of the student's function is the finding
        raise CheckFailed(
            f"expected save(model, path) to write the files, but it raised {first_line(error)}: "
            "a lambda or a class defined in this notebook cannot be pickled by reference; put it in a module"
        ) from None
    require(result, "write the body of save: pickle the model to path, then the sidecar next to it")
    if not path.is_file():
        found = sorted(p.name for p in path.parent.iterdir())
        raise CheckFailed(
            f"expected save(model, path) to write the pickle at path itself, found only {found or 'nothing'}: "
            "write to the path you are given, not to a name of your own"
        )


def _load_in_fresh_process(path: Path) -> str:
    """Unpickle in a new interpreter (the notebook's folder on sys.path, as `python` there has)."""
    done = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)],
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT,
        cwd=os.getcwd(),
        check=False,
    )
    if done.returncode == 0:
        return done.stdout.strip()
    found = MAIN_CLASS.search(done.stderr)
    if found:
        raise CheckFailed(
            f"your model refers to `__main__.{found.group(1)}`: move it into a module (a .py file beside the "
            "notebook) and import it from there; a fresh process has no notebook to find it in"
        )
    last = (done.stderr.strip().splitlines() or ["no message"])[-1]
    raise CheckFailed(
        f"expected the pickle to load in a fresh Python process, found: {last}; try pickle.load on the file "
        "in a terminal: python -c \"import pickle; pickle.load(open('model.pkl', 'rb'))\""
    )


def _check_sidecar(path: Path) -> str:
    """The sidecar's sha256 is that of the bytes on disk; its versions are this environment's."""
    import sklearn

    meta_path = sidecar(path)
    if not meta_path.is_file():
        raise CheckFailed(
            f"expected a sidecar {meta_path.name} beside {path.name}, found "
            f"{sorted(p.name for p in path.parent.iterdir())}: name it after the pickle plus .json"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckFailed(f"expected JSON in {meta_path.name}, found text json cannot read ({error})") from None
    if not isinstance(meta, dict):
        raise CheckFailed(f"expected a JSON object in {meta_path.name}, found {type(meta).__name__}")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    recorded = meta.get("sha256")
    if not isinstance(recorded, str) or recorded.lower() != actual:
        raise CheckFailed(
            f"expected sha256 {actual[:16]}... (the hash of the bytes in {path.name}), found {recorded!r}: "
            "hash exactly the bytes you wrote, as hex digits (.hexdigest())"
        )
    versions = meta.get("versions")
    if not isinstance(versions, dict):
        raise CheckFailed(
            f"expected 'versions' in {meta_path.name} with 'sklearn' and 'python', found {versions!r}: "
            "an object such as {'sklearn': '1.x', 'python': '3.x'}"
        )
    _check_version(versions, "sklearn", sklearn.__version__, "sklearn.__version__")
    _check_version(versions, "python", platform.python_version(), "platform.python_version()")
    return actual


def _check_version(versions: dict[str, Any], key: str, actual: str, where: str) -> None:
    """One rule for any text that states a version: its first dotted number (`3.11` in "3.11", `3.11.7`
    in sys.version's "3.11.7 (main, ...) [GCC ...]") is this one, in full or as far as it goes,
    major.minor at least."""
    value = versions.get(key)
    found = VERSION_NUMBER.search(value) if isinstance(value, str) else None
    given = found.group(0) if found else ""
    if not given or not (actual == given or actual.startswith(given + ".")):
        raise CheckFailed(f"expected versions['{key}'] to state {actual!r}, found {value!r}: read it from {where}")


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "a copy with one byte changed": lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
    "a copy cut short": lambda data: data[:-10],
    "a copy with one byte added": lambda data: data + b"\0",
}


def _check_verify(verify: Callable[[Path], object], path: Path) -> None:
    """verify(path) on the untouched file, then on damaged copies (each with the sidecar beside it)."""
    _expect(verify, path, "the untouched file", True)
    for index, (damage, change) in enumerate(DAMAGES.items()):
        copy = path.parent / f"damaged{index}" / path.name
        copy.parent.mkdir()
        shutil.copyfile(sidecar(path), sidecar(copy))
        copy.write_bytes(change(path.read_bytes()))
        _expect(verify, copy, damage, False)


def _expect(verify: Callable[[Path], object], path: Path, what: str, expected: bool) -> None:
    try:
        verdict = verify(path)
    except Exception as error:  # any crash of the student's function is the finding
        raise CheckFailed(
            f"expected verify to return {expected} for {what}, but it raised {first_line(error)}: "
            "compare hashes before anything reads the pickle, and return the result"
        ) from None
    require(verdict, "write the body of verify: hash the file and compare with the sidecar's sha256")
    if not isinstance(verdict, (bool, np.bool_)):
        raise CheckFailed(
            f"expected verify to return True or False for {what}, found {verdict!r}: "
            "return the comparison itself (did the function end without a return?)"
        )
    if bool(verdict) != expected:
        hint = (
            "read the recorded hash from the sidecar and compare it with the hash of the file's bytes now"
            if expected
            else "compare the sha256 of the file's bytes with the recorded one, not its size or its name"
        )
        raise CheckFailed(f"expected verify to return {expected} for {what}, found {bool(verdict)}: {hint}")

"""Exercise 02, save the model: a pickle with a true sidecar, and a tamper check that catches damage."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from penguins.serving.contract import CLASSES
from workshop.checks.common import (
    CheckFailed,
    first_line,
    held_out,
    passed,
    require,
)

if TYPE_CHECKING:
    pass


def check_saved_with_metadata(path: Path | str, meta: Any) -> None:
    """A pickle with a sidecar whose hash, classes, libraries and accuracy are all true."""
    require(meta, "save `model` at saved_path with artifacts.write_artifact and keep what it returns in `meta`")
    from penguins.serving import artifacts
    from penguins.training import pickles

    path = Path(path)
    if not path.exists():
        raise CheckFailed(
            f"no file {path.name}: write it with artifacts.write_artifact(saved_path, pickle.dumps(model), ...)"
        )
    if not artifacts.sidecar(path).exists():
        raise CheckFailed(
            f"{path.name} has no metadata beside it (expected {artifacts.sidecar(path).name}): "
            "artifacts.write_artifact writes both"
        )
    try:
        model, on_disk = pickles.load_pickle(path)
    except artifacts.ArtifactError as error:
        raise CheckFailed(f"loading {path.name} was refused: {error}") from None
    if meta != on_disk:
        raise CheckFailed(
            f"`meta` is not what write_artifact wrote for {path.name}: assign meta = artifacts.write_artifact(...)"
        )
    _check_metadata_is_true(model, meta)
    passed(
        f"{path.name}: sha256 {meta.sha256[:12]} verified, model version {meta.model_version}, "
        f"test accuracy {meta.metrics['test_accuracy']:.3f} is what the saved model scores"
    )


def _check_metadata_is_true(model: Any, meta: Any) -> None:
    """Compare what the sidecar claims with what the loaded model does on the held-out rows."""
    if not hasattr(model, "predict"):
        raise CheckFailed(f"the pickle holds a {type(model).__name__}, not a model: save pickle.dumps(model)")
    if meta.classes != list(CLASSES):
        raise CheckFailed(
            f"the metadata lists classes {meta.classes}, expected {list(CLASSES)}: pass classes=list(model.classes_)"
        )
    if not meta.model_version or not isinstance(meta.model_version, str):
        raise CheckFailed(
            "the metadata has no model_version: name the training run, e.g. with artifacts.model_version(...)"
        )
    if "scikit-learn" not in meta.libraries:
        raise CheckFailed(
            "the metadata does not say which scikit-learn made the pickle: pass "
            "libraries=artifacts.library_versions('scikit-learn'); another version may load it differently"
        )
    recorded = meta.metrics.get("test_accuracy")
    if not isinstance(recorded, (int, float)):
        raise CheckFailed(
            f"expected metrics={{'test_accuracy': ...}}, found metrics={meta.metrics}: "
            "measure the accuracy on the held-out rows (logreg.accuracy(model, test))"
        )
    test = held_out()
    actual = float(np.mean(model.predict(test.features) == test.labels))
    if abs(recorded - actual) > 1e-9:
        raise CheckFailed(
            f"the metadata says test_accuracy {recorded:.4f} but the saved model scores "
            f"{actual:.4f} on the held-out rows: record the accuracy you measured on `test`"
        )


def check_tamper_detected(is_intact: Callable[[Path], bool]) -> None:
    """`is_intact` passes an untouched artifact and catches every kind of damage."""
    require(is_intact, "define is_intact(path) -> bool")
    with tempfile.TemporaryDirectory() as tmp:
        for damage, path in _damaged_copies(Path(tmp)).items():
            verdict = _ask(is_intact, path, damage)
            expected = damage == "untouched"
            if verdict != expected:
                raise CheckFailed(
                    f"is_intact says {verdict} for {damage}, expected {expected}: {_TAMPER_HINTS[expected]}"
                )
    passed("is_intact accepts an untouched file and catches a changed byte, a file cut short and an added byte")


_TAMPER_HINTS = {
    True: "an untouched file must pass; compare hashlib.sha256(path.read_bytes()).hexdigest() "
    "with artifacts.read_metadata(path).sha256",
    False: "compare the hash of the bytes with the recorded sha256, not the size or the name",
}


def _damaged_copies(folder: Path) -> dict[str, Path]:
    """An artifact of the check's own, copied untouched and with three kinds of damage."""
    from penguins.serving import artifacts

    original = folder / "model.bin"
    artifacts.write_artifact(
        original,
        bytes(range(256)) * 8,
        format="pickle",
        kind="sklearn-pipeline",
        classes=list(CLASSES),
        metrics={},
        model_version="check-0",
    )
    damages: dict[str, Callable[[bytes], bytes]] = {
        "untouched": lambda data: data,
        "a file with one byte changed": lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],
        "a file cut short": lambda data: data[:-10],
        "a file with one byte added": lambda data: data + b"\0",
    }
    copies = {}
    for index, (damage, change) in enumerate(damages.items()):
        copy = folder / f"copy{index}" / original.name
        copy.parent.mkdir()
        shutil.copyfile(artifacts.sidecar(original), artifacts.sidecar(copy))
        copy.write_bytes(change(original.read_bytes()))
        copies[damage] = copy
    return copies


def _ask(is_intact: Callable[[Path], bool], path: Path, damage: str) -> bool:
    """The student's verdict on one file; a blank, a crash or a non-bool is the message."""
    try:
        verdict = is_intact(path)
    except Exception as error:  # any crash of the student's function is the finding
        raise CheckFailed(f"is_intact raised {first_line(error)} for {damage}: return True or False instead") from None
    require(verdict, "write the body of is_intact: compare the file's sha256 with the one in its sidecar")
    if not isinstance(verdict, (bool, np.bool_)):
        raise CheckFailed(f"is_intact must return True or False, it returned {verdict!r} for {damage}")
    return bool(verdict)

"""Model files on disk, each with a metadata sidecar that says what it is and proves it is intact.

A model file alone is an anonymous blob. Beside every artifact `X` we write `X.json`:
its sha256, the model version, the feature contract, the library versions it was made
with, the classes and the metrics. Loading checks the file against that record first,
so a missing, truncated or tampered file stops with one line that says what to do.

Only the standard library is imported here: the serving path (ONNX) uses this module
without scikit-learn, pandas or torch. Writing artifacts is training's job
(penguins.training.artifacts), and so are the pickle and skops loaders, which rebuild
scikit-learn objects (penguins.training.pickles).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from penguins import __version__
from penguins.serving.contract import CONTRACT_VERSION, describe

FIX = "run `make export` (or `python -m penguins export`) to build it again"


class ArtifactError(RuntimeError):
    """A model file that must not be used; the message is one line with what to do."""


@dataclass(frozen=True)
class Metadata:
    """What the sidecar JSON holds. `model_version` names the training run
    (penguins.training.artifacts.model_version)."""

    file: str
    format: str  # "pickle", "skops", "onnx" or "torch"
    kind: str  # "sklearn-pipeline" or "mlp"
    sha256: str
    model_version: str
    classes: list[str]
    metrics: dict[str, float]
    contract: dict[str, Any] = field(default_factory=describe)
    package_version: str = __version__
    git_commit: str = "unknown"
    libraries: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    # The training split's clean features (penguins.monitoring.drift.reference_from): what a
    # drift check compares today's traffic with, without the training data at hand.
    reference: dict[str, Any] | None = None

    @property
    def contract_version(self) -> str:
        return str(self.contract.get("version"))


def sidecar(path: Path) -> Path:
    """`model.onnx` → `model.onnx.json`."""
    return path.with_name(path.name + ".json")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_metadata(path: Path) -> Metadata:
    """The sidecar of `path`, or ArtifactError if it is missing or unreadable."""
    side = sidecar(Path(path))
    if not side.exists():
        raise ArtifactError(f"metadata file {side} is missing: {FIX}")
    try:
        return Metadata(**json.loads(side.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as err:
        raise ArtifactError(f"metadata file {side} is unreadable ({err}): {FIX}") from None


def read_artifact(path: Path, expected_format: str | None = None) -> tuple[bytes, Metadata]:
    """The verified bytes of an artifact and its metadata.

    The bytes are read once and hashed before anything parses them, so what is checked
    is exactly what gets loaded.
    """
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"model file {path} is missing: {FIX}")
    meta = read_metadata(path)
    if expected_format and meta.format != expected_format:
        raise ArtifactError(f"{path} is a {meta.format} file, expected {expected_format}")
    data = path.read_bytes()
    if sha256_hex(data) != meta.sha256:
        raise ArtifactError(
            f"model file {path} does not match its sha256 in {sidecar(path).name} "
            f"(tampered or truncated): do not use it; {FIX}"
        )
    if meta.contract_version != CONTRACT_VERSION:
        raise ArtifactError(
            f"{path} was trained for feature contract v{meta.contract_version}, "
            f"this code speaks v{CONTRACT_VERSION}: {FIX}"
        )
    return data, meta

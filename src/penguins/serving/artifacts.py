"""Model files on disk, each with a metadata sidecar that says what it is and proves it is intact.

A model file alone is an anonymous blob. Beside every artifact `X` we write `X.json`:
its sha256, the model version, the feature contract, the library versions it was made
with, the classes and the metrics. Loading checks the file against that record first,
so a missing, truncated or tampered file stops with one line that says what to do.

Only the standard library is imported here: the serving path (ONNX) uses this module
without scikit-learn, pandas or torch. The pickle and skops loaders, which rebuild
scikit-learn objects, live with training (penguins.training.pickles).
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from penguins import __version__
from penguins.serving.contract import CONTRACT_VERSION, describe

FIX = "run `make export` (or `python -m penguins export`) to build it again"


class ArtifactError(RuntimeError):
    """A model file that must not be used; the message is one line with what to do."""


@dataclass(frozen=True)
class Metadata:
    """What the sidecar JSON holds. `model_version` names the training run (see model_version())."""

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


def model_version(kind: str, recipe: dict[str, Any]) -> str:
    """A name for a training run: the kind plus a hash of everything that made the model.

    The recipe holds the contract version, a fingerprint of the training data, the
    hyper-parameters and the seed. Training the same recipe again gives the same version
    (training is seeded), so the version in `/health` tells which model answers; the
    sha256 beside it tells which exact bytes.
    """
    canonical = json.dumps({"kind": kind, **recipe}, sort_keys=True, default=str)
    return f"{kind}-{sha256_hex(canonical.encode())[:12]}"


def library_versions(*names: str) -> dict[str, str]:
    """Installed versions, read from package metadata so nothing heavy gets imported."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """The commit the training code came from, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def write_artifact(path: Path, data: bytes, **fields: Any) -> Metadata:
    """Write the model bytes and their sidecar; `fields` fill the Metadata record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = Metadata(
        file=path.name,
        sha256=sha256_hex(data),
        git_commit=git_commit(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
    )
    path.write_bytes(data)
    sidecar(path).write_text(json.dumps(asdict(meta), indent=2) + "\n", encoding="utf-8")
    return meta


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

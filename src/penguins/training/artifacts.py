"""Writing a model file and its metadata sidecar: what only training does.

Serving reads and checks artifacts (penguins.serving.artifacts: the sidecar's fields, the file's
sha256, the feature contract); what a sidecar records about how its model was made (the training
run's version, the git commit, the library versions) is worked out here, when the model is made,
so the serving image carries neither this code nor a git call.
"""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from penguins.serving.artifacts import Metadata, sha256_hex, sidecar

# sha256_hex is serving's (it checks the same digest on load); a training script that
# fingerprints its data with it imports it from here with the rest.
__all__ = ["Metadata", "git_commit", "library_versions", "model_version", "sha256_hex", "write_artifact"]


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

"""The framework formats of stage 02: a pickled or skops'd scikit-learn pipeline, and its backend.

Both rebuild scikit-learn objects, so they need scikit-learn (and pandas, which the pipeline
was fitted on): that is why they live with training and never on the serving path. The
stage-02 server hands `load_predictor("sklearn-pickle")` to the service ready-made.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from penguins.serving.artifacts import FIX, ArtifactError, Metadata, read_artifact
from penguins.serving.cleaning import DEFAULT_CLEANER, CleanBatch, Cleaner
from penguins.serving.contract import BACKEND_FILES, DEFAULT_BACKEND, Backend
from penguins.serving.paths import artifacts_dir
from penguins.serving.predictor import PenguinPredictor
from penguins.training.artifacts import library_versions
from penguins.training.data import batch_to_frame


def check_library(meta: Metadata, name: str, *, allow_mismatch: bool = False) -> None:
    """Refuse (or, if allowed, warn about) a model made with another version of `name`.

    Unpickling a scikit-learn model under another scikit-learn version may fail, or may
    work and predict differently; scikit-learn itself only warns. We stop instead.
    """
    made_with = meta.libraries.get(name)
    installed = library_versions(name)[name]
    if made_with is None or made_with == installed:
        return
    message = (
        f"{meta.file} was saved with {name} {made_with} but {installed} is installed: "
        f"{FIX}, or install {name}=={made_with}"
    )
    if not allow_mismatch:
        raise ArtifactError(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def load_pickle(path: Path, *, allow_version_mismatch: bool = False) -> tuple[Any, Metadata]:
    """Unpickle a verified file. Pickle runs code while loading: only load files you trust."""
    data, meta = read_artifact(path, "pickle")
    check_library(meta, "scikit-learn", allow_mismatch=allow_version_mismatch)
    return pickle.loads(data), meta


def load_skops(path: Path, trusted: list[str] | None = None) -> tuple[Any, Metadata]:
    """Load a skops file, which rebuilds objects from data instead of running code.

    skops refuses any type not in `trusted`; by default we trust exactly the types the
    file says it needs when they come from numpy or scikit-learn, and refuse the rest.
    """
    import skops.io as sio

    data, meta = read_artifact(path, "skops")
    needed = sio.get_untrusted_types(data=data)
    if trusted is None:
        trusted = [t for t in needed if t.split(".")[0] in {"numpy", "sklearn"}]
    untrusted = sorted(set(needed) - set(trusted))
    if untrusted:
        raise ArtifactError(f"{path} needs types that are not trusted: {', '.join(untrusted)}")
    return sio.loads(data, trusted=trusted), meta


class PickleBackend:
    """The scikit-learn pipeline as it was pickled; it needs scikit-learn and pandas."""

    def __init__(self, path: Path, allow_version_mismatch: bool = False) -> None:
        self.pipeline, self.metadata = load_pickle(path, allow_version_mismatch=allow_version_mismatch)

    def predict_proba(self, batch: CleanBatch) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(batch_to_frame(batch)))


def load_predictor(
    backend: Backend = DEFAULT_BACKEND, path: Path | str | None = None, cleaner: Cleaner = DEFAULT_CLEANER
) -> PenguinPredictor:
    """The wrapper over any backend, the pickled pipeline included (serving opens ONNX only)."""
    if backend != "sklearn-pickle":
        return PenguinPredictor.load(backend, path, cleaner)
    model_path = Path(path) if path else artifacts_dir() / BACKEND_FILES[backend]
    return PenguinPredictor(PickleBackend(model_path), backend, cleaner)

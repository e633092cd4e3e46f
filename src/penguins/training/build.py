"""Train, save and export every artifact the stages use, or only the missing ones.

`python -m penguins train` and `export` call this, and so does any notebook that finds
an artifact missing: every stage can run on its own, in any order.

    artifacts/pipeline.pkl    scikit-learn pipeline, pickled        (stage 02)
    artifacts/pipeline.skops  the same pipeline, skops format       (stage 02)
    artifacts/mlp.pt          PyTorch MLP weights, torch.save       (stage 02)
    artifacts/pipeline.onnx   the pipeline in ONNX                  (stage 03)
    artifacts/mlp.onnx        preprocessing + MLP in one ONNX file  (stage 03)

Each has its metadata sidecar `<file>.json` (penguins.training.artifacts writes it,
penguins.serving.artifacts reads and checks it).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from sklearn.pipeline import Pipeline

from penguins.monitoring import drift
from penguins.serving.artifacts import read_artifact, sidecar
from penguins.serving.cleaning import CleanBatch, clean_records
from penguins.serving.contract import CLASSES, CONTRACT_VERSION
from penguins.serving.paths import artifacts_dir
from penguins.training import artifacts, data, logreg, mlp, pickles

TRAINED = ("pipeline.pkl", "pipeline.skops", "mlp.pt")
EXPORTED = ("pipeline.onnx", "mlp.onnx")
SKLEARN_LIBS = ("numpy", "scikit-learn", "pandas")
# ONNX must reproduce its source within this (probabilities); measured: ~1e-7.
PARITY_TOLERANCE = 1e-5
Say = Callable[[str], None]


def _recipe(frame_fingerprint: str, params: Mapping[str, object], seed: int) -> dict[str, object]:
    return {"contract": CONTRACT_VERSION, "data": frame_fingerprint, "params": params, "seed": seed}


def _fingerprint(dataset: data.Dataset) -> str:
    """A hash of the training rows, so another data set gives another model version."""
    text = dataset.features.to_csv(index=False) + ",".join(map(str, dataset.labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def train(folder: Path | None = None, seed: int = data.SEED, say: Say = print) -> dict[str, artifacts.Metadata]:
    """Fit the pipeline and the MLP on the training split; save pickle, skops and torch files."""
    folder = Path(folder or artifacts_dir())
    say("1/4 loading the raw penguins data (offline, from the palmerpenguins package)")
    train_rows, test_rows = data.split(data.raw_as_contract(data.load_penguins_raw()), seed)
    train_set, test_set = data.prepare(train_rows), data.prepare(test_rows)
    say(f"    {len(train_set)} training rows, {len(test_set)} test rows")
    say("2/4 fitting the scikit-learn pipeline (impute, scale, one-hot, logistic regression)")
    pipeline = logreg.fit_pipeline(train_set)
    if tuple(pipeline.classes_) != CLASSES:
        raise RuntimeError(f"classes {pipeline.classes_} differ from the contract {CLASSES}")
    fingerprint = _fingerprint(train_set)
    reference = drift.reference_from(clean_records(data.to_records(train_rows)))
    test_accuracy = logreg.accuracy(pipeline, test_set)
    pipe_meta: dict[str, Any] = {
        "kind": "sklearn-pipeline",
        "classes": list(CLASSES),
        "metrics": {"test_accuracy": test_accuracy},
        "model_version": artifacts.model_version("logreg", _recipe(fingerprint, logreg.LOGREG_PARAMS, seed)),
        "libraries": artifacts.library_versions(*SKLEARN_LIBS, "skops"),
        "reference": reference,
    }
    say(f"    test accuracy {test_accuracy:.3f}")
    say("3/4 training the PyTorch MLP on the pipeline's preprocessed features")
    net, mlp_accuracy = _fit_mlp(pipeline, train_set, test_set, seed, say)
    say(f"    test accuracy {mlp_accuracy:.3f}")
    say(f"4/4 saving to {folder}/")
    saved = {
        "pipeline.pkl": artifacts.write_artifact(
            folder / "pipeline.pkl", pickle.dumps(pipeline), format="pickle", **pipe_meta
        ),
        "pipeline.skops": _save_skops(folder / "pipeline.skops", pipeline, pipe_meta),
        "mlp.pt": artifacts.write_artifact(
            folder / "mlp.pt",
            mlp.to_bytes(net),
            format="torch",
            kind="mlp",
            classes=list(CLASSES),
            metrics={"test_accuracy": mlp_accuracy},
            model_version=artifacts.model_version("mlp", _recipe(fingerprint, mlp.MLP_PARAMS, seed)),
            libraries=artifacts.library_versions("torch"),
            reference=reference,
        ),
    }
    for name, meta in saved.items():
        say(f"    {name:<16} {meta.model_version}  sha256 {meta.sha256[:12]}")
    return saved


def _fit_mlp(
    pipeline: Pipeline, train_set: data.Dataset, test_set: data.Dataset, seed: int, say: Say
) -> tuple[mlp.PenguinMLP, float]:
    preprocess = pipeline.named_steps["preprocess"]
    features = preprocess.transform(train_set.features).astype(np.float32)
    labels = np.searchsorted(np.array(CLASSES), train_set.labels.astype(str))
    net = mlp.fit_mlp(features, labels, seed, lambda epoch, loss: say(f"    epoch {epoch:>3}  loss {loss:.4f}"))
    probabilities = mlp.predict_proba(net, preprocess.transform(test_set.features).astype(np.float32))
    accuracy = float(np.mean(np.array(CLASSES)[probabilities.argmax(axis=1)] == test_set.labels))
    return net, accuracy


def _save_skops(path: Path, pipeline: Pipeline, meta: dict[str, Any]) -> artifacts.Metadata:
    import skops.io as sio

    return artifacts.write_artifact(path, sio.dumps(pipeline), format="skops", **meta)


def export(folder: Path | None = None, say: Say = print) -> dict[str, artifacts.Metadata]:
    """Convert the saved models to ONNX; the metadata carries over with ONNX's versions."""
    from penguins.training import export as onnx_export

    folder = Path(folder or artifacts_dir())
    pipeline, pipe_meta = pickles.load_pickle(folder / "pipeline.pkl")
    net_bytes, net_meta = read_artifact(folder / "mlp.pt", "torch")
    net = mlp.from_bytes(net_bytes)
    preprocess = pipeline.named_steps["preprocess"]
    batch = parity_batch()
    frame = data.batch_to_frame(batch)
    say("1/2 scikit-learn pipeline → pipeline.onnx (skl2onnx)")
    pipe_onnx = onnx_export.pipeline_to_onnx(pipeline)
    pipe_parity = onnx_export.parity(pipeline.predict_proba(frame), onnx_export.run_onnx(pipe_onnx, batch))
    say(f"    parity with scikit-learn: {pipe_parity}")
    say("2/2 preprocessing + PyTorch MLP → mlp.onnx (skl2onnx + torch.onnx + onnx.compose)")
    mlp_onnx = onnx_export.mlp_to_onnx(preprocess, net)
    torch_proba = mlp.predict_proba(net, preprocess.transform(frame).astype(np.float32))
    mlp_parity = onnx_export.parity(torch_proba, onnx_export.run_onnx(mlp_onnx, batch))
    say(f"    parity with PyTorch:      {mlp_parity}")
    for check in (pipe_parity, mlp_parity):
        if not check.labels_equal or check.max_abs_diff > PARITY_TOLERANCE:
            raise RuntimeError(f"ONNX export does not reproduce its source model: {check}")
    onnx_libs = ("onnx", "onnxruntime", "skl2onnx")
    written = {
        "pipeline.onnx": _save_onnx(folder / "pipeline.onnx", pipe_onnx, pipe_meta, onnx_libs),
        "mlp.onnx": _save_onnx(folder / "mlp.onnx", mlp_onnx, net_meta, (*onnx_libs, "torch", "onnxscript")),
    }
    for name, meta in written.items():
        say(f"    {name:<16} {meta.model_version}  sha256 {meta.sha256[:12]}")
    return written


def _save_onnx(
    path: Path, model: onnx.ModelProto, source: artifacts.Metadata, libs: tuple[str, ...]
) -> artifacts.Metadata:
    return artifacts.write_artifact(
        path,
        model.SerializeToString(),
        format="onnx",
        kind=source.kind,
        classes=source.classes,
        metrics=source.metrics,
        model_version=source.model_version,
        libraries=artifacts.library_versions("numpy", *libs),
        reference=source.reference,
    )


def parity_batch() -> CleanBatch:
    """Every row of the data set, cleaned: what parity is measured on."""
    return clean_records(data.to_records(data.raw_as_contract(data.load_penguins_raw())))


def missing(folder: Path | None = None) -> list[str]:
    """The artifacts (and sidecars) not on disk yet."""
    folder = Path(folder or artifacts_dir())
    names = (*TRAINED, *EXPORTED)
    return [n for n in names if not (folder / n).exists() or not sidecar(folder / n).exists()]


def ensure(folder: Path | None = None, say: Say = print) -> Path:
    """Build whatever is missing, so any stage can start from a fresh checkout."""
    folder = Path(folder or artifacts_dir())
    absent = missing(folder)
    if any(name in TRAINED for name in absent):
        train(folder, say=say)
    if absent:
        export(folder, say=say)
    return folder

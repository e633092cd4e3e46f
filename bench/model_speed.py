"""The model alone and through the wrapper: one row and 10,000 rows, every way of running it.

Model alone means each model gets its input ready-made, as it would take it:
- the unpickled scikit-learn pipeline a DataFrame of clean columns (the baseline);
- the PyTorch MLP the preprocessed float matrix (its preprocessing is the pipeline's);
- ONNX Runtime, for both files, the clean columns (preprocessing is inside the graph).
Through the wrapper means `PenguinPredictor.predict` from raw records, end to end: cleaning
(with the answering rules: refusals, warnings), the model and the answers (`Predictions`, arrays
with a Prediction per record built only when asked; one record: `predict_one`, which builds it),
which is what the service pays per request; cleaning alone is timed too, to show which part of
that is the value rules.

Every model runs on one thread, as a one-worker server would give it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import validation
from bench.budget import Budget
from bench.rows import Row
from penguins.serving.artifacts import read_artifact
from penguins.serving.cleaning import DEFAULT_CLEANER, clean_records
from penguins.serving.contract import BACKEND_FILES, NUMERIC_FEATURES
from penguins.serving.predictor import OnnxBackend
from penguins.training import data, mlp
from penguins.training.pickles import load_pickle, load_predictor

SECTION = "model"
BASELINE = "scikit-learn pipeline (pickle)"
SIZES = {"1 row": 1, "10,000 rows": 10_000}
Call = Callable[[], object]


def raw_records(count: int) -> list[dict[str, object]]:
    """`count` raw records of the data set as a client sends them, repeated to fill `count`:
    the rows with at least one measurement (the wrapper refuses the two without any)."""
    records = [
        record
        for record in data.to_records(data.raw_as_contract(data.load_penguins_raw()))
        if any(record[name] is not None for name in NUMERIC_FEATURES)
    ]
    return (records * (count // len(records) + 1))[:count]


def timings(call: Call, budget: Budget) -> list[float]:
    """Seconds per call for one round: at least `model_min_repeats` calls, and as many as fit."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < budget.model_min_repeats or time.perf_counter() - start < budget.model_seconds:
        before = time.perf_counter()
        call()
        times.append(time.perf_counter() - before)
    return times


def contenders(folder: Path, records: list[dict[str, object]]) -> dict[str, tuple[str, Call]]:
    """name → (what it takes, a call that predicts `records`), inputs prepared outside the call."""
    pipeline, _ = load_pickle(folder / "pipeline.pkl")
    net = mlp.from_bytes(read_artifact(folder / "mlp.pt", "torch")[0])
    batch = clean_records(records)
    frame = data.batch_to_frame(batch)
    features = pipeline.named_steps["preprocess"].transform(frame).astype(np.float32)
    onnx_pipeline = OnnxBackend(folder / "pipeline.onnx")
    onnx_mlp = OnnxBackend(folder / "mlp.onnx")
    wrapped = {name: load_predictor(name, folder / file) for name, file in BACKEND_FILES.items()}
    calls: dict[str, tuple[str, Call]] = {
        BASELINE: ("clean DataFrame", lambda: pipeline.predict_proba(frame)),
        "PyTorch MLP (network only)": ("preprocessed matrix", lambda: mlp.predict_proba(net, features)),
        "ONNX Runtime: pipeline.onnx": ("clean columns", lambda: onnx_pipeline.predict_proba(batch)),
        "ONNX Runtime: mlp.onnx": ("clean columns", lambda: onnx_mlp.predict_proba(batch)),
        "cleaning alone (penguins.serving.cleaning)": ("raw records", lambda: DEFAULT_CLEANER.prepare(records)),
        **validation.calls(records),
    }
    for name, predictor in wrapped.items():
        if len(records) == 1:
            call: Call = lambda p=predictor: p.predict_one(records[0])  # noqa: E731
        else:
            call = lambda p=predictor: p.predict(records)  # noqa: E731
        calls[f"wrapper {name}, end to end"] = ("raw records", call)
    return calls


def measure(folder: Path, budget: Budget) -> list[Row]:
    """One row per contender and batch size: the median milliseconds per call over all rounds.

    Every call is made once before timing (imports, allocations, caches); then the
    contenders take turns for `budget.rounds` rounds.
    """
    import torch

    torch.set_num_threads(1)
    rows = []
    for case, count in SIZES.items():
        calls = contenders(folder, raw_records(count))
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _, call in calls.values():
            call()
        for _ in range(budget.rounds):
            for name, (_, call) in calls.items():
                samples[name] += timings(call, budget)
        rows += [
            Row(SECTION, name, case, statistics.median(samples[name]) * 1e3, "ms", note=takes)
            for name, (takes, _) in calls.items()
        ]
    return rows

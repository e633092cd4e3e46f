"""The servers the benchmark compares, each as a command that starts it with one worker.

- the bare endpoint: FastAPI + uvicorn returning a constant, the floor of the stack;
- the served `/predict`: the workshop's own service, started the way a student starts it
  (`python -m workshop serve 04`, what `make serve-04` runs), with its defaults: one log line per request included;
- the naive tutorial: a pickled pipeline and a DataFrame per request (bench/apps/naive.py).
The bare and naive apps run under uvicorn with its defaults, except that the floor logs
nothing: it is meant to cost as little as the stack can.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.servers import ROOT, ServerSpec
from penguins.serving.examples import CLEAN_RECORD

BARE = "bare endpoint (constant)"
SERVED_ONNX = "served /predict (ONNX)"
SERVED_PICKLE = "served /predict (pickle)"
SERVED_QUIET = "served /predict (ONNX, LOG_LEVEL=warning)"
SERVED_TUNED = "served /predict (ONNX) + former micro-optimisations (A/B)"
SERVED_NO_METRICS = "served /predict (ONNX, METRICS=false)"
# The service as it was before issue 24's one validation layer and plain HTTP layer: its commit's
# src/, exported beside the results, run by the same launcher (the before/after of CPU per request).
BEFORE_COMMIT = "964f3b9"
SERVED_BEFORE = f"served /predict (ONNX), before issue 24 ({BEFORE_COMMIT})"
NAIVE = "naive tutorial (pickle + DataFrame)"
# The peers (python -m bench.peers) serve the same two models with their own defaults.
MLSERVER_ONNX = "MLServer (ONNX)"
MLSERVER_PICKLE = "MLServer (scikit-learn)"
BENTOML_ONNX = "BentoML (ONNX)"
BENTOML_PICKLE = "BentoML (scikit-learn)"
LITSERVE_ONNX = "LitServe (ONNX, our cleaning)"
RAY_ONNX = "Ray Serve (ONNX, our cleaning)"

UVICORN = (sys.executable, "-m", "uvicorn", "--host", "{host}", "--port", "{port}", "--workers", "1")


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def bare() -> ServerSpec:
    return ServerSpec(
        BARE, (*UVICORN, "--no-access-log", "--log-level", "warning", "bench.apps.bare:app"), body(CLEAN_RECORD)
    )


def naive(folder: Path) -> ServerSpec:
    return ServerSpec(
        NAIVE, (*UVICORN, "bench.apps.naive:app"), body(CLEAN_RECORD), env={"NAIVE_MODEL": str(folder / "pipeline.pkl")}
    )


SERVED = {"04": SERVED_ONNX, "02": SERVED_PICKLE}


def served(folder: Path, stage: str = "04", log_level: str | None = None, metrics: bool = True) -> ServerSpec:
    """The workshop's service as a student starts it, `python -m workshop serve 04`
    (the wrapper over the ONNX model; stage 02: over the pickle), with its own defaults.

    `log_level="warning"` turns off its one log line per request, to show what that line costs;
    `metrics=False` its Prometheus counters (PENGUINS_METRICS=false): the A/B of what /metrics costs.
    """
    argv = (
        sys.executable,
        "-m",
        "workshop",
        "serve",
        stage,
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--artifacts",
        str(folder),
    )
    if log_level:
        return ServerSpec(SERVED_QUIET, argv, body(CLEAN_RECORD), env={"PENGUINS_LOG_LEVEL": log_level})
    if not metrics:
        return ServerSpec(SERVED_NO_METRICS, argv, body(CLEAN_RECORD), env={"PENGUINS_METRICS": "false"})
    return ServerSpec(SERVED[stage], argv, body(CLEAN_RECORD))


def tuned(folder: Path) -> ServerSpec:
    """The A/B of item 6 (bench/apps/tuned.py): the same service, the former micro-optimisations put back."""
    argv = (
        sys.executable,
        "-m",
        "bench.apps.tuned",
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--artifacts",
        str(folder),
    )
    return ServerSpec(SERVED_TUNED, argv, body(CLEAN_RECORD))


def before(folder: Path, commit: str = BEFORE_COMMIT, name: str = SERVED_BEFORE) -> ServerSpec:
    """The served /predict as of `commit`: `git archive` of its src/ into bench/.before/,
    first on PYTHONPATH, started the same way as `served`."""
    src = ROOT / "bench" / ".before" / commit
    if not (src / "src").is_dir():
        src.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    spec = served(folder)
    return ServerSpec(name, spec.argv, spec.body, env={"PYTHONPATH": str(src / "src")})

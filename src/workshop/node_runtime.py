"""Another developer, another language: `notebooks/node/predict.js`, the whole program a JavaScript
developer would write, runs an ONNX file with onnxruntime-node (`make node-env`) on the same clean batch."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from penguins.serving.cleaning import CleanBatch
from penguins.serving.paths import project_root

FOLDER = Path("notebooks") / "node"
SCRIPT = "predict.js"
PACKAGE = "onnxruntime-node"


def script() -> Path:
    """The JavaScript program in this checkout, as a student reads it in notebook 98."""
    return (project_root() or Path.cwd()) / FOLDER / SCRIPT


def missing() -> str | None:
    """Why Node.js cannot run the model here (no `node`, or the package not installed), or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed here (no `node` on PATH)"
    if not (script().parent / "node_modules" / PACKAGE / "package.json").exists():
        return f"{PACKAGE} is not installed: run `make node-env`"
    return None


@dataclass(frozen=True)
class NodeAnswer:
    node: str
    onnxruntime: str
    probabilities: np.ndarray


def columns_json(batch: CleanBatch) -> str:
    """A clean batch as JSON columns: JSON has no NaN, so a missing number travels as null."""
    return json.dumps(
        {name: [None if v != v else v for v in column.tolist()] for name, column in batch.items()}
    )  # NaN != NaN


def run(model: Path, batch: CleanBatch) -> NodeAnswer:
    """Run `node predict.js <model>` on `batch`; raise RuntimeError with Node's last words on failure."""
    if reason := missing():
        raise RuntimeError(reason)
    command = ["node", SCRIPT, str(Path(model).resolve())]
    done = subprocess.run(
        command, input=columns_json(batch), capture_output=True, text=True, timeout=60, cwd=script().parent
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"node {SCRIPT} failed (exit code {done.returncode}): {last[0]}")
    reply = json.loads(done.stdout)
    return NodeAnswer(reply["node"], reply["onnxruntime"], np.array(reply["probabilities"], dtype=np.float32))

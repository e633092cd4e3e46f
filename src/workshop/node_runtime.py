"""Another developer, another language (stage 03): run an ONNX file from Node.js.

`notebooks/node/predict.js` is the whole program a JavaScript developer would write: it reads
clean feature columns as JSON on stdin, runs the file with onnxruntime-node and prints the
probabilities. run() feeds it the same clean batch that Python's ONNX Runtime gets, so the
notebook can compare both answers in numbers.

`make node-env` installs onnxruntime-node with `npm ci` from the committed lock file into
notebooks/node/node_modules (git-ignored), with install scripts off: the package's postinstall
only fetches extra GPU binaries from NuGet, while its CPU binaries come inside the npm package.
Nothing here installs anything; missing() says what is absent and which command adds it.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from penguins.serving.cleaning import CleanBatch

FOLDER = Path("notebooks") / "node"
SCRIPT = "predict.js"
PACKAGE = "onnxruntime-node"
INSTALL_COMMAND = "make node-env"
TIMEOUT = 60.0


def folder() -> Path:
    """notebooks/node in this checkout."""
    from penguins.serving.paths import project_root

    return (project_root() or Path.cwd()) / FOLDER


def script() -> Path:
    """The JavaScript program, as a student reads it in notebook 03."""
    return folder() / SCRIPT


def missing() -> str | None:
    """Why Node.js cannot run the model here (no `node`, or the package not installed), or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed here (no `node` on PATH)"
    if not (folder() / "node_modules" / PACKAGE / "package.json").exists():
        return f"{PACKAGE} is not installed: run `{INSTALL_COMMAND}`"
    return None


@dataclass(frozen=True)
class NodeAnswer:
    """What the Node.js program printed: its versions and one row of probabilities per record."""

    node: str
    onnxruntime: str
    probabilities: np.ndarray


def columns_json(batch: CleanBatch) -> str:
    """A clean batch as JSON columns: JSON has no NaN, so a missing number travels as null."""

    def plain(value: object) -> object:
        return None if isinstance(value, float) and math.isnan(value) else value

    return json.dumps({name: [plain(value) for value in column.tolist()] for name, column in batch.items()})


def run(model: Path, batch: CleanBatch) -> NodeAnswer:
    """Run `node predict.js <model>` on `batch`; raise RuntimeError with Node's last words on failure."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    done = subprocess.run(
        ["node", SCRIPT, str(Path(model).resolve())],
        input=columns_json(batch),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=folder(),
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"node {SCRIPT} failed (exit code {done.returncode}): {last[0]}")
    reply = json.loads(done.stdout)
    return NodeAnswer(reply["node"], reply["onnxruntime"], np.array(reply["probabilities"], dtype=np.float32))

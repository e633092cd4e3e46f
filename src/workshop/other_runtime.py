"""Ask another runtime to run our ONNX files: "another developer, another runtime" (stage 03).

ask() starts `python -m workshop.other_runtime` in the serving-only environment (see
workshop.serve_env) and hands it raw records as JSON. That process reports which training
packages it can import (none, we expect), then runs each ONNX file with ONNX Runtime and
sends the probabilities back, so the notebook can compare them with its own in numbers.

ask() never builds that environment (no notebook installs anything): `make serve-env` does,
and without it ask() raises NotBuilt, whose message names the command.

Everything that runs in the other process imports only numpy, onnxruntime and `penguins`'
serving path.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TRAINING_STACK = ("torch", "sklearn", "pandas")
SERVING_STACK = ("numpy", "onnxruntime")
BUILD_COMMAND = "make serve-env"


class NotBuilt(RuntimeError):
    """The serving-only environment is not built (or is stale); the message names the command."""


@dataclass(frozen=True)
class Answer:
    """What the other runtime said: where it ran, what it could import, its probabilities."""

    where: str
    importable: dict[str, bool]
    probabilities: dict[str, np.ndarray]

    def summary(self) -> str:
        """A few lines for a notebook: the runtime, then yes/no per package."""
        lines = [f"ran in:    {self.where}"]
        lines += [f"import {name:<12} {'yes' if ok else 'NO'}" for name, ok in self.importable.items()]
        return "\n".join(lines)


def ask(models: Sequence[str], records: Sequence[dict[str, object]]) -> Answer:
    """Run each ONNX file in `models` (names in the artifacts folder) on `records` in `.venv-serve`."""
    from workshop import fresh, serve_env
    from workshop.notebook import shown

    if not serve_env.is_ready():
        raise NotBuilt(f"{serve_env.FOLDER}/ is not built or is stale: run `{BUILD_COMMAND}` (about 15 s)")
    python = serve_env.python()
    request = json.dumps({"models": list(models), "records": list(records)})
    result = fresh.run(
        "import runpy; runpy.run_module('workshop.other_runtime', run_name='__main__')", stdin=request, python=python
    )
    if not result.ok:
        raise RuntimeError(f"the other runtime failed: {result.error}")
    reply = json.loads(result.stdout)
    return Answer(
        where=f"{shown(python)}: a separate environment built from {serve_env.REQUIREMENTS}",
        importable=reply["importable"],
        probabilities={name: np.array(rows, dtype=np.float32) for name, rows in reply["probabilities"].items()},
    )


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def main() -> None:
    """The other side: JSON request on stdin, JSON answer on stdout."""
    from penguins.serving.cleaning import clean_records
    from penguins.serving.paths import artifacts_dir
    from penguins.serving.predictor import OnnxBackend

    request = json.load(sys.stdin)
    batch = clean_records(request["records"])
    probabilities = {
        name: OnnxBackend(artifacts_dir() / name).predict_proba(batch).tolist() for name in request["models"]
    }
    importable = {name: _importable(name) for name in (*TRAINING_STACK, *SERVING_STACK)}
    json.dump({"importable": importable, "probabilities": probabilities}, sys.stdout)


if __name__ == "__main__":
    main()

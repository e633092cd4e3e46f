"""Another developer, another runtime (stage 03): our ONNX files run in `.venv-serve` (serving's
requirements only, built by `make serve-env`), which lacks the training stack yet gives the same answers."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PACKAGES = ("torch", "sklearn", "pandas", "numpy", "onnxruntime")  # the training stack, then serving's


class NotBuilt(RuntimeError):
    """The serving-only environment is not built (or is stale); the message names the command."""


@dataclass(frozen=True)
class Answer:
    """What the other runtime said: where it ran, what it could import, its probabilities."""

    where: str
    importable: dict[str, bool]
    probabilities: dict[str, np.ndarray]

    def summary(self) -> str:
        lines = [f"ran in:    {self.where}"]
        return "\n".join(lines + [f"import {name:<12} {'yes' if ok else 'NO'}" for name, ok in self.importable.items()])


def ask(models: Sequence[str], records: Sequence[dict[str, object]]) -> Answer:
    """Run each ONNX file in `models` (names in the artifacts folder) on `records` in `.venv-serve`."""
    from workshop import fresh, serve_env
    from workshop.notebook import shown

    if not serve_env.is_ready():
        raise NotBuilt(f"{serve_env.FOLDER}/ is not built or is stale: run `make serve-env` (seconds)")
    request = json.dumps({"models": list(models), "records": list(records)})
    code = "import runpy; runpy.run_module('workshop.other_runtime', run_name='__main__')"
    result = fresh.run(code, stdin=request, python=serve_env.python())
    if not result.ok:
        raise RuntimeError(f"the other runtime failed: {result.error}")
    reply = json.loads(result.stdout)
    return Answer(
        where=f"{shown(serve_env.python())}: a separate environment built from {serve_env.REQUIREMENTS}",
        importable=reply["importable"],
        probabilities={name: np.array(rows, dtype=np.float32) for name, rows in reply["probabilities"].items()},
    )


def main() -> None:
    """The other side, importing only numpy, onnxruntime and the serving path: JSON in, JSON out."""
    from penguins.serving.cleaning import clean_records
    from penguins.serving.paths import artifacts_dir
    from penguins.serving.predictor import OnnxBackend

    request = json.load(sys.stdin)
    batch = clean_records(request["records"])
    probabilities = {
        name: OnnxBackend(artifacts_dir() / name).predict_proba(batch).tolist() for name in request["models"]
    }
    importable = {name: importlib.util.find_spec(name) is not None for name in PACKAGES}
    json.dump({"importable": importable, "probabilities": probabilities}, sys.stdout)


if __name__ == "__main__":
    main()

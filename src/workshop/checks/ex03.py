"""Exercise 03: the student's export runs in `.venv-serve` (ONNX Runtime, no torch) on 1 and 7 rows of
the check's own and answers like `net` here; an `.onnx.data` side file is read as the exporter left it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from workshop import fresh, serve_env
from workshop.checks.common import CheckFailed, passed, require

if TYPE_CHECKING:
    import torch

BATCHES = (1, 7)
TOLERANCE = 1e-5
# Run in .venv-serve: open the file, name its inputs, answer each batch (or say why not).
RUNNER = """\
import json, sys
import numpy as np
import onnxruntime as ort

model, batches = json.load(sys.stdin)
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
inputs = [[i.name, [d if isinstance(d, int) else str(d) for d in i.shape]] for i in session.get_inputs()]
answers = []
for batch in batches:
    try:
        answers.append(np.asarray(session.run(None, {inputs[0][0]: np.array(batch, np.float32)})[0]).tolist())
    except Exception as error:
        answers.append(" ".join(str(error).split()))
print(json.dumps({"inputs": inputs, "answers": answers}))
"""


def check_onnx_file(onnx_path: Path | str, net: torch.nn.Module) -> None:
    """`onnx_path` runs in .venv-serve on 1 and 7 rows and answers what `net` answers."""
    import torch

    require(onnx_path, "export `net` with torch.onnx.export to mlp.onnx and assign its path to onnx_path")
    path = Path(onnx_path)
    if not path.is_file():
        raise CheckFailed(f"expected an ONNX file at {path}, found none: give torch.onnx.export the same path")
    linear = next((m for m in net.modules() if isinstance(m, torch.nn.Linear)), None)
    if linear is None:
        raise CheckFailed(f"expected `net` to be the trained network (a torch module with Linear layers), found {net}")
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(n, linear.in_features)).astype(np.float32) for n in BATCHES]
    if not serve_env.python().exists():
        raise CheckFailed("expected the serving environment .venv-serve, found none: `make serve-env`, then again")
    request = json.dumps([str(path.resolve()), [batch.tolist() for batch in batches]])
    done = fresh.run(RUNNER, stdin=request, python=serve_env.python())
    if not done.ok:
        found = (done.error or "no message")[:200]
        raise CheckFailed(f"expected ONNX Runtime to open {path.name}, found: {found}; keep any .onnx.data beside it")
    report = json.loads(done.stdout)
    if len(report["inputs"]) != 1:
        found = f"{len(report['inputs'])}: {report['inputs']}"
        raise CheckFailed(f"expected one input (the features), found {found}; export with one example tensor, (x,)")
    name, shape = report["inputs"][0]
    worst = 0.0
    for batch, answered in zip(batches, report["answers"], strict=True):
        rows = f"{len(batch)} row" + "s" * (len(batch) != 1)
        if isinstance(answered, str) and shape and isinstance(shape[0], int):  # the file fixes the first axis
            raise CheckFailed(
                f"expected the file to take any number of rows, found its input '{name}' fixed at {shape} "
                f"(ONNX Runtime refused {rows}): make its first axis dynamic. dynamic_axes is keyed by the "
                "names in input_names (any other key is ignored); dynamic_shapes by the example's position"
            )
        if isinstance(answered, str):
            raise CheckFailed(f"expected the file to take {rows}, but ONNX Runtime said: {answered[:200]}")
        with torch.no_grad():
            expected = net(torch.from_numpy(batch)).numpy()
        answer = np.asarray(answered, dtype=np.float32)
        if answer.shape != expected.shape:
            found = f"{answer.shape}: export `net` itself, with an example of more than one row"
            raise CheckFailed(f"expected an answer of shape {expected.shape} for {rows} (as `net`), found {found}")
        worst = max(worst, float(np.abs(answer - expected).max()))
        if worst > TOLERANCE:
            raise CheckFailed(
                f"expected the file to answer like `net` within {TOLERANCE:.0e}, found a difference of "
                f"{worst:.2e} on {rows}: export the trained `net` itself, in eval mode"
            )
    passed(
        f"{path.name} runs in .venv-serve (no torch there): input '{name}' {shape}; "
        f"{' and '.join(map(str, BATCHES))} rows answer like `net` within {worst:.1e}"
    )

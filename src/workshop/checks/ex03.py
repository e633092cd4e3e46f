"""Exercise 03, ONNX: the student's own export runs where torch is not, and answers like `net`.

The check asks nothing the student reports: it runs the file in `.venv-serve` (the serving
environment, which has ONNX Runtime and no torch), on 1 and on 7 rows of its own, feeds them
to the input the session names, and compares with what `net` answers in this kernel. An
`.onnx.data` side file beside the model (the exporter's default for weights) is read by ONNX
Runtime from the same folder, so it is accepted as it is.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workshop.checks.common import CheckFailed, passed, require

if TYPE_CHECKING:
    import torch

BATCHES = (1, 7)
TOLERANCE = 1e-5
RUN_TIMEOUT = 120.0
# Run in .venv-serve: open the file, name its inputs, answer each batch (or say why not).
RUNNER = """\
import json, sys
import numpy as np
import onnxruntime as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
inputs = [[i.name, [d if isinstance(d, int) else str(d) for d in i.shape]] for i in session.get_inputs()]
batches, answers, errors = np.load(sys.argv[2]), {}, {}
for key in batches.files:
    try:
        answers[key] = np.asarray(session.run(None, {inputs[0][0]: batches[key]})[0])
    except Exception as error:
        errors[key] = " ".join(str(error).split())
np.savez(sys.argv[3], **answers)
print(json.dumps({"inputs": inputs, "errors": errors}))
"""


def check_onnx_file(onnx_path: Path | str, net: torch.nn.Module) -> None:
    """`onnx_path` runs in .venv-serve on 1 and 7 rows and answers what `net` answers."""
    require(onnx_path, "export `net` with torch.onnx.export to mlp.onnx and assign its path to onnx_path")
    path = Path(onnx_path)
    if not path.is_file():
        raise CheckFailed(
            f"expected an ONNX file at {path}, found none: pass the same path to torch.onnx.export and to onnx_path"
        )
    batches = _batches(net)
    report, answers = _run_elsewhere(path, batches)
    if len(report["inputs"]) != 1:
        raise CheckFailed(
            f"expected a file with one input (the feature matrix), found {len(report['inputs'])}: "
            f"{report['inputs']}; export with a single example tensor, (x,)"
        )
    name, shape = report["inputs"][0]
    worst = 0.0
    for key, batch in batches.items():
        if key in report["errors"]:
            raise CheckFailed(_refused(name, shape, len(batch), report["errors"][key]))
        worst = max(worst, _compare(net, batch, answers[key]))
    passed(
        f"{path.name} runs in .venv-serve (no torch there): input '{name}' {shape}; "
        f"{' and '.join(map(str, BATCHES))} rows answer like `net` within {worst:.1e}"
    )


def rows(count: int) -> str:
    return f"{count} row" + "s" * (count != 1)


def _refused(name: str, shape: list[int | str], count: int, error: str) -> str:
    """Why the file refused a batch: its input's first axis, read from the file, is fixed."""
    if shape and isinstance(shape[0], int):
        return (
            f"expected the file to take any number of rows, found its input '{name}' fixed at {shape} "
            f"(ONNX Runtime refused {rows(count)}): the export did not make the first axis of '{name}' "
            "dynamic. dynamic_axes is keyed by the names in input_names (an axis declared under any other "
            "key is ignored); dynamic_shapes by the position of the example input"
        )
    return f"expected the file to take {rows(count)}, but ONNX Runtime said: {error[:200]}"


def _batches(net: torch.nn.Module) -> dict[str, np.ndarray]:
    """Rows of the check's own, as many numbers per row as the network's first layer takes;
    keyed as numpy.savez names arrays given in order (arr_0, arr_1, ...)."""
    import torch

    linear = next((m for m in net.modules() if isinstance(m, torch.nn.Linear)), None)
    if linear is None:
        raise CheckFailed(f"expected `net` to be the trained network (a torch module with Linear layers), found {net}")
    rng = np.random.default_rng(0)
    return {f"arr_{i}": rng.normal(size=(n, linear.in_features)).astype(np.float32) for i, n in enumerate(BATCHES)}


def _run_elsewhere(path: Path, batches: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Run the file in .venv-serve; the report names its inputs and any batch it refused."""
    from workshop import serve_env

    python = serve_env.python()
    if not python.exists():
        raise CheckFailed(
            "expected the serving environment .venv-serve, found none: run `make serve-env` in the project "
            "folder (about 20 s), then this check again"
        )
    with tempfile.TemporaryDirectory() as tmp:
        given, answered = Path(tmp) / "given.npz", Path(tmp) / "answered.npz"
        np.savez(given, *batches.values())
        done = subprocess.run(
            [str(python), "-c", RUNNER, str(path.resolve()), str(given), str(answered)],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise CheckFailed(
                f"expected ONNX Runtime in .venv-serve to open {path.name}, found: {last[:200]}; "
                "keep any .onnx.data file the exporter wrote beside the .onnx"
            )
        report: dict[str, Any] = json.loads(done.stdout)
        with np.load(answered) as stored:
            answers = {key: stored[key] for key in stored.files}
    return report, answers


def _compare(net: torch.nn.Module, batch: np.ndarray, answer: np.ndarray) -> float:
    """The largest difference between the file's answer and `net`'s on the same rows."""
    import torch

    with torch.no_grad():
        expected = net(torch.from_numpy(batch)).numpy()
    if answer.shape != expected.shape:
        raise CheckFailed(
            f"expected an answer of shape {expected.shape} for {rows(len(batch))} (what `net` gives), found "
            f"{answer.shape}: export `net` itself, with an example batch of more than one row"
        )
    difference = float(np.abs(answer - expected).max())
    if difference > TOLERANCE:
        raise CheckFailed(
            f"expected the file to answer like `net` within {TOLERANCE:.0e}, found a difference of "
            f"{difference:.2e} on {rows(len(batch))}: export the trained `net` itself, after training, in eval mode"
        )
    return difference

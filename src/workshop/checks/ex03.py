"""Exercise 03, ONNX: the exported file takes any batch size and gives the network's probabilities."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workshop.checks.common import (
    PARITY_ROWS,
    CheckFailed,
    first_line,
    passed,
    require,
)

if TYPE_CHECKING:
    from penguins.training.mlp import PenguinMLP


def check_onnx_parity(onnx_path: Path | str, net: PenguinMLP, max_diff: float) -> None:
    """The exported file takes any batch size and gives the network's probabilities."""
    require(onnx_path, "export mlp.WithSoftmax(net) with torch.onnx.export and assign the file's path to onnx_path")
    require(
        max_diff,
        "run the ONNX file and the network on the same rows; assign the largest "
        "absolute difference of their probabilities to max_diff",
    )
    from penguins.training.build import PARITY_TOLERANCE

    session = _onnx_session(Path(onnx_path))
    batch_axis = session.get_inputs()[0].shape[0]
    if not isinstance(batch_axis, str):
        raise CheckFailed(
            f"the batch axis is frozen at {batch_axis} rows: declare it with "
            "dynamic_shapes=({0: 'batch'},) so one row or a thousand both work"
        )
    measured = _measured_difference(session, net)
    if measured > PARITY_TOLERANCE:
        raise CheckFailed(
            f"ONNX and torch differ by {measured:.1e} on the same rows (tolerance "
            f"{PARITY_TOLERANCE:.0e}): export the trained `net` itself, in eval mode"
        )
    _check_reported_difference(max_diff, PARITY_TOLERANCE)
    rows = ", ".join(map(str, PARITY_ROWS))
    passed(
        f"{Path(onnx_path).name}: batch axis '{batch_axis}'; {rows} rows match torch within "
        f"{measured:.1e} (you measured {max_diff:.1e})"
    )


def _onnx_session(path: Path) -> Any:
    """Open the file, and insist on the names the service and the other stages rely on."""
    import onnxruntime as ort

    if not path.exists():
        raise CheckFailed(f"no file {path.name}: pass the same path to torch.onnx.export and to onnx_path")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # ONNX Runtime has its own error types; the reason is what counts
        raise CheckFailed(f"ONNX Runtime cannot open {path.name} ({first_line(error)})") from None
    names = [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]
    if names != (["features"], ["probabilities"]):
        raise CheckFailed(
            f"expected input ['features'] and output ['probabilities'], found {names[0]} and "
            f"{names[1]}: name them with input_names=... and output_names=..."
        )
    return session


def _measured_difference(session: Any, net: PenguinMLP) -> float:
    """The largest difference from torch over batches of several sizes of the check's own rows."""
    from penguins.training import mlp

    rng = np.random.default_rng(0)
    worst = 0.0
    for rows in PARITY_ROWS:
        features = rng.normal(size=(rows, net.n_features)).astype(np.float32)
        try:
            (answer,) = session.run(["probabilities"], {"features": features})
        except Exception as error:  # ONNX Runtime's own error types
            raise CheckFailed(f"ONNX Runtime refused a batch of {rows} ({first_line(error)})") from None
        if answer.shape != (rows, net.n_classes) or not np.allclose(answer.sum(axis=1), 1.0, atol=1e-4):
            raise CheckFailed(
                f"for a batch of {rows} the file gives shape {answer.shape}, not {rows} row(s) of "
                f"{net.n_classes} probabilities summing to 1: export mlp.WithSoftmax(net), not the bare network"
            )
        worst = max(worst, float(np.abs(answer - mlp.predict_proba(net, features)).max()))
    return worst


def _check_reported_difference(max_diff: object, tolerance: float) -> None:
    """The student's own parity figure must be a real measurement that shows parity."""
    if isinstance(max_diff, bool) or not isinstance(max_diff, (int, float, np.floating)):
        raise CheckFailed(f"max_diff must be a number, found {type(max_diff).__name__}: use float(np.abs(a - b).max())")
    if not math.isfinite(max_diff) or max_diff < 0:
        raise CheckFailed(f"max_diff is {max_diff}: a largest absolute difference is a finite number >= 0")
    if max_diff > tolerance:
        raise CheckFailed(
            f"your max_diff is {max_diff:.1e}, above the tolerance {tolerance:.0e}: compare "
            "probabilities with probabilities for the same rows in the same order"
        )

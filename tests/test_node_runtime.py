"""Stage 03's other language: mlp.onnx run by onnxruntime-node answers as Python's ONNX Runtime does.

`make test` runs `make node-env` first wherever Node.js is installed (CI's machine has it).
Without Node.js this test skips and says why; under CI=true a missing runtime fails instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from penguins.serving.cleaning import clean_records
from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.predictor import OnnxBackend
from tests.conftest import ROOT, unavailable
from workshop import node_runtime


def test_same_probabilities_as_python_onnx_runtime(artifact_dir: Path) -> None:
    reason = node_runtime.missing()
    if reason:
        unavailable(reason)
    batch = clean_records([CLEAN_RECORD, *MESSY_RECORDS])
    answer = node_runtime.run(artifact_dir / "mlp.onnx", batch)
    here = OnnxBackend(artifact_dir / "mlp.onnx").predict_proba(batch)
    assert answer.probabilities.shape == here.shape == (4, 3)
    np.testing.assert_allclose(answer.probabilities, here, atol=1e-6)
    assert answer.node.startswith("v") and answer.onnxruntime == _locked_version()


def test_missing_numbers_travel_as_null() -> None:
    batch = clean_records(MESSY_RECORDS)
    columns = json.loads(node_runtime.columns_json(batch))
    assert columns["flipper_length_mm"][1] is None and columns["bill_length_mm"][2] is None
    assert columns["island"] == ["Dream", "Biscoe", "Torgersen"]


def test_install_scripts_are_off_in_both_places() -> None:
    npmrc = (ROOT / node_runtime.FOLDER / ".npmrc").read_text(encoding="utf-8")
    assert "ignore-scripts=true" in npmrc.splitlines()
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^node-env:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "npm ci --ignore-scripts" in recipe
    assert re.search(r"^(phase|beside) .*\bnode-env$", (ROOT / ".ci" / "test.sh").read_text(encoding="utf-8"), re.M)


def _locked_version() -> str:
    lock = json.loads((ROOT / node_runtime.FOLDER / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"][f"node_modules/{node_runtime.PACKAGE}"]["version"])

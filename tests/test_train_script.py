"""Notebook 09's train.py, as the notebook writes it, run in a fresh process.

The script is notebook 01's training cleaned into a file; it must give the probabilities of the
package's own training (`python -m penguins train` then `export`, the same seed) on the golden set,
within 1e-6, and write a model file the serving side loads (its sidecar checked). Trained on a
mislabelled copy of the data (the species shuffled), it still writes a model that loads: the
kind of model only a check of its answers catches (the release's smoke step).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from penguins.serving.artifacts import read_artifact
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "09_pipeline.ipynb"
MAGIC = "%%writefile 09_work/train.py"


def script() -> str:
    """train.py exactly as notebook 09's %%writefile cell writes it."""
    cells = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    found = [source for source in cells if source.startswith(MAGIC)]
    assert len(found) == 1, f"notebook 09 writes train.py once ({MAGIC})"
    return found[0].split("\n", 1)[1]


def train(folder: Path, *args: str) -> Path:
    """Run train.py in a fresh interpreter in `folder`; the model file it wrote."""
    (folder / "train.py").write_text(script(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "train.py", "--output", "out", *args], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("wrote out/mlp.onnx: mlp-"), done.stdout
    return folder / "out" / "mlp.onnx"


@pytest.fixture(scope="module")
def golden_records(golden: list[dict]) -> list[dict]:
    return [case["record"] for case in golden if case["expect"] == "answer"]


@pytest.mark.slow
def test_the_script_gives_the_package_s_probabilities_for_the_same_seed(
    tmp_path: Path, artifact_dir: Path, golden_records: list[dict]
) -> None:
    model = train(tmp_path, "--seed", "42")
    read_artifact(model, "onnx")  # the sidecar's sha256 and contract hold
    ours = PenguinPredictor.load("mlp-onnx", model).predict(golden_records)
    package = PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx").predict(golden_records)
    np.testing.assert_allclose(ours.probabilities, package.probabilities, atol=1e-6)
    assert ours.species == package.species


@pytest.mark.slow
def test_mislabelled_data_gives_a_model_that_loads_and_answers_wrongly(
    tmp_path: Path, golden: list[dict], golden_records: list[dict]
) -> None:
    import palmerpenguins

    raw = palmerpenguins.load_penguins_raw()
    shuffled = raw.assign(Species=raw["Species"].sample(frac=1, random_state=0).to_numpy())
    shuffled.to_csv(tmp_path / "mislabelled.csv", index=False)
    model = train(tmp_path, "--data", "mislabelled.csv")
    answers = PenguinPredictor.load("mlp-onnx", model).predict(golden_records).species
    truth = [case["species"] for case in golden if case["expect"] == "answer"]
    wrong = sum(answer != species for answer, species in zip(answers, truth, strict=True))
    assert wrong >= len(truth) // 3, f"only {wrong} of {len(truth)} golden records wrong"

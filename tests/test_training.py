"""Training is seeded: the same seed gives the same model, another seed another model version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from penguins.training import build


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    quiet = lambda line: None  # noqa: E731
    first = build.train(tmp_path_factory.mktemp("a"), seed=42, say=quiet)
    second = build.train(tmp_path_factory.mktemp("b"), seed=42, say=quiet)
    other = build.train(tmp_path_factory.mktemp("c"), seed=7, say=quiet)
    return first, second, other


def test_same_seed_gives_same_metrics_and_version(twice) -> None:
    first, second, _ = twice
    for name in build.TRAINED:
        assert first[name].metrics == second[name].metrics
        assert first[name].model_version == second[name].model_version
    assert first["pipeline.pkl"].sha256 == second["pipeline.pkl"].sha256


def test_another_seed_gives_another_model_version(twice) -> None:
    first, _, other = twice
    assert first["pipeline.pkl"].model_version != other["pipeline.pkl"].model_version
    assert first["mlp.pt"].model_version != other["mlp.pt"].model_version


def test_both_models_learn_the_species(twice) -> None:
    first, _, _ = twice
    assert first["pipeline.pkl"].metrics["test_accuracy"] >= 0.95
    assert first["mlp.pt"].metrics["test_accuracy"] >= 0.95


def test_training_prints_progress(tmp_path: Path) -> None:
    lines: list[str] = []
    build.train(tmp_path, say=lines.append)
    text = "\n".join(lines)
    assert "1/4" in text and "4/4" in text and "epoch 300" in text and "test accuracy" in text
    meta = json.loads((tmp_path / "pipeline.pkl.json").read_text())
    assert meta["format"] == "pickle" and meta["kind"] == "sklearn-pipeline"

"""The demo: the same raw, messy records through every backend, side by side."""

from __future__ import annotations

from penguins import build
from penguins.examples import CLEAN_RECORD, MESSY_RECORDS
from penguins.predictor import BACKEND_FILES, PenguinPredictor, Prediction

RECORDS = [CLEAN_RECORD, *MESSY_RECORDS]


def predict_all() -> dict[str, list[Prediction]]:
    """Each backend's predictions for RECORDS, building missing artifacts first."""
    build.ensure()
    return {name: PenguinPredictor.load(name).predict(RECORDS) for name in BACKEND_FILES}


def table(results: dict[str, list[Prediction]]) -> str:
    """A text table: one row per record, one column per backend (species and confidence)."""
    names = list(results)
    lines = ["record  " + "".join(f"{name:<24}" for name in names)]
    for row in range(len(RECORDS)):
        cells = [results[name][row] for name in names]
        lines.append(f"{row:<8}" + "".join(f"{p.species:<10} p={max(p.probabilities.values()):.3f}    " for p in cells))
    return "\n".join(lines)


def agree(results: dict[str, list[Prediction]]) -> bool:
    labels = {tuple(p.species for p in preds) for preds in results.values()}
    return len(labels) == 1

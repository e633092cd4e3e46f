"""`make demo`: the same raw, messy records through every backend side by side, then through stage
04's web service as another program calls it; exit 1 if any answer differs."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from penguins.client import Answer
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.predictor import Prediction
from penguins.smoke import differences
from penguins.training import build
from penguins.training.pickles import load_predictor
from workshop import stages
from workshop.server import ServerFailed, start

RECORDS = [CLEAN_RECORD, *MESSY_RECORDS]
STAGE = stages.stage(4)  # its server: the wrapper over ONNX
SERVED = stages.service(STAGE.number).backend


def predict_all() -> dict[str, list[Prediction]]:
    """Each backend's predictions for RECORDS, building missing artifacts first."""
    build.ensure()
    return {name: list(load_predictor(name).predict(RECORDS)) for name in BACKEND_FILES}


def table(columns: Mapping[str, Sequence[Prediction | Answer]]) -> str:
    """One row per record, one `species p=confidence` cell per column."""
    lines = ["record  " + "".join(f"{name:<24}" for name in columns)]
    for row, cells in enumerate(zip(*columns.values(), strict=True)):
        lines.append(f"{row:<8}" + "".join(f"{c.species:<10} p={max(c.probabilities.values()):.3f}    " for c in cells))
    return "\n".join(lines)


def main() -> int:
    results = predict_all()
    print(f"\nthe same raw records through every backend:\n{table(results)}")
    if len({tuple(p.species for p in predictions) for predictions in results.values()}) > 1:
        print("the backends disagree: see the table above", file=sys.stderr)
        return 1
    print("all backends agree")
    try:
        with start(STAGE.name, timeout=60.0) as server, server.client() as client:
            answers = client.predict_batch(RECORDS)
    except ServerFailed as err:
        print(f"the demo's server did not start: {err}", file=sys.stderr)
        return 1
    print(f"\nthe same records over HTTP: stage {STAGE.name}'s server at {server.url}:")
    print(table({f"in process ({SERVED})": results[SERVED], "over HTTP": answers}))
    if len(answers) != len(RECORDS) or any(map(differences, results[SERVED], answers)):
        print("the service answers differently from the wrapper in process: see the table above", file=sys.stderr)
        return 1
    print("the service gives the same answers as the wrapper in process; its server is stopped again")
    return 0

"""The demo: the same raw, messy records through every backend, side by side, and then
through the wrapper's web service, called the way another program would call it."""

from __future__ import annotations

import sys

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
SERVED_BACKEND = stages.service(STAGE.number).backend
SERVER_START_TIMEOUT = 60.0


def predict_all() -> dict[str, list[Prediction]]:
    """Each backend's predictions for RECORDS, building missing artifacts first."""
    build.ensure()
    return {name: list(load_predictor(name).predict(RECORDS)) for name in BACKEND_FILES}


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


def over_http(records: list[dict[str, object]] = RECORDS) -> tuple[str, list[Answer]]:
    """Start stage 04's server in the background on a free port, predict `records` through
    penguins.client, and stop the server whatever happens: the demo leaves nothing running."""
    try:
        with start(STAGE.name, timeout=SERVER_START_TIMEOUT) as server, server.client() as client:
            return server.url, client.predict_batch(records)
    except ServerFailed as err:
        raise RuntimeError(f"the demo's server did not start: {err}") from None


def same_answers(in_process: list[Prediction], over_http: list[Answer]) -> bool:
    """Same species, model version and probabilities (within smoke's tolerance) for every record."""
    return len(in_process) == len(over_http) and not any(
        differences(p, a) for p, a in zip(in_process, over_http, strict=True)
    )


def http_table(in_process: list[Prediction], over_http: list[Answer]) -> str:
    """Each record's answer in process and over HTTP, side by side."""
    lines = [f"record  {'in process (' + SERVED_BACKEND + ')':<26}{f'over HTTP (stage {STAGE.name})':<26}same"]
    for row, (p, a) in enumerate(zip(in_process, over_http, strict=True)):
        same = "yes" if same_answers([p], [a]) else "NO"
        lines.append(f"{row:<8}{_cell(p.species, p.probabilities)}{_cell(a.species, a.probabilities)}{same}")
    return "\n".join(lines)


def _cell(species: str, probabilities: dict[str, float]) -> str:
    return f"{species:<10} p={max(probabilities.values()):.3f}".ljust(26)


def main() -> int:
    """`make demo`: print both tables; exit 1 if any answer differs."""
    results = predict_all()
    print("\nthe same raw records through every backend:")
    print(table(results))
    if not agree(results):
        print("the backends disagree: see the table above", file=sys.stderr)
        return 1
    print("all backends agree")
    url, answers = over_http()
    print(f"\nthe same records over HTTP: stage {STAGE.name}'s server at {url}, called with penguins.client:")
    print(http_table(results[SERVED_BACKEND], answers))
    if not same_answers(results[SERVED_BACKEND], answers):
        print("the service answers differently from the wrapper in process: see the table above", file=sys.stderr)
        return 1
    print("the service gives the same answers as the wrapper in process; its server is stopped again")
    return 0

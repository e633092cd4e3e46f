"""A smoke test of a running service: known records over HTTP, checked against two references.

After a deployment the first question is "does the thing that runs there answer as the
thing we tested?". Each record of a golden file (raw, messy, with its true species from
the data) goes through the service with penguins.client, one /predict call each and once
more all together through /predict/batch, and every answer is compared with
- the truth in the file (the species), and
- the same model run here, in process (species, probabilities, model version).
The service says which backend it runs (GET /model); the same backend is loaded here, and
its sha256 must match: a container built before the last `make export` is caught.

`python -m penguins smoke --url URL tests/golden.json`; `make docker-smoke` runs it on the container.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from penguins.client import Answer, PenguinClient
from penguins.serving.contract import BACKEND_FILES, Backend
from penguins.serving.predictor import Prediction

# Same model file, same ONNX Runtime version: the answers agree exactly when both run the
# same build of ONNX Runtime. Another build (a macOS laptop against a Linux container) may
# round the last bits differently, so probabilities may differ by this much, no more.
PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Case:
    """One golden record: as sent, its true species, and where in the data it comes from."""

    record: dict[str, Any]
    species: str
    source_row: int | None = None


@dataclass(frozen=True)
class Checked:
    """One record's answers and everything wrong with them (nothing, when all is well)."""

    case: Case
    in_process: Prediction
    over_http: Answer
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """Every record's check, plus what is wrong with the service as a whole."""

    url: str
    model: dict[str, Any]
    results: list[Checked]
    problems: list[str]  # about the service as a whole, not one record

    @property
    def ok(self) -> bool:
        return not self.problems and all(not result.problems for result in self.results)

    def describe(self) -> str:
        """A table a person reads: one line per record, then what is wrong, if anything."""
        lines = [
            f"{self.url} serves {self.model.get('model_version')} ({self.model.get('backend')})",
            f"{'row':>5}  {'truth':<10}{'in process':<22}{'over HTTP':<22}ok",
        ]
        for result in self.results:
            row = "" if result.case.source_row is None else result.case.source_row
            lines.append(
                f"{row:>5}  {result.case.species:<10}{_cell(result.in_process)}{_cell(result.over_http)}"
                + ("yes" if not result.problems else "NO: " + "; ".join(result.problems))
            )
        lines += self.problems
        verdict = "all match" if self.ok else "MISMATCH"
        lines.append(f"{verdict}: {len(self.results)} records, the truth and the in-process answers")
        return "\n".join(lines)


def _cell(answer: Prediction | Answer) -> str:
    return f"{answer.species:<10} p={max(answer.probabilities.values()):.3f}".ljust(22)


def load_cases(path: Path | str) -> list[Case]:
    """A golden file: {"cases": [{"record": {...}, "species": "...", "source_row": N}, ...]}."""
    cases = json.loads(Path(path).read_text(encoding="utf-8"))["cases"]
    return [Case(case["record"], case["species"], case.get("source_row")) for case in cases]


def differences(expected: Prediction | Answer, got: Answer) -> list[str]:
    """What differs between two answers for the same record (species, version, probabilities)."""
    found = []
    if got.species != expected.species:
        found.append(f"species {got.species}, expected {expected.species}")
    if got.model_version != expected.model_version:
        found.append(f"model {got.model_version}, expected {expected.model_version}")
    gap = max(abs(got.probabilities.get(k, float("inf")) - v) for k, v in expected.probabilities.items())
    if gap > PROBABILITY_TOLERANCE:
        found.append(f"probabilities differ by {gap:.2g}")
    return found


def check_case(case: Case, in_process: Prediction, single: Answer, batched: Answer) -> Checked:
    problems = [] if single.species == case.species else [f"truth is {case.species}"]
    problems += differences(in_process, single)
    problems += [f"/predict/batch: {p}" for p in differences(single, batched)]
    return Checked(case, in_process, single, problems)


def run(url: str, cases: Sequence[Case], artifacts: Path | None = None, ready_timeout: float = 10.0) -> Report:
    """Send every case to the service at `url`; compare with the truth and with the same model here.

    The backend the service names is loaded from `artifacts` (default: the artifacts folder).
    Raises penguins.client.ServiceError when the service does not answer properly.
    """
    records = [case.record for case in cases]
    with PenguinClient(url) as client:
        client.wait_until_ready(ready_timeout)
        model = client.model()
        singles = [client.predict(record) for record in records]
        batched = client.predict_batch(records)
    from penguins.training.pickles import load_predictor

    predictor = load_predictor(model["backend"], _model_file(artifacts, model["backend"]))
    problems = []
    if model["sha256"] != predictor.metadata.sha256:
        problems.append(
            f"the service runs another model file (sha256 {model['sha256'][:12]}) than the one here "
            f"({predictor.metadata.file}, sha256 {predictor.metadata.sha256[:12]}): restart it with this one "
            "(a container: make docker-build docker-run)"
        )
    expected = predictor.predict(records)
    results = [check_case(*four) for four in zip(cases, expected, singles, batched, strict=False)]
    return Report(url, model, results, problems)


def _model_file(artifacts: Path | None, backend: Backend) -> Path | None:
    return Path(artifacts) / BACKEND_FILES[backend] if artifacts else None

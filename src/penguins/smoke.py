"""A smoke test of a running service: known records over HTTP, checked against two references.

After a deployment the first question is "does the thing that runs there answer as the
thing we tested?". Each record of a golden file (raw, messy, with its true species from
the data, and what to expect: an answer, or a refusal with its code) goes through the service
with penguins.client, one /predict call each; the answered ones once more all together through
/predict/batch (a refused record would refuse the whole batch). Every outcome is compared with
- the file (the true species, or the refusal code it expects), and
- the same model run here, in process (species, probabilities, model version, warnings, or
  the same refusal).
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

from penguins.client import Answer, InvalidInput, PenguinClient
from penguins.serving.cleaning import CleaningError
from penguins.serving.contract import BACKEND_FILES, Backend
from penguins.serving.predictor import PenguinPredictor, Prediction

ANSWER = "answer"
REFUSED = "refused:"

# Same model file, same ONNX Runtime version: the answers agree exactly when both run the
# same build of ONNX Runtime. Another build (a macOS laptop against a Linux container) may
# round the last bits differently, so probabilities may differ by this much, no more.
PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Case:
    """One golden record: as sent, its true species, where in the data it comes from, and what
    to expect: "answer", or "refused:<code>" (a code of penguins.serving.cleaning.REFUSALS)."""

    record: dict[str, Any]
    species: str
    source_row: int | None = None
    expect: str = ANSWER

    @property
    def refusal(self) -> str | None:
        """The code this record must be refused with; None when it must be answered."""
        return self.expect.removeprefix(REFUSED) if self.expect.startswith(REFUSED) else None


# A refusal, as the codes of its problems (in process: CleaningError's; over HTTP: the 422's types).
Refusal = tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """One record's outcomes and everything wrong with them (nothing, when all is well)."""

    case: Case
    in_process: Prediction | Refusal
    over_http: Answer | Refusal
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


def _cell(outcome: Prediction | Answer | Refusal) -> str:
    if isinstance(outcome, tuple):
        return f"{'refused ' + ', '.join(outcome):<21} "
    return f"{outcome.species:<10} p={max(outcome.probabilities.values()):.3f}".ljust(22)


def load_cases(path: Path | str) -> list[Case]:
    """A golden file: {"cases": [{"record": {...}, "species": "...", "source_row": N, "expect": "answer"}, ...]}."""
    cases = json.loads(Path(path).read_text(encoding="utf-8"))["cases"]
    return [Case(case["record"], case["species"], case.get("source_row"), case.get("expect", ANSWER)) for case in cases]


def _warnings(answer: Prediction | Answer) -> list[dict[str, str]]:
    """Warnings as the service writes them, {code, field, message}, whichever side they come from."""
    if isinstance(answer, Answer):
        return answer.warnings
    return [{"code": w.code, "field": w.field, "message": w.message} for w in answer.warnings]


def differences(expected: Prediction | Answer, got: Answer) -> list[str]:
    """What differs between two answers for the same record (species, version, probabilities, warnings)."""
    found = []
    if got.species != expected.species:
        found.append(f"species {got.species}, expected {expected.species}")
    if got.model_version != expected.model_version:
        found.append(f"model {got.model_version}, expected {expected.model_version}")
    gap = max(abs(got.probabilities.get(k, float("inf")) - v) for k, v in expected.probabilities.items())
    if gap > PROBABILITY_TOLERANCE:
        found.append(f"probabilities differ by {gap:.2g}")
    if _warnings(got) != _warnings(expected):
        found.append(
            f"warnings {[w['code'] for w in _warnings(got)]}, expected {[w['code'] for w in _warnings(expected)]}"
        )
    return found


def check_case(
    case: Case, in_process: Prediction | Refusal, single: Answer | Refusal, batched: Answer | None = None
) -> Checked:
    """One record against the file and the model here; `batched` is its /predict/batch answer."""
    problems = _against_the_file(case, single)
    if isinstance(in_process, tuple) or isinstance(single, tuple):
        if in_process != single:
            problems.append(f"refused {single or 'nothing'} over HTTP, {in_process or 'nothing'} here")
    else:
        problems += differences(in_process, single)
    if batched is not None and isinstance(single, Answer):
        problems += [f"/predict/batch: {p}" for p in differences(single, batched)]
    return Checked(case, in_process, single, problems)


def _against_the_file(case: Case, single: Answer | Refusal) -> list[str]:
    if case.refusal is not None:
        if isinstance(single, tuple) and case.refusal in single:
            return []
        return [f"expected a refusal ({case.refusal})"]
    if isinstance(single, tuple):
        return [f"refused ({', '.join(single)}), expected an answer"]
    return [] if single.species == case.species else [f"truth is {case.species}"]


def run(
    url: str,
    cases: Sequence[Case],
    artifacts: Path | None = None,
    ready_timeout: float = 10.0,
    client: PenguinClient | None = None,
) -> Report:
    """Send every case to the service at `url`; compare with the truth and with the same model here.

    The backend the service names is loaded from `artifacts` (default: the artifacts folder).
    `client` asks instead of a plain one for `url` (a proxy's: its CA, its API key, its address).
    Raises penguins.client.ServiceError when the service does not answer properly.
    """
    answered = [case.record for case in cases if case.refusal is None]
    with client or PenguinClient(url) as client:
        client.wait_until_ready(ready_timeout)
        model = client.model()
        singles = [_over_http(client, case.record) for case in cases]
        batched = iter(client.predict_batch(answered) if answered else [])
    from penguins.training.pickles import load_predictor

    predictor = load_predictor(model["backend"], _model_file(artifacts, model["backend"]))
    problems = []
    if model["sha256"] != predictor.metadata.sha256:
        problems.append(
            f"the service runs another model file (sha256 {model['sha256'][:12]}) than the one here "
            f"({predictor.metadata.file}, sha256 {predictor.metadata.sha256[:12]}): restart it with this one "
            "(a container: make docker-build docker-run)"
        )
    results = [
        check_case(case, _in_process(predictor, case.record), single, next(batched) if case.refusal is None else None)
        for case, single in zip(cases, singles, strict=True)
    ]
    return Report(url, model, results, problems)


def _over_http(client: PenguinClient, record: dict[str, Any]) -> Answer | Refusal:
    try:
        return client.predict(record)
    except InvalidInput as refused:
        return tuple(refused.codes)


def _in_process(predictor: PenguinPredictor, record: dict[str, Any]) -> Prediction | Refusal:
    try:
        return predictor.predict_one(record)
    except CleaningError as refused:
        return tuple(problem.code for problem in refused.problems)


def _model_file(artifacts: Path | None, backend: Backend) -> Path | None:
    return Path(artifacts) / BACKEND_FILES[backend] if artifacts else None

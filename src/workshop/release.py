"""`make release MODEL=<folder>`: the steps notebook 09 types (tests, build, push, switch, smoke, keep
or switch back), stopping at the first that fails with one line: `release stopped at step N/6 (name): why`."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from penguins import smoke
from penguins.client import ServiceError
from penguins.serving import artifacts
from workshop import docker, registry, rollout, room
from workshop.docker import Say

TESTS = ("make", "test-fast")
GOLDEN = "tests/golden.json"
STEPS = ("tests", "build", "push", "switch", "smoke", "keep")


class StepFailed(RuntimeError):
    """A step that failed, and one line saying why."""

    def __init__(self, step: str, why: str) -> None:
        self.step = step
        super().__init__(why)

    def __str__(self) -> str:
        return f"release stopped at step {STEPS.index(self.step) + 1}/{len(STEPS)} ({self.step}): {self.args[0]}"


def image_of(model: Path) -> str:
    return f"{registry.ADDRESS}/{rollout.image_tag(model)}"


def reason(output: str) -> str:
    """The line of a failed command's output that says why: an error's message, pytest's count, the last line."""
    lines = [line.strip() for line in output.splitlines()[1:] if line.strip()]
    for pattern in (r"\b\w+Error: (.+)", r"\b(\d+ failed\b.*)"):
        found = [match.group(1) for line in lines if (match := re.search(pattern, line))]
        if found:
            return found[-1].strip("= ")
    return lines[-1] if lines else "it printed nothing"


def _run(step: str, command: Sequence[str], say: Say, model: Path | None = None) -> None:
    """One step's command, streamed to `say` (a build: docker.build's, with `model`); StepFailed saying why."""
    try:
        if model:
            docker.build(command[-1], artifacts=model, timeout=1800, say=say, options=rollout.label_args(model))
        else:
            say(room.shell(command))
            docker.stream(command, room.root(), 1800, say)
    except docker.DockerError as failed:
        raise StepFailed(step, f"`{shlex.join(command[:2])}` failed: {reason(str(failed))}") from None
    except OSError as err:
        raise StepFailed(step, f"`{shlex.join(command[:2])}` did not start: {err}") from None


def wrong_records(report: smoke.Report) -> str:
    """The golden records the room got wrong, in one line: `row 12: Gentoo (truth Adelie)`."""
    wrong = [result for result in report.results if result.problems]
    said = []
    for result in wrong[:4]:
        answer, case = result.over_http, result.case
        got = f"refused {', '.join(answer)}" if isinstance(answer, tuple) else answer.species
        truth = f"truth {case.species}" if case.refusal is None else "expected a refusal"
        said.append(f"row {case.source_row}: {got} ({truth})")
    more = f" and {len(wrong) - 4} more" if len(wrong) > 4 else ""
    return f"{len(wrong)} of {len(report.results)} golden records wrong: {'; '.join(said)}{more}"


def release(model: Path, tests: Sequence[str] = TESTS, say: Say = print) -> str:
    """The six steps in order, what shipped in words; StepFailed at the first that fails (after switching back)."""
    started, model = time.monotonic(), Path(model)
    try:
        version = rollout.model_of(model).model_version
    except artifacts.ArtifactError as err:
        raise StepFailed("build", str(err)) from None
    image = image_of(model)
    say(f"== 1/6 tests: {shlex.join(tests)}")
    _run("tests", tests, say)
    say(f"== 2/6 build: {image}")
    _run("build", ["docker", "build", image], say, model)
    say(f"== 3/6 push: {image}")
    _run("push", ["docker", "push", image], say)
    say("== 4/6 switch: blue/green")
    try:
        say(str(rollout.rollout(image)))
    except (rollout.RolloutError, room.RoomError) as err:
        raise StepFailed("switch", str(err).splitlines()[0]) from None
    cases, client = smoke.load_cases(room.root() / GOLDEN), room.client()
    say(f"== 5/6 smoke\ngolden set ({len(cases)} records) through {client.url}")
    try:
        report = smoke.run(client.url, cases, model, client=client)
    except ServiceError as err:
        raise StepFailed("smoke", f"the room did not answer: {err}") from None
    say(report.describe())
    say("== 6/6 keep or switch back")
    if not report.ok:
        try:
            back = rollout.rollback()
        except (rollout.RolloutError, room.RoomError) as err:
            raise StepFailed("keep", f"{version} {wrong_records(report)}; switching back failed: {err}") from None
        say(str(back))
        raise StepFailed("keep", f"{version} {wrong_records(report)}; switched back to {back.version}")
    return f"released {version}: the room answers with {image} ({time.monotonic() - started:.0f} s)"


@dataclass(frozen=True)
class Run:
    """A release command run under a paced load: what it said, what the load saw, what answers after."""

    code: int
    output: str
    sent: int
    failed: int
    answers: Counter[str]
    serving: str

    def __str__(self) -> str:
        said = ", ".join(f"{count} by {version}" for version, count in self.answers.items())
        answered = f"{self.sent} requests, {self.failed} failed ({said})"
        return f"exit {self.code}; {answered}; the room answers with {self.serving}"


def under_load(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run a release `command` under a paced load through the proxy, from half a second before to after."""
    from penguins.serving.examples import CLEAN_RECORD
    from workshop import paced_load

    load = paced_load.start(
        room.client,
        "/predict",
        dict(CLEAN_RECORD),
        rate=20.0,
        threads=2,
        answer=lambda r: str(r.json()["model_version"]),
        linger=0.5,
    )
    try:
        finished = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=900, env=dict(env) if env else None
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        finished = subprocess.CompletedProcess(command, -1, "", f"{shlex.join(command)}: {err}")
    seen = load.stop()
    with room.client() as client:
        serving = str(client.model()["model_version"])
    answers = Counter(shot.answer for shot in seen.shots if shot.ok)
    return Run(finished.returncode, finished.stdout + finished.stderr, seen.sent, seen.failed, answers, serving)


def main(model: str, tests: str | None = None) -> None:
    """`python -m workshop release MODEL [--tests COMMAND]`: what `make release` runs."""
    print(release(Path(model), shlex.split(tests) if tests else TESTS))

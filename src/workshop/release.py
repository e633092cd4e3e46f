"""The release: one model version from its folder into the server room, by the steps notebook 09
types out one by one, each a real command, stopping at the first that fails.

    1 tests   make test-fast: the code the image carries passes its tests
    2 build   docker build, tagged <registry>/penguins-to-production:<model_version>; the Dockerfile
              refuses a model file that fails its sha256, so such a file never reaches the room
    3 push    docker push to the room's registry
    4 switch  blue/green: the idle colour starts from that image, the proxy switches to it
    5 smoke   the golden set through the proxy at the domain: each answer against the truth and
              against the same model run here
    6 keep    or switch back to the colour that was live, and fail naming the records it got wrong

`make release MODEL=<folder>` runs `python -m workshop release <folder>`. Each step prints the
command as typed; a failure prints one line, `release stopped at step N/6 (name): why`, and the
exit code is 1. Notebook 09 runs the same commands cell by cell; this module adds the order, the
stop and the switch back.
"""

from __future__ import annotations

import re
import shlex
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from penguins import smoke
from penguins.client import ServiceError
from penguins.serving import artifacts
from workshop import docker, registry, rollout, room

TESTS = ("make", "test-fast")
REGISTRY = registry.ADDRESS  # stage 06's (make registry-up): the one home of its address
GOLDEN = "tests/golden.json"
STEPS = ("tests", "build", "push", "switch", "smoke", "keep")
Say = Callable[[str], None]


class StepFailed(RuntimeError):
    """A step that failed: its name and one line saying why."""

    def __init__(self, step: str, why: str) -> None:
        self.step = step
        super().__init__(why)

    def __str__(self) -> str:
        number = STEPS.index(self.step) + 1
        return f"release stopped at step {number}/{len(STEPS)} ({self.step}): {self.args[0]}"


@dataclass(frozen=True)
class Shipped:
    """A release that went through: the image the room now answers with, and how long it took."""

    image: str
    version: str
    seconds: float

    def __str__(self) -> str:
        return f"released {self.version}: the room answers with {self.image} ({self.seconds:.0f} s)"


def image_of(model: Path, registry: str = REGISTRY) -> str:
    """The tag a model's image gets: the registry, the project's image name, the model version."""
    return f"{registry}/{docker.IMAGE}:{rollout.model_of(model).model_version}"


def reason(output: str) -> str:
    """The line of a failed command's output that says why: an error's message (the build's
    ArtifactError), else pytest's count of failures, else the last line."""
    lines = [line.strip() for line in output.splitlines()[1:] if line.strip()]
    for pattern in (r"\b\w+Error: (.+)", r"\b(\d+ failed\b.*)"):
        found = [match.group(1) for line in lines if (match := re.search(pattern, line))]
        if found:
            return found[-1].strip("= ")
    return lines[-1] if lines else "it printed nothing"


def _run(step: str, command: Sequence[str], say: Say, cwd: Path | None = None, timeout: float = 1800) -> str:
    """Run one command of a step, its output streamed to `say`; StepFailed with the line saying why."""
    say(room.shell(command))
    try:
        return docker.stream(command, cwd or room.root(), timeout, say)
    except docker.DockerError as failed:
        raise StepFailed(step, f"`{shlex.join(command[:2])}` failed: {reason(str(failed))}") from None
    except OSError as err:
        raise StepFailed(step, f"`{shlex.join(command[:2])}` did not start: {err}") from None


def build(model: Path, image: str, say: Say) -> None:
    """`docker build` of the serving image with this model, in a build context that holds it."""
    with tempfile.TemporaryDirectory(prefix="penguins-release-") as scratch:
        context = docker.build_context(Path(scratch), model)
        command = ["docker", "build", "-f", docker.DOCKERFILE, *rollout.label_args(model), "-t", image, "."]
        _run("build", command, say, cwd=context)


def wrong_records(report: smoke.Report) -> str:
    """The golden records the room got wrong, as one line: their rows, and what each got."""
    wrong = [result for result in report.results if result.problems]
    named = "; ".join(f"row {r.case.source_row}: {_said(r)}" for r in wrong[:4])
    more = f" and {len(wrong) - 4} more" if len(wrong) > 4 else ""
    return f"{len(wrong)} of {len(report.results)} golden records wrong: {named}{more}"


def _said(result: smoke.Checked) -> str:
    """What the room answered for one golden record, against the truth: `Gentoo (truth Adelie)`."""
    answer = result.over_http
    got = f"refused {', '.join(answer)}" if isinstance(answer, tuple) else answer.species
    return f"{got} (truth {result.case.species})" if result.case.refusal is None else f"{got} (expected a refusal)"


def check(model: Path, say: Say) -> smoke.Report:
    """The golden set through the proxy at the domain, compared with the truth and the model here."""
    cases = smoke.load_cases(room.root() / GOLDEN)
    client = room.client()
    say(f"golden set ({len(cases)} records) through {client.url}")
    try:
        report = smoke.run(client.url, cases, model, client=client)
    except ServiceError as err:
        raise StepFailed("smoke", f"the room did not answer: {err}") from None
    say(report.describe())
    return report


def release(model: Path, tests: Sequence[str] = TESTS, registry: str = REGISTRY, say: Say = print) -> Shipped:
    """The six steps in order; StepFailed at the first that fails (after switching back in step 6)."""
    started = time.monotonic()
    model = Path(model)
    try:
        version = rollout.model_of(model).model_version
    except artifacts.ArtifactError as err:
        raise StepFailed("build", str(err)) from None
    image = image_of(model, registry)
    say(f"== 1/6 tests: {shlex.join(tests)}")
    _run("tests", tests, say)
    say(f"== 2/6 build: {image}")
    build(model, image, say)
    say(f"== 3/6 push: {image}")
    _run("push", ["docker", "push", image], say)
    say("== 4/6 switch: blue/green")
    try:
        switched = rollout.rollout(image)
    except (rollout.RolloutError, room.RoomError) as err:
        raise StepFailed("switch", str(err).splitlines()[0]) from None
    say(str(switched))
    say("== 5/6 smoke")
    report = check(model, say)
    say("== 6/6 keep or switch back")
    if not report.ok:
        try:
            back = rollout.rollback()
        except (rollout.RolloutError, room.RoomError) as err:
            raise StepFailed("keep", f"{version} {wrong_records(report)}; switching back failed: {err}") from None
        say(str(back))
        raise StepFailed("keep", f"{version} {wrong_records(report)}; switched back to {back.version}")
    return Shipped(image, version, time.monotonic() - started)


def main(model: str, tests: str | None = None) -> int:
    """`python -m workshop release MODEL [--tests COMMAND]`: what `make release` runs."""
    try:
        print(release(Path(model), shlex.split(tests) if tests else TESTS))
    except StepFailed as failed:
        print(failed)
        return 1
    return 0

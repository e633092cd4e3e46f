"""`make release` for real: one server room and one registry for two releases and exercise 09's
variants, each under a paced load through the proxy at the domain, with its counts.

- a good new version (the recipe with a second seed) ships: no failed request, and the room then
  answers with it;
- a model file that fails its sha256 is refused by the build: nothing is pushed, the room never
  sees it, and the one line names the step.

The third case, a bad version (trained with the species shuffled) switched to, caught by the smoke
step and switched back, runs once per suite where students see it: notebook 09 runs `make release`
on it under a paced load and asserts its counts (nbval runs the notebook in `make test`).

The room is this module's (one `up --wait` for all of it): stage 07's tests share `the_room`
under the same compose project, which a release changes colour by colour, so the two never
overlap. The release's first step runs the golden-set tests here (`make test-fast` is the
default; the suite runs all of it elsewhere); the tampered release's runs `true`: what it asserts
is the build's refusal, one step later. Without an engine or Compose v2 these skip and say
why; under CI=true they must run.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from penguins.training.artifacts import model_version
from tests.conftest import ROOT
from workshop import docker, registry, release, rollout, room
from workshop.checks import ex09

TESTS = f"{sys.executable} -m pytest tests/test_golden.py -q -p no:cacheprovider"


def make_release(model: Path, tests: str = TESTS) -> release.Run:
    """`make release MODEL=<folder>` (its golden-set tests only) under a paced load through the proxy."""
    return release.under_load(["make", "--no-print-directory", "release", f"MODEL={model}", f"TESTS={tests}"], ROOT)


@pytest.fixture(scope="module")
def live_room(
    room_images: dict[str, str], registry_up: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    """The room on this run's model (blue), the registry, exercise 09's two versions and a tampered one."""
    room.make_secrets(say=lambda line: None)
    room.down(env=room_images)
    room.write_colour(room.MODEL_SERVICES[0])
    room.up("--no-build", "--pull", "never", env=room_images)
    made = ex09.trained()
    tampered = tmp_path_factory.mktemp("release") / "tampered"  # the good file, one byte longer than its sha256
    shutil.copytree(made["good"], tampered)
    sidecar = json.loads((tampered / "mlp.onnx.json").read_text(encoding="utf-8"))
    sidecar["model_version"] = model_version("mlp", {"tampered": True})
    (tampered / "mlp.onnx.json").write_text(json.dumps(sidecar), encoding="utf-8")
    with (tampered / "mlp.onnx").open("ab") as model:
        model.write(b"\0")
    yield {**made, "tampered": tampered}
    room.down(env=room_images)
    room.write_colour(room.MODEL_SERVICES[0])


def tags() -> list[str]:
    listed = requests.get(f"http://{registry.ADDRESS}/v2/{docker.IMAGE}/tags/list", timeout=5).json()
    return list(listed.get("tags") or [])


def test_a_good_version_ships_and_a_tampered_one_is_refused_under_load(live_room: dict[str, Path]) -> None:
    good = rollout.model_of(live_room["good"]).model_version
    started = time.monotonic()
    shipped = make_release(live_room["good"])
    seconds = time.monotonic() - started
    print(f"\ngood {good}: {shipped} ({seconds:.0f} s for make release)")
    assert shipped.code == 0, shipped.output[-3000:]
    assert f"released {good}: the room answers with {registry.ADDRESS}/" in shipped.output
    assert shipped.failed == 0 and shipped.answers[good] > 0 and shipped.serving == good

    refused = make_release(live_room["tampered"], tests="true")  # step 1 passes: the build must refuse it
    print(f"tampered: {refused}")
    lines = [line for line in refused.output.splitlines() if line.startswith("release stopped")]
    assert refused.code != 0 and len(lines) == 1, refused.output[-3000:]
    assert lines[0].startswith("release stopped at step 2/6 (build): ") and "does not match its sha256" in lines[0]
    assert "== 3/6" not in refused.output, "nothing was pushed"
    assert refused.failed == 0 and set(refused.answers) == {good} and refused.serving == good
    tampered = rollout.model_of(live_room["tampered"]).model_version
    assert good in tags() and tampered not in tags(), "the registry holds what was pushed, and no tampered image"


VARIANTS = ROOT / "tests" / "exercise_variants" / "ex09"


@pytest.mark.parametrize("path", sorted(VARIANTS.iterdir()), ids=lambda path: path.stem)
def test_exercise_09_checks_a_right_and_a_wrong_release_in_the_same_room(
    live_room: dict[str, Path], artifact_dir: Path, path: Path
) -> None:
    """Each variant is a whole answer (a script or a Makefile) whose first line is the command the
    student gives the check; a wrong one names a fragment of the message it must fail with."""
    from workshop import checks

    text = path.read_text(encoding="utf-8")
    command = re.search(r"^# command: (.+)$", text, re.M)
    assert command, f"{path.name} names its command on a line `# command: ...`"
    expected = re.search(r"^# fails with: (.+)$", text, re.M)
    folder = Path(tempfile.mkdtemp(prefix=".ex09-", dir=ROOT))  # one level below the project, as exercises/ is
    docker.build_context(folder / "09_context", artifact_dir)
    shutil.copy(path, folder / path.name)
    try:
        if expected:
            with pytest.raises(checks.CheckFailed, match=re.escape(expected[1])):
                checks.check_release(command[1].replace("{file}", path.name), folder)
        else:
            checks.check_release(command[1].replace("{file}", path.name), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

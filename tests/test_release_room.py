"""`make release` for real: one server room and one registry for three releases, each under a
paced load through the proxy at the domain, with its counts.

- a good new version (the recipe with a second seed) ships: no failed request, and the room then
  answers with it;
- a bad one (trained with the species shuffled: it loads, it is healthy, it answers wrongly) is
  built, pushed and switched to, caught by the smoke step and switched back: no failed request,
  the room ends on the good version, and the release fails naming the golden records it got wrong;
- a model file that fails its sha256 is refused by the build: nothing is pushed, the room never
  sees it.

The release's first step runs the golden-set tests here (`make test-fast` is the default; the
suite runs all of it elsewhere). Without an engine or Compose v2 these skip and say why; under
CI=true they must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from penguins.serving import artifacts
from tests.conftest import ROOT, unavailable
from workshop import docker, paced_load, release, rollout, room
from workshop.checks import ex09

IMAGE = "penguins-to-production:release-test"
CI = os.environ.get("CI") == "true"
TESTS = (sys.executable, "-m", "pytest", "tests/test_golden.py", "-q", "-p", "no:cacheprovider")
LOAD = {"rate": 40.0, "threads": 2, "timeout": 3.0}
REGISTRY = "registry:2"


def run(*command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result


@pytest.fixture(scope="module")
def live_room(
    base_image: str, artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    """The room on this run's model, a registry on 127.0.0.1:5001, and the two new versions."""
    if room.compose_v2() is None:
        if not CI:
            unavailable("no Compose v2 here (`docker compose version`): the room needs `up --wait`")
        run("bash", ".ci/compose.sh")
    if CI:
        run("bash", ".ci/room-images.sh")
    for pulled in (room.facts().nginx_image, REGISTRY):
        if subprocess.run(["docker", "image", "inspect", pulled], capture_output=True).returncode:
            unavailable(f"no {pulled} image here (docker pull {pulled})")
    folder = tmp_path_factory.mktemp("release")
    context = docker.build_context(folder / "context", artifact_dir)
    run(
        "docker",
        "build",
        "--quiet",
        "-f",
        "docker/Dockerfile",
        *rollout.label_args(artifact_dir),
        "-t",
        IMAGE,
        str(context),
    )
    os.environ["PENGUINS_IMAGE"] = IMAGE
    registry = ["docker", "run", "--detach", "--rm", "--name", "penguins-release-registry"]
    subprocess.run(["docker", "rm", "--force", "penguins-release-registry"], capture_output=True)
    run(*registry, "--publish", f"{release.REGISTRY}:5000", REGISTRY)
    room.make_secrets(say=lambda line: None)
    room.down()
    room.up("--no-build", "--pull", "never")
    made = ex09.models(folder / "models")
    tampered = folder / "tampered"  # the good file under a version of its own, one byte longer than its sha256
    shutil.copytree(made["good"], tampered)
    sidecar = json.loads((tampered / "mlp.onnx.json").read_text(encoding="utf-8"))
    sidecar["model_version"] = artifacts.model_version("mlp", {"tampered": True})
    (tampered / "mlp.onnx.json").write_text(json.dumps(sidecar), encoding="utf-8")
    with (tampered / "mlp.onnx").open("ab") as model:
        model.write(b"\0")
    yield {**made, "tampered": tampered, "first": artifact_dir}
    room.down()
    subprocess.run(["docker", "rm", "--force", "penguins-release-registry"], capture_output=True)
    os.environ.pop("PENGUINS_IMAGE", None)


@dataclass(frozen=True)
class Released:
    said: list[str]
    error: release.StepFailed | None
    load: paced_load.Load

    @property
    def versions(self) -> Counter[str]:
        return Counter(shot.answer for shot in self.load.shots if shot.ok)


def release_under_load(model: Path) -> Released:
    """`release.release(model)` while a paced load goes through the proxy until it has ended."""
    said: list[str] = []
    outcome: dict[str, release.StepFailed | None] = {"error": None}
    done = threading.Event()

    def go() -> str:
        try:
            release.release(model, tests=TESTS, say=said.append)
        except release.StepFailed as failed:
            outcome["error"] = failed
        done.set()
        return "release ended"

    def version(response: requests.Response) -> str:
        return str(response.json()["model_version"])

    from penguins.serving.examples import CLEAN_RECORD

    load = paced_load.run(
        room.client,
        "/predict",
        dict(CLEAN_RECORD),
        seconds=2.0,
        at={1.0: go},
        answer=version,
        longer=lambda _: not done.is_set(),
        **LOAD,
    )
    return Released(said, outcome["error"], load)


def serving() -> str:
    with room.client() as client:
        return str(client.model()["model_version"])


def test_three_releases_under_load_ship_roll_back_and_refuse(live_room: dict[str, Path]) -> None:
    first, good, bad = (rollout.model_of(live_room[name]).model_version for name in ("first", "good", "bad"))
    assert serving() == first

    shipped = release_under_load(live_room["good"])
    print(f"\ngood {good}: sent {shipped.load.sent}, failed {shipped.load.failed}, answers {dict(shipped.versions)}")
    assert shipped.error is None, "\n".join(shipped.said[-30:])
    assert shipped.load.failed == 0, shipped.load.table()
    assert serving() == good and shipped.load.shots[-1].answer == good

    caught = release_under_load(live_room["bad"])
    print(f"bad {bad}: sent {caught.load.sent}, failed {caught.load.failed}, answers {dict(caught.versions)}")
    assert caught.error is not None and caught.error.step == "keep", "\n".join(caught.said[-30:])
    assert str(caught.error).startswith(f"release stopped at step 6/6 (keep): {bad} ")
    assert "golden records wrong: row " in str(caught.error) and f"switched back to {good}" in str(caught.error)
    assert caught.load.failed == 0, caught.load.table()
    assert bad in caught.versions, "the bad version was switched to and answered before the smoke step caught it"
    assert serving() == good and caught.load.shots[-1].answer == good

    refused = release_under_load(live_room["tampered"])
    print(f"tampered: sent {refused.load.sent}, failed {refused.load.failed}, answers {dict(refused.versions)}")
    assert refused.error is not None and refused.error.step == "build"
    assert "does not match its sha256" in str(refused.error)
    assert refused.load.failed == 0 and set(refused.versions) == {good}
    tags = requests.get(f"http://{release.REGISTRY}/v2/{docker.IMAGE}/tags/list", timeout=5).json()["tags"]
    assert sorted(tags) == sorted([good, bad]), "the registry holds what was pushed, and no tampered image"
    assert not [line for line in refused.said if line.startswith("== 3/6")], "nothing was pushed"


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
    shutil.copytree(live_room["good"].parent, folder / "09_models")
    shutil.copy(path, folder / path.name)
    try:
        if expected:
            with pytest.raises(checks.CheckFailed, match=re.escape(expected[1])):
                checks.check_release(command[1].replace("{file}", path.name), folder)
        else:
            checks.check_release(command[1].replace("{file}", path.name), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

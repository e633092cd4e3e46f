"""Exercise 09, the pipeline: the student's release run under a paced load against the room on two
versions of the check's own, renamed every run (no leftovers can pass): the bad one (healthy, classes
rotated) must exit non-zero with the room back, the good one exit 0 with the room on it; each pushed,
no request failed."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.checks.common import passed, problem, require, written

if TYPE_CHECKING:
    from workshop.release import Run

MODEL = "{model}"
TRAINED = "exercise-09"  # in the artifacts folder: the check's two models, made once


def trained() -> dict[str, Path]:
    """The check's good and bad models (by name), made on first use in the artifacts folder from the
    second version (`make room-v2`'s, not the room's): its ONNX file alone, renamed."""
    from penguins.serving.paths import artifacts_dir
    from workshop import rollout

    made = {name: artifacts_dir() / TRAINED / name for name in ("bad", "good")}
    if not (made["bad"] / "mlp.onnx.json").exists():
        named(rollout.second_version(), made["good"], "trained")
        classes = rollout.model_of(made["good"]).classes
        named(made["good"], made["bad"], "classes rotated", classes=[*classes[1:], classes[0]])
    return made


def named(model: Path, into: Path, run: str, **changed: Any) -> str:
    """A copy of `model` in `into` under a version of this run's own (its sidecar `changed`); that version."""
    from penguins.serving.artifacts import read_metadata
    from penguins.training.artifacts import model_version

    meta = read_metadata(model / "mlp.onnx")
    version = model_version("mlp", {"trained": meta.model_version, "check_run": run})
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model / "mlp.onnx", into / "mlp.onnx")
    sidecar = {**asdict(meta), "model_version": version, **changed}
    (into / "mlp.onnx.json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return version


def in_registry(version: str) -> bool:
    """Does an image in the registry carry the tag `version`?"""
    import requests

    from workshop import registry

    base = f"http://{registry.ADDRESS}/v2"
    try:
        listed = requests.get(f"{base}/_catalog", timeout=5).json().get("repositories") or []
        tags = [requests.get(f"{base}/{name}/tags/list", timeout=5).json().get("tags") or [] for name in listed]
    except (requests.RequestException, ValueError) as err:
        found = f"it not answering ({type(err).__name__})"
        raise problem(f"the registry at {registry.ADDRESS}", found, "the starter cell again (registry.up())") from None
    return any(version in held for held in tags)


def check_release(command: str, folder: Path | str = ".", say: Callable[[str], None] = print) -> None:
    """`command` (run in `folder`, `{model}` for the model's folder, e.g. "bash release.sh {model}") rolls a
    bad version back and ships a good one, losing no request."""
    require(command, 'write your release, then its command line with {model}, e.g. "bash release.sh {model}"')
    if not isinstance(command, str) or MODEL not in command:
        tip = '"bash release.sh {model}" (the check runs it once per model version)'
        raise problem(f"the command as text with {MODEL} where the model's folder goes", repr(command), tip)
    from workshop import rollout, room
    from workshop.release import under_load

    cwd = Path(folder)
    for word in shlex.split(command):
        if (cwd / word).is_file():
            written(cwd / word, f"the release in {word}")
    # The release runs with this kernel's Python first on PATH, so `python -m ...` in it finds the project.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = datetime.now(UTC).isoformat()
    models = {name: cwd / "09_models" / name for name in ("bad", "good")}
    versions = {name: named(model, models[name], run) for name, model in trained().items()}
    with room.client() as client:
        before = str(client.model()["model_version"])
    say(
        f"the room answers with {before}; the check's versions: bad {versions['bad']} (classes rotated), "
        f"good {versions['good']} (seed {rollout.SECOND_SEED})"
    )
    started = time.monotonic()

    def ship(name: str) -> Run:
        return under_load(shlex.split(command.replace(MODEL, shlex.quote(str(models[name])))), cwd, env=env)

    bad = ship("bad")
    if bad.code == 0:
        tip = "a non-zero exit when the smoke step fails"
        raise problem(f"the bad version {versions['bad']} to fail", f"exit 0, the room on {bad.serving}", tip)
    if bad.serving != before:
        tip = "switching back before the script exits when the smoke step fails"
        raise problem(f"the room back on {before} after the bad version failed", bad.serving, tip)
    _checked("the bad version", bad, versions["bad"])
    good = ship("good")
    if good.code != 0:
        ends = "\n".join(good.output.strip().splitlines()[-12:]) or "(it printed nothing)"
        found = f"exit {good.code}, its output ends:\n{ends}\n"
        tip = "running the command on it by hand and read the first step that fails"
        raise problem(f"the good version {versions['good']} to ship (exit 0)", found, tip)
    if good.serving != versions["good"]:
        tip = "checking that the switch step starts the image you pushed"
        raise problem(f"the room on {versions['good']} after the release shipped it", good.serving, tip)
    _checked("the good version", good, versions["good"])
    passed(
        f"your release rolled {versions['bad']} back ({bad.sent} requests, 0 failed) and shipped {versions['good']} "
        f"({good.sent} requests, 0 failed) in {time.monotonic() - started:.0f} s"
    )


def _checked(which: str, run: Run, version: str) -> None:
    """No request failed while `which` was released, and its image went to the registry."""
    from workshop import registry

    if run.failed:
        tip = "starting the new colour and waiting until it is ready before the switch"
        raise problem(f"no failed request while {which} was released", f"{run.failed} of {run.sent}", tip)
    if not in_registry(version):
        expected = f"{which}'s image in the registry at {registry.ADDRESS}, tagged {version}"
        raise problem(expected, "no such tag", "docker push after the build (the room pulls from the registry)")

"""Exercise 09, the pipeline: the student's release (a script or a Makefile), judged by running it.

The check has two model versions of its own, a bad one (trained on shuffled species: healthy, but
wrong) and a good one (another seed), trained once into the artifacts folder and renamed on every
run so no earlier release's leftovers can pass. It runs the student's command on each against the
running room under a paced load: the bad one must exit non-zero with the room back on its version,
the good one exit 0 with the room on it; each pushed to the registry, and no request may fail.
"""

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
from typing import TYPE_CHECKING

from workshop.checks.common import passed, problem, require, written

if TYPE_CHECKING:
    from workshop.release import Run

SEEDS = {"bad": 11, "good": 7}  # in the order the check releases them
MODEL = "{model}"
TRAINED = "exercise-09"  # in the artifacts folder: the check's two models, trained once


def train_model(folder: Path, seed: int, shuffled: bool) -> Path:
    """The package's network recipe with `seed` into `folder` (mlp.onnx and its sidecar); with
    `shuffled`, trained on the species shuffled among the penguins (a mislabelled export)."""
    import numpy as np

    from penguins.training import artifacts, data, export, logreg, mlp

    table = data.raw_as_contract(data.load_penguins_raw())
    if shuffled:
        table = table.assign(species=table["species"].sample(frac=1, random_state=seed).to_numpy())
    train_rows, _ = data.split(table, seed)
    train_set = data.prepare(train_rows)
    preprocess = logreg.build_preprocessor().fit(train_set.features)
    classes = sorted(set(train_set.labels))
    labels = np.array([classes.index(label) for label in train_set.labels])
    net = mlp.fit_mlp(preprocess.transform(train_set.features).astype(np.float32), labels, seed)
    version = artifacts.model_version("mlp", {"seed": seed, "species_shuffled": shuffled, **mlp.MLP_PARAMS})
    model = export.mlp_to_onnx(preprocess, net).SerializeToString()
    artifacts.write_artifact(
        folder / "mlp.onnx", model, format="onnx", kind="mlp", classes=classes, metrics={}, model_version=version
    )
    return folder


def trained() -> dict[str, Path]:
    """The check's two models, trained on first use into the artifacts folder and kept there."""
    from penguins.serving.paths import artifacts_dir

    folder = artifacts_dir() / TRAINED
    made = {name: folder / name for name in SEEDS}
    for name, target in made.items():
        if not (target / "mlp.onnx.json").exists():
            train_model(target, SEEDS[name], name == "bad")
    return made


def named(model: Path, into: Path, run: str) -> str:
    """A copy of `model` in `into` under a version of this run's own; that version."""
    from penguins.serving.artifacts import read_metadata
    from penguins.training.artifacts import model_version

    meta = read_metadata(model / "mlp.onnx")
    version = model_version("mlp", {"trained": meta.model_version, "check_run": run})
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model / "mlp.onnx", into / "mlp.onnx")
    sidecar = {**asdict(meta), "model_version": version}
    (into / "mlp.onnx.json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return version


def in_registry(version: str) -> list[str]:
    """The registry's repositories that hold an image tagged `version`."""
    import requests

    from workshop import registry

    base = f"http://{registry.ADDRESS}/v2"
    try:
        listed = requests.get(f"{base}/_catalog", timeout=5).json().get("repositories") or []
        tags = {name: requests.get(f"{base}/{name}/tags/list", timeout=5).json().get("tags") or [] for name in listed}
    except (requests.RequestException, ValueError) as err:
        found = f"it not answering ({type(err).__name__})"
        raise problem(f"the registry at {registry.ADDRESS}", found, "the starter cell again (registry.up())") from None
    return [name for name, held in tags.items() if version in held]


def check_release(command: str, folder: Path | str = ".", say: Callable[[str], None] = print) -> None:
    """Exercise 09: `command` rolls a bad model version back and ships a good one, losing no request.

    `command` is how your release is run, with `{model}` where the model's folder goes, e.g.
    "bash release.sh {model}" or "make -f release.mk release MODEL={model}"; it runs in `folder`.
    """
    require(command, 'write your release, then its command line with {model}, e.g. "bash release.sh {model}"')
    if not isinstance(command, str) or MODEL not in command:
        tip = '"bash release.sh {model}" (the check runs it once per model version)'
        raise problem(f"the command as text with {MODEL} where the model's folder goes", repr(command), tip)
    from workshop import room
    from workshop.release import under_load

    cwd = Path(folder)
    for word in shlex.split(command):
        if (cwd / word).is_file():
            written(cwd / word, f"the release in {word}")
    # The release runs with this kernel's Python first on PATH, so `python -m ...` in it finds the project.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = datetime.now(UTC).isoformat()
    models = {name: cwd / "09_models" / name for name in SEEDS}
    versions = {name: named(model, models[name], run) for name, model in trained().items()}
    with room.client() as client:
        before = str(client.model()["model_version"])
    say(
        f"the room answers with {before}; the check's versions: bad {versions['bad']} (species shuffled), "
        f"good {versions['good']} (seed {SEEDS['good']})"
    )
    started = time.monotonic()

    def ship(name: str) -> Run:
        return under_load(shlex.split(command.replace(MODEL, shlex.quote(str(models[name])))), cwd, env=env)

    bad = ship("bad")
    if bad.code == 0:
        expected = f"the bad version {versions['bad']} (it answers wrongly) to fail the release"
        tip = "making the smoke step's failure end the script with a non-zero exit"
        raise problem(expected, f"exit 0 and the room on {bad.serving}", tip)
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
        expected = f"the room to answer with {versions['good']} after the release said it shipped"
        raise problem(expected, good.serving, "checking that the switch step starts the image you pushed")
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
        raise problem(
            expected, "no such tag", "docker push after the build (the room's servers pull from the registry)"
        )

"""Exercise 09, the pipeline: the student's release (a script or a Makefile), judged by running it.

The check never reads the release's text for steps. It makes two model versions of its own, a
good one (the recipe with another seed) and a bad one (trained on the data with the species
shuffled: it loads, it is healthy, it answers wrongly), and runs the student's command on each
against the running server room while a paced load goes through the proxy:
- the good one must ship: exit 0, and the room then answers with its version;
- the bad one must be rolled back: a non-zero exit, and the room answers with the good version
  again;
and no request of either load may fail. Whatever the release prints is shown when it fails.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from workshop.checks.common import CheckFailed, passed, require

if TYPE_CHECKING:
    from workshop.release import Run

SEEDS = {"good": 7, "bad": 11}
MODEL = "{model}"
TODO = "# TODO"  # what the exercise leaves in place of the release (workshop.exercises.TEXT_TODO)


def train_model(folder: Path, seed: int, shuffled: bool) -> Path:
    """The package's network recipe with `seed` into `folder` (mlp.onnx and its sidecar); with
    `shuffled`, trained on the species shuffled among the penguins (a mislabelled export)."""
    import numpy as np

    from penguins.serving import artifacts
    from penguins.training import data, export, logreg, mlp

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
    folder.mkdir(parents=True, exist_ok=True)
    model = export.mlp_to_onnx(preprocess, net).SerializeToString()
    artifacts.write_artifact(
        folder / "mlp.onnx", model, format="onnx", kind="mlp", classes=classes, metrics={}, model_version=version
    )
    return folder


def models(folder: Path) -> dict[str, Path]:
    """The check's two versions, made once in `folder` (good: another seed; bad: species shuffled)."""
    made = {}
    for name, seed in SEEDS.items():
        target = folder / name
        made[name] = target if (target / "mlp.onnx.json").exists() else train_model(target, seed, name == "bad")
    return made


def _tail(output: str, lines: int = 12) -> str:
    return "\n".join(output.strip().splitlines()[-lines:]) or "(it printed nothing)"


def check_release(command: str, folder: Path | str = ".", say: Callable[[str], None] = print) -> None:
    """Exercise 09: `command` ships a good model version and rolls a bad one back, losing no request.

    `command` is how your release is run, with `{model}` where the model's folder goes, e.g.
    "bash release.sh {model}" or "make release MODEL={model}"; it runs in `folder`.
    """
    from penguins.serving import artifacts

    require(command, 'write your release, then its command line with {model}, e.g. "bash release.sh {model}"')
    if not isinstance(command, str) or MODEL not in command:
        raise CheckFailed(
            f"expected the command as text with {MODEL} where the model's folder goes; found {command!r}; "
            'try "bash release.sh {model}" (the check runs it once per model version)'
        )
    from workshop.release import under_load

    cwd = Path(folder)
    unfinished = [word for word in shlex.split(command) if _has_todo(cwd / word)]
    if unfinished:
        raise CheckFailed(f"not done yet: write the release in {unfinished[0]} in place of the line {TODO}")
    # The release runs with this kernel's Python first on PATH, so `python -m ...` in it finds the project.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    made = models(cwd / "09_models")
    versions = {name: artifacts.read_metadata(path / "mlp.onnx").model_version for name, path in made.items()}
    say(f"the check's versions: good {versions['good']} (seed {SEEDS['good']}), bad {versions['bad']} (shuffled)")
    started = time.monotonic()
    good = under_load(_words(command, made["good"]), cwd, env=env)
    if good.code != 0:
        raise CheckFailed(
            f"expected the good version {versions['good']} to ship (exit 0); found exit {good.code}, its output ends:\n"
            f"{_tail(good.output)}\ntry running the command on it by hand and read the first step that fails"
        )
    _no_failures("the good version", good)
    if good.serving != versions["good"]:
        raise CheckFailed(
            f"expected the room to answer with {versions['good']} after the release said it shipped; found "
            f"{good.serving}; try checking that the switch step starts the image you pushed"
        )
    bad = under_load(_words(command, made["bad"]), cwd, env=env)
    if bad.code == 0:
        raise CheckFailed(
            f"expected the bad version {versions['bad']} (it answers wrongly) to fail the release; found exit 0 "
            f"and the room on {bad.serving}; try making the smoke step's failure end the script with a non-zero exit"
        )
    if bad.serving != versions["good"]:
        raise CheckFailed(
            f"expected the room back on {versions['good']} after the bad version failed; found {bad.serving}; "
            "try switching back before the script exits when the smoke step fails"
        )
    _no_failures("the bad version", bad)
    passed(
        f"your release shipped {versions['good']} ({good.sent} requests, 0 failed) and rolled {versions['bad']} back "
        f"({bad.sent} requests, 0 failed) in {time.monotonic() - started:.0f} s"
    )


def _has_todo(path: Path) -> bool:
    """A file of the command that still holds the exercise's placeholder line."""
    return path.is_file() and any(line.strip() == TODO for line in path.read_text(encoding="utf-8").splitlines())


def _words(command: str, model: Path) -> list[str]:
    return shlex.split(command.replace(MODEL, shlex.quote(str(model))))


def _no_failures(which: str, run: Run) -> None:
    if run.failed:
        raise CheckFailed(
            f"expected no failed request while {which} was released; found {run.failed} of {run.sent}; "
            "try starting the new colour and waiting until it is ready before the switch"
        )

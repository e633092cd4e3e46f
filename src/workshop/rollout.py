"""New model versions in the room for make and the tests (notebook 07b types the commands): a rolling
update replaces the live colour's replicas one by one; blue/green starts the idle colour and switches
the proxy to it, keeping the old one for a rollback. Images carry their model version's label."""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from docker.errors import ImageNotFound

from penguins.serving import artifacts
from penguins.serving.paths import artifacts_dir
from workshop import docker, room

COLOURS = room.MODEL_SERVICES  # ("penguins-blue", "penguins-green")
IMAGE_VARIABLE = {"penguins-blue": "BLUE_IMAGE", "penguins-green": "GREEN_IMAGE"}  # in compose.room.yaml
LABEL_VERSION = "penguins.model_version"
MODEL_FILE = "mlp.onnx"  # the file the image serves (docker/Dockerfile copies it)
SECOND_SEED = 7  # the second model version's seed, as `make room-v2` trains it into artifacts-v2/
UP = ("up", "--detach", "--wait", "--no-deps", "--no-build", "--pull", "never")
ACTIONS = ("rollout", "rollback", "rolling", "labels", "version", "build")  # python -m workshop room <action>


class RolloutError(RuntimeError):
    """A change that cannot be made (no such image, nothing to roll back to); it says why."""


def model_of(folder: Path | None = None) -> artifacts.Metadata:
    return artifacts.read_metadata(Path(folder or artifacts_dir()) / MODEL_FILE)


def second_version() -> Path:
    """`make room-v2`'s artifacts-v2/: the second model version, trained once per checkout. Trained
    aside and renamed into place, so two kernels (or test workers) asking at once never see half of it."""
    from penguins.training import build

    folder = room.root() / "artifacts-v2"
    if not (folder / MODEL_FILE).exists():
        with tempfile.TemporaryDirectory(
            prefix=".artifacts-v2-", dir=folder.parent, ignore_cleanup_errors=True
        ) as made:
            build.train(Path(made), seed=SECOND_SEED, say=lambda line: None)
            build.export(Path(made), say=lambda line: None)
            with contextlib.suppress(OSError):  # another one got there first: its files stay
                Path(made).rename(folder)
    return folder


def image_tag(folder: Path | None = None) -> str:
    return f"{docker.IMAGE}:{model_of(folder).model_version}"


def label_args(folder: Path | None = None) -> list[str]:
    """`docker build`'s --label arguments: the model's version and sha256 on the image itself."""
    meta = model_of(folder)
    return ["--label", f"{LABEL_VERSION}={meta.model_version}", "--label", f"penguins.model_sha256={meta.sha256}"]


def version_of(image: str, required: bool = True) -> str:
    """The model version an image's label names ("" without one, unless `required`)."""
    try:
        version = str(docker.api().images.get(image).labels.get(LABEL_VERSION, ""))
    except ImageNotFound as error:
        raise RolloutError(f"no image {image} here: {error.explanation}") from None
    if required and not version:
        raise RolloutError(f"{image} has no {LABEL_VERSION} label: build it with make docker-build")
    return version


def build_version(folder: Path, timeout: float = 900) -> str:
    """The image of the model in `folder`, tagged by its version (not `latest`), labelled."""
    tag = image_tag(folder)
    docker.build(tag, artifacts=folder, timeout=timeout, say=lambda line: None, options=label_args(folder))
    return tag


def containers(colour: str) -> list[tuple[str, str]]:
    """(name, image) of the colour's running containers, oldest first."""
    found = sorted(room.running(service=colour), key=lambda item: item["Created"])
    return [(item["Name"].lstrip("/"), item["Config"]["Image"]) for item in found]


def live_colour() -> tuple[str, str]:
    """The colour the proxy sends to, as its colour.conf says, and the other one."""
    text = (room.root() / room.SECRETS / room.COLOUR_CONF).read_text(encoding="utf-8")
    found = [colour for colour in COLOURS if room.colour_line(colour) in text]
    if len(found) != 1:
        raise RolloutError(f"{room.SECRETS}/{room.COLOUR_CONF} names no colour: make room-certs")
    return found[0], COLOURS[1 - COLOURS.index(found[0])]


def images_env(**changed: str) -> dict[str, str]:
    """BLUE_IMAGE and GREEN_IMAGE as running (so compose leaves the other colour be), `changed` new."""
    env = {IMAGE_VARIABLE[colour]: found[-1][1] for colour in COLOURS if (found := containers(colour))}
    return {**env, **{IMAGE_VARIABLE[colour]: image for colour, image in changed.items()}}


def proxy_workers() -> set[str]:
    """The process ids of the proxy's nginx workers now (`docker top`)."""
    processes = docker.api().containers.get(room.running("proxy")[0]["Id"]).top()["Processes"]
    return {row[1] for row in processes if "worker process" in row[-1]}


def wait_workers_replaced(before: set[str], within: float = 30.0) -> float:
    """Until the old nginx workers (`before`) have finished their requests and exited; monotonic time then."""
    deadline = time.monotonic() + within
    while (now := proxy_workers()) & before or not now:
        if time.monotonic() > deadline:
            raise RolloutError(f"the proxy's old workers {sorted(now & before)} still run {within:g} s after a reload")
        time.sleep(0.1)
    return time.monotonic()


@dataclass(frozen=True)
class Change:
    what: str
    version: str  # the model version that answers now
    seconds: float

    def __str__(self) -> str:
        return f"{self.what} ({self.seconds:.1f} s)"


def switch(colour: str, env: dict[str, str]) -> None:
    """colour.conf names `colour`, nginx reloads; once the old workers have exited only `colour` answers."""
    before = proxy_workers()
    room.write_colour(colour)
    room.compose("exec", "-T", "proxy", "nginx", "-s", "reload", env=env)
    wait_workers_replaced(before)


def rollout(image: str) -> Change:
    """Blue/green: `image` as the idle colour, every replica healthy, then the proxy switched to it."""
    started, version = time.monotonic(), version_of(image)
    old, new = live_colour()
    env = images_env(**{new: image})
    room.compose(*UP, "--scale", f"{new}={room.facts().replicas}", new, env=env)
    switch(new, env)
    what = f"the proxy sends to {new} ({version}); {old} still runs for a rollback"
    return Change(what, version, time.monotonic() - started)


def rollback() -> Change:
    """The same switch back to the other colour, which must still run."""
    started, back = time.monotonic(), live_colour()[1]
    if not (running := containers(back)):
        raise RolloutError(f"nothing to roll back to: {back} has no running replicas")
    switch(back, images_env())
    version = version_of(running[-1][1], required=False)
    return Change(f"the proxy sends to {back} again ({version})", version, time.monotonic() - started)


def rolling(image: str) -> Change:
    """A rolling update of the live colour: one new replica up, one old one stopped, until all run `image`."""
    started, version = time.monotonic(), version_of(image, required=False)
    colour, replicas = live_colour()[0], room.facts().replicas
    env = images_env(**{colour: image})
    for _ in range(replicas):
        old = [name for name, used in containers(colour) if used != image]
        if not old:
            break
        room.compose(*UP, "--no-recreate", "--scale", f"{colour}={replicas + 1}", colour, env=env)
        leaving = docker.api().containers.get(old[0])
        leaving.stop(timeout=10)  # seconds SIGTERM gets before SIGKILL
        leaving.remove()
    return Change(f"every {colour} replica runs {image}", version, time.monotonic() - started)


def main(action: str, target: str | None = None) -> None:
    """`python -m workshop room rollout|rolling IMAGE | rollback | labels|version|build [ARTIFACTS]`:
    what `make room-rollout`, `room-rolling`, `room-rollback`, `docker-build` and `room-v2` run."""
    folder = Path(target) if target else None
    if action == "labels":
        print(" ".join(label_args(folder)))
    elif action == "version":
        print(model_of(folder).model_version)
    elif action == "build":
        print(f"built {build_version(folder or artifacts_dir())}")
    elif action == "rollback":
        print(rollback())
    elif not target:
        raise RolloutError(f"which image? make room-{action} VERSION=<model_version>")
    else:
        print(rollout(target) if action == "rollout" else rolling(target))

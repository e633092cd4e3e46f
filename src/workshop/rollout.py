"""New model versions in the server room, two ways, for `make` and the tests (notebook 07b types
the same commands itself; these helpers only wait, poll and read).

- A rolling update replaces the serving colour's replicas one at a time: a new container with
  the new image beside the old ones (`up --no-recreate --scale`), then one old container
  stopped. While it runs, both versions answer.
- Blue/green starts the new version as the idle colour, then switches the proxy to it: the
  colour in .room/colour.conf and `nginx -s reload`. Once the old nginx workers have finished
  their requests and exited, every answer comes from the new colour. The old colour keeps
  running, so a rollback is the same switch back.

Images are named by their model: `penguins-to-production:<model_version>`, with the version
and the model's sha256 as image labels (`make docker-build` puts them there).
"""

from __future__ import annotations

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
LABEL_SHA256 = "penguins.model_sha256"
MODEL_FILE = "mlp.onnx"  # the file the image serves (docker/Dockerfile copies it)
STOP_TIMEOUT = 10  # seconds SIGTERM gets before Docker sends SIGKILL
WORKERS_GONE_WITHIN = 30.0  # seconds the old nginx workers may take to finish their requests
ACTIONS = ("rollout", "rollback", "rolling", "labels", "version", "build")  # python -m workshop room <action>


class RolloutError(RuntimeError):
    """A change that cannot be made (no such image, nothing to roll back to); it says why."""


# ---------------------------------------------------------------- images named by their model


def model_of(folder: Path | None = None) -> artifacts.Metadata:
    return artifacts.read_metadata(Path(folder or artifacts_dir()) / MODEL_FILE)


def image_tag(folder: Path | None = None) -> str:
    return f"{docker.IMAGE}:{model_of(folder).model_version}"


def label_args(folder: Path | None = None) -> list[str]:
    """`docker build`'s --label arguments: the model's version and sha256 on the image itself."""
    meta = model_of(folder)
    return ["--label", f"{LABEL_VERSION}={meta.model_version}", "--label", f"{LABEL_SHA256}={meta.sha256}"]


def labels(image: str) -> dict[str, str]:
    try:
        return dict(docker.api().images.get(image).labels)
    except ImageNotFound as error:
        raise RolloutError(f"no image {image} here: {error.explanation}") from None


def build_version(folder: Path, timeout: float = 900) -> str:
    """The image of the model in `folder`, tagged by its version (not `latest`), labelled."""
    tag = image_tag(folder)
    docker.build(tag, artifacts=folder, timeout=timeout, say=lambda line: None, options=label_args(folder))
    return tag


# ---------------------------------------------------------------- what runs


def containers(colour: str) -> list[tuple[str, str]]:
    """(name, image) of the colour's running containers, oldest first."""
    found = room.running(service=colour)
    found.sort(key=lambda item: item["Created"])
    return [(item["Name"].lstrip("/"), item["Config"]["Image"]) for item in found]


def live_colour() -> str:
    """The colour the proxy sends to, as its colour.conf says."""
    text = (room.root() / room.SECRETS / room.COLOUR_CONF).read_text(encoding="utf-8")
    found = [colour for colour in COLOURS if room.colour_line(colour) in text]
    if len(found) != 1:
        raise RolloutError(f"{room.SECRETS}/{room.COLOUR_CONF} names no colour: make room-certs")
    return found[0]


def other(colour: str) -> str:
    return COLOURS[1 - COLOURS.index(colour)]


def images_env() -> dict[str, str]:
    """BLUE_IMAGE and GREEN_IMAGE as the running containers have them, so that a compose command
    leaves the colours it does not touch as they are."""
    return {IMAGE_VARIABLE[colour]: found[-1][1] for colour in COLOURS if (found := containers(colour))}


# ---------------------------------------------------------------- the proxy's reload


def proxy_workers() -> set[str]:
    """The process ids of the proxy's nginx workers now."""
    listing = room.compose(
        "exec",
        "-T",
        "proxy",
        "sh",
        "-c",
        r'for p in /proc/[0-9]*; do echo "${p#/proc/} $(tr "\0" " " < $p/cmdline)"; done',
    ).output
    return {line.split()[0] for line in listing.splitlines() if "worker process" in line}


def wait_workers_replaced(before: set[str], within: float = WORKERS_GONE_WITHIN) -> float:
    """Wait (bounded) until none of the workers in `before` runs any more and new ones do: after
    a reload the old workers finish their requests first. Returns time.monotonic() then."""
    deadline = time.monotonic() + within
    while True:
        now = proxy_workers()
        if now and not now & before:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise RolloutError(f"the proxy's old workers {sorted(now & before)} still run {within:g} s after a reload")
        time.sleep(0.1)


# ---------------------------------------------------------------- the two strategies, for make


@dataclass(frozen=True)
class Change:
    what: str
    version: str  # the model version that answers now
    seconds: float

    def __str__(self) -> str:
        return f"{self.what} ({self.seconds:.1f} s)"


def switch(colour: str, env: dict[str, str] | None = None) -> float:
    """Blue/green's switch: colour.conf names `colour`, nginx reloads; returns when the old workers
    have exited (time.monotonic()), from when on only `colour` answers."""
    before = proxy_workers()
    room.write_colour(colour)
    room.compose("exec", "-T", "proxy", "nginx", "-s", "reload", env=env)
    return wait_workers_replaced(before)


def rollout(image: str) -> Change:
    """Blue/green: `image` as the idle colour, every replica healthy, then the proxy switched to it."""
    started = time.monotonic()
    version = labels(image).get(LABEL_VERSION)
    if not version:
        raise RolloutError(f"{image} has no {LABEL_VERSION} label: build it with make docker-build")
    old = live_colour()
    new = other(old)
    env = {**images_env(), IMAGE_VARIABLE[new]: image}
    scale = f"{new}={room.facts().replicas}"
    room.compose(
        "up", "--detach", "--wait", "--no-deps", "--no-build", "--pull", "never", "--scale", scale, new, env=env
    )
    switch(new, env)
    what = f"the proxy sends to {new} ({version}); {old} still runs for a rollback"
    return Change(what, version, time.monotonic() - started)


def rollback() -> Change:
    """The same switch back to the other colour, which must still run."""
    started = time.monotonic()
    back = other(live_colour())
    running = containers(back)
    if not running:
        raise RolloutError(f"nothing to roll back to: {back} has no running replicas")
    switch(back, images_env())
    version = labels(running[-1][1]).get(LABEL_VERSION, "")
    return Change(f"the proxy sends to {back} again ({version})", version, time.monotonic() - started)


def rolling(image: str) -> Change:
    """A rolling update of the live colour: one new replica, then one old one stopped, until
    every replica runs `image`."""
    started = time.monotonic()
    colour = live_colour()
    env = {**images_env(), IMAGE_VARIABLE[colour]: image}
    replicas = room.facts().replicas
    flags = ("--detach", "--wait", "--no-deps", "--no-build", "--pull", "never", "--no-recreate")
    for _ in range(replicas):
        old = [name for name, used in containers(colour) if used != image]
        if not old:
            break
        room.compose("up", *flags, "--scale", f"{colour}={replicas + 1}", colour, env=env)
        leaving = docker.api().containers.get(old[0])
        leaving.stop(timeout=STOP_TIMEOUT)
        leaving.remove()
    version = labels(image).get(LABEL_VERSION, "")
    return Change(f"every {colour} replica runs {image}", version, time.monotonic() - started)


def main(action: str, target: str | None = None) -> int:
    """`python -m workshop room rollout IMAGE | rollback | rolling IMAGE | labels|version|build
    [ARTIFACTS]`: what `make room-rollout`, `room-rollback`, `room-rolling`, `room-v2` and
    `docker-build` run. `build` makes the image of another artifacts folder, tagged by its version."""
    folder = Path(target) if target else None
    try:
        if action == "labels":
            print(" ".join(label_args(folder)))
        elif action == "version":
            print(model_of(folder).model_version)
        elif action == "build":
            print(f"built {build_version(folder or artifacts_dir())}")
        elif action == "rollback":
            print(rollback())
        else:
            if not target:
                raise RolloutError(f"which image? make room-{action} VERSION=<model_version>")
            print(rollout(target) if action == "rollout" else rolling(target))
    except (RolloutError, room.RoomError, docker.DockerError, artifacts.ArtifactError) as err:
        print(err)
        return 1
    return 0

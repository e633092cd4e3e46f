"""New model versions in the server room without a failed request: blue/green.

docker/compose.room.yaml runs the model as two services, `penguins-blue` and `penguins-green`,
that share the network alias `penguins`, the name the proxy and the station call. One colour
is live; a rollout starts the new image as the other colour beside it, waits until every new
replica answers `/ready` with the new version, then stops the old colour with SIGTERM (uvicorn
finishes the requests it has; the proxy retries a refused connection on a live replica). A
rollback is the same switch back to the image the stopped colour still holds.

Images are named by their model: `penguins-to-production:<model_version>`, with the version
and the model's sha256 as image labels (`make docker-build` puts them there).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from penguins.serving import artifacts
from penguins.serving.paths import artifacts_dir
from workshop import docker, room

COLOURS = room.MODEL_SERVICES  # ("penguins-blue", "penguins-green")
IMAGE_VARIABLE = {"penguins-blue": "BLUE_IMAGE", "penguins-green": "GREEN_IMAGE"}  # in compose.room.yaml
LABEL_VERSION = "penguins.model_version"
LABEL_SHA256 = "penguins.model_sha256"
MODEL_FILE = "mlp.onnx"  # the file the image serves (docker/Dockerfile copies it)
RESOLVER_VALID = 1.0  # nginx.conf's `resolver ... valid=1s`: how long the proxy may still use old addresses
STOP_TIMEOUT = 10  # seconds SIGTERM gets before compose sends SIGKILL
ACTIONS = ("rollout", "rollback", "labels", "version", "build")  # python -m workshop room <action>


class RolloutError(RuntimeError):
    """A switch that cannot be made (no live colour, a new replica that is not ready); it says why."""


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
    result = subprocess.run(
        ["docker", "image", "inspect", image, "--format", "{{json .Config.Labels}}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        raise RolloutError(f"no image {image} here: {result.stderr.strip()}")
    found: dict[str, str] = json.loads(result.stdout) or {}
    return found


def build_version(folder: Path, base: str | None = None, timeout: float = 900) -> str:
    """The image of the model in `folder`, tagged by its version (not `latest`), labelled."""
    tag = image_tag(folder)
    with tempfile.TemporaryDirectory(prefix="penguins-version-") as scratch:
        context = docker.build_context(Path(scratch), folder)
        command = ["docker", "build", "-f", docker.DOCKERFILE, *label_args(folder), "-t", tag, "."]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=context)
    if result.returncode != 0:
        raise RolloutError(f"{room.shell(command)} failed:\n{result.stderr[-1500:]}")
    return tag


# ---------------------------------------------------------------- the switch


def running(colour: str) -> list[room.Replica]:
    return room.replicas(services=(colour,))


def live_colour() -> str:
    """The colour whose replicas run; exactly one may."""
    live = [colour for colour in COLOURS if running(colour)]
    if len(live) != 1:
        raise RolloutError(f"expected one live colour of {', '.join(COLOURS)}, found {live or 'none'}: make room-up")
    return live[0]


def other(colour: str) -> str:
    return COLOURS[1 - COLOURS.index(colour)]


def ready_version(replica: room.Replica) -> str:
    """GET /ready from inside the replica itself: the model version it answers with."""
    probe = (
        "import json, urllib.request; "
        "print(json.load(urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2))['model_version'])"
    )
    result = subprocess.run(
        ["docker", "exec", replica.name, "python", "-c", probe], capture_output=True, text=True, timeout=30
    )
    return result.stdout.strip() if result.returncode == 0 else ""


@dataclass(frozen=True)
class Switch:
    old: str  # colour
    new: str
    image: str
    version: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.new} now serves {self.version} ({self.image}); {self.old} stopped; {self.seconds:.1f} s"


def rollout(image: str, env: dict[str, str] | None = None) -> Switch:
    """Start `image` as the idle colour, wait for /ready on every new replica, stop the live one."""
    started = time.monotonic()
    version = labels(image).get(LABEL_VERSION)
    if not version:
        raise RolloutError(f"{image} has no {LABEL_VERSION} label: build it with make docker-build")
    old = live_colour()
    new = other(old)
    replicas = str(room.facts().replicas)
    env = {**(env or {}), IMAGE_VARIABLE[new]: image}
    room.compose("up", "--wait", "--no-build", "--pull", "never", "--scale", f"{new}={replicas}", new, env=env)
    fresh = running(new)
    answers = {replica.name: ready_version(replica) for replica in fresh}
    if len(fresh) != int(replicas) or set(answers.values()) != {version}:
        raise RolloutError(f"{new} is not ready with {version}: /ready gave {answers}; {old} keeps serving")
    time.sleep(2 * RESOLVER_VALID)  # the proxy has asked the DNS again: the new replicas get traffic
    room.compose("stop", "--timeout", str(STOP_TIMEOUT), old, env=env)
    return Switch(old, new, image, version, time.monotonic() - started)


def previous_image() -> str:
    """The image of the stopped colour: what a rollback goes back to."""
    idle = other(live_colour())
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--quiet",
            "--filter",
            f"label=com.docker.compose.service={idle}",
            "--filter",
            f"label=com.docker.compose.project={room.facts().project}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    if not listed:
        raise RolloutError(f"nothing to roll back to: {idle} has no stopped replicas")
    result = subprocess.run(
        ["docker", "inspect", "--format", "{{.Config.Image}}", listed[0]], capture_output=True, text=True, timeout=30
    )
    return result.stdout.strip()


def rollback(env: dict[str, str] | None = None) -> Switch:
    """The reverse switch: the stopped colour's image comes back, the live colour stops."""
    return rollout(previous_image(), env=env)


def main(action: str, target: str | None = None) -> int:
    """`python -m workshop room rollout IMAGE | rollback | labels|version|build [ARTIFACTS]`: what
    `make room-rollout`, `room-rollback`, `room-v2` and `docker-build` run. `build` makes the image
    of another artifacts folder (a copy of the build files with that model), tagged by its version."""
    folder = Path(target) if target else None
    try:
        if action == "labels":
            print(" ".join(label_args(folder)))
        elif action == "version":
            print(model_of(folder).model_version)
        elif action == "build":
            print(f"built {build_version(folder or artifacts_dir())}")
        else:
            if action == "rollout" and not target:
                raise RolloutError("which image? make room-rollout VERSION=<model_version>")
            print(rollout(str(target)) if action == "rollout" else rollback())
    except (RolloutError, room.RoomError, artifacts.ArtifactError) as err:
        print(err)
        return 1
    return 0

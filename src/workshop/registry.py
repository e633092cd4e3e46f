"""Stage 06's registry: `registry:2` on 127.0.0.1 (Docker trusts loopback without TLS). up() says
whether it started one, so a notebook stops only what it started, never the class's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from workshop import docker, rollout
from workshop.server import get_status
from workshop.stages import REGISTRY_PORT

ADDRESS = f"127.0.0.1:{REGISTRY_PORT}"
IMAGE = "registry:2"  # the official image; it listens on 5000 inside
CONTAINER = "penguins-registry"
READY_WITHIN = 30.0  # seconds


def up(say: Callable[[str], None] = print) -> bool:
    """Start `registry:2` on ADDRESS unless a registry answers there; True when this call started it."""
    if not (engine := docker.engine()).running:
        say(f"{engine}: no registry started")
        return False
    if get_status(REGISTRY_PORT, "/v2/") == 200:
        say(f"a registry answers at {ADDRESS}")
        return False
    say(docker.shell(["docker", "run", "--detach", "--rm", "--name", CONTAINER, "--publish", f"{ADDRESS}:5000", IMAGE]))
    docker.api().containers.run(
        IMAGE, detach=True, remove=True, name=CONTAINER, ports={5000: ("127.0.0.1", REGISTRY_PORT)}
    )
    if docker.wait_answering(CONTAINER, REGISTRY_PORT, "/v2/", READY_WITHIN) != "answering":
        log = docker.log_tail(CONTAINER)
        docker.remove(CONTAINER, volumes=True)
        raise docker.DockerError(f"the registry did not answer at {ADDRESS} within {READY_WITHIN:g} s:\n{log}")
    say(f"{IMAGE} answers at http://{ADDRESS}/v2/")
    return True


def down(say: Callable[[str], None] = print) -> None:
    """Remove the registry container and its volume: what was pushed to it goes too."""
    if docker.engine().running and docker.inspect(CONTAINER):
        docker.remove(CONTAINER, volumes=True)
        say(f"registry {CONTAINER} stopped and removed")
    else:
        say(f"no registry {CONTAINER} runs")


def push(local: str | None = None, say: Callable[[str], None] = print) -> str:
    """`make docker-push`: the image (default: its model version's tag) tagged and pushed, as typed."""
    local = local or rollout.image_tag()
    remote = f"{ADDRESS}/{local}"
    for command in (["docker", "tag", local, remote], ["docker", "push", remote]):
        say(docker.shell(command))
        docker.stream(command, Path.cwd(), timeout=600, say=say)
    return remote


def main(action: str) -> None:
    up() if action == "up" else down() if action == "down" else print(f"pushed {push()}")

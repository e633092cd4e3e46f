"""The one docker helper: notebooks type their docker commands; this module waits and cleans up around
them. Questions to the engine go through the Docker SDK; the build through the CLI (the SDK speaks the
legacy builder's API)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

from docker.context import ContextAPI
from docker.errors import APIError, DockerException, NotFound
from dockerfile_parse import DockerfileParser

import docker as sdk
from penguins.serving.paths import artifacts_dir, project_root

IMAGE = "penguins-to-production"  # the image `make docker-build` tags (the Makefile's IMAGE)
CONTAINER = "penguins-06-notebook"  # the notebook's own: it never touches `make docker-run`'s
DOCKERFILE = "docker/Dockerfile"
IGNORE_FILE = ".dockerignore"
ROOM_FILE = "docker/compose.room.yaml"  # stage 07's server room
HEALTHY_WITHIN = 90.0  # seconds
Say = Callable[[str], None]


class DockerError(RuntimeError):
    """A docker command failed; the message ends with its last lines of output."""


def root() -> Path:
    """The project checkout: images and the room are made from its files."""
    found = project_root()
    if found is None:
        raise DockerError("no project checkout found: the image and the room are made from its files")
    return found


@cache
def api() -> sdk.DockerClient:
    """The engine the CLI talks to: DOCKER_HOST, else the CLI's context (Docker Desktop, colima and
    rootless engines sit behind one; the SDK's from_env reads no context). DockerException: none."""
    if os.environ.get("DOCKER_HOST"):
        return sdk.from_env(timeout=60)
    context = ContextAPI.get_context(os.environ.get("DOCKER_CONTEXT")) or ContextAPI.get_context("default")
    return sdk.DockerClient(base_url=context.Host, tls=context.TLSConfig, timeout=60)


def shell(words: Sequence[str]) -> str:
    return "$ " + shlex.join(words)


@dataclass(frozen=True)
class Engine:
    """Whether a Docker engine answers: its version, or why there is none."""

    version: str | None
    reason: str = ""

    @property
    def running(self) -> bool:
        return self.version is not None

    def __str__(self) -> str:
        return f"Docker engine {self.version}" if self.running else f"no Docker engine here ({self.reason})"


def engine() -> Engine:
    """Ask whether an engine answers; never start one (a system service is the machine owner's call)."""
    if shutil.which("docker") is None:  # the notebooks type docker commands: the CLI is needed too
        return Engine(None, "the docker command is not installed")
    try:
        return Engine(str(api().version()["Version"]))
    except (DockerException, OSError):  # OSError: a cached client's engine gone (requests' errors)
        return Engine(None, "the docker command is installed, but no engine answers")


def image_id(image: str) -> str:
    """The image's id (`sha256:...`), or "" when the engine does not hold it."""
    try:
        return str(api().images.get(image).id)
    except NotFound:
        return ""


def has_image(image: str) -> bool:
    return bool(image_id(image))


# `image: nginx:1.28` in a compose file; an image named by a variable (`${...}`) is built here.
_COMPOSE_IMAGE = re.compile(r"^\s*image:\s*([^\s$#][^\s#]*)", re.M)


def pulled_images(base: Path | None = None) -> tuple[str, ...]:
    """The images pulled, not built (the Dockerfile's bases, registry:2, the room's): `make prep` fetches them."""
    from workshop import registry

    base = base or root()
    images = [*Dockerfile.read(base / DOCKERFILE).bases, registry.IMAGE]
    if (base / ROOM_FILE).exists():
        images += _COMPOSE_IMAGE.findall((base / ROOM_FILE).read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(images))


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction as dockerfile-parse reads it."""

    name: str  # FROM, RUN, COPY, ... in capitals
    value: str  # everything after the name, continued lines joined
    line: int  # 1-based, where it starts
    stage: int  # -1 before the first FROM (ARG only), then 0, 1, ... per FROM

    @property
    def exec_form(self) -> list[str] | None:
        """CMD/ENTRYPOINT/RUN as a JSON list of words; None for the shell form."""
        try:
            words = json.loads(self.value)
        except ValueError:
            return None
        return words if isinstance(words, list) and all(isinstance(word, str) for word in words) else None


@dataclass(frozen=True)
class Dockerfile:
    """Its instructions and the image each stage starts FROM (ARG defaults filled in)."""

    instructions: tuple[Instruction, ...]
    bases: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
        found, stage = [], -1
        for item in parser.structure:
            name = item["instruction"].upper()
            if name != "COMMENT":
                stage += name == "FROM"
                found.append(Instruction(name, item["value"].strip(), item["startline"] + 1, stage))
        return cls(tuple(found), tuple(parser.parent_images))

    @classmethod
    def read(cls, path: str | os.PathLike[str] | None = None) -> Dockerfile:
        return cls.parse(Path(path or root() / DOCKERFILE).read_text(encoding="utf-8"))

    @property
    def base(self) -> str:
        """What the image that runs is built on: the last FROM."""
        return self.bases[-1]

    @property
    def final(self) -> list[Instruction]:
        """The final stage's instructions after its FROM: the image that runs."""
        last = max((i.stage for i in self.instructions), default=-1)
        return [i for i in self.instructions if i.stage == last and last >= 0 and i.name != "FROM"]

    def last(self, name: str) -> Instruction | None:
        """The instruction of this kind that counts: the final stage's last."""
        found = [i for i in self.final if i.name == name]
        return found[-1] if found else None

    @property
    def port(self) -> int:
        """EXPOSE's first port, else 8000."""
        expose = self.last("EXPOSE")
        number = re.match(r"\d+", expose.value) if expose else None
        return int(number.group()) if number else 8000


def allowed_in_build(path: str | os.PathLike[str] | None = None) -> list[str]:
    """What `docker build` may see of the project: the `!` lines of the allow-list."""
    text = Path(path or root() / IGNORE_FILE).read_text(encoding="utf-8")
    return [line[1:].strip().strip("/") for line in text.splitlines() if line.startswith("!")]


def build_context(into: Path, artifacts: Path) -> Path:
    """A build context in `into`: what the allow-list names, the model from `artifacts` instead of the project's."""
    base = root()
    for path in (*allowed_in_build(base / IGNORE_FILE), IGNORE_FILE, DOCKERFILE):
        source = Path(artifacts) / Path(path).name if path.startswith("artifacts/") else base / path
        target = Path(into) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, target)
    return Path(into)


@dataclass(frozen=True)
class Built:
    """A finished build: where it ran (in words), the image and how long it took."""

    where: str
    image: str
    image_id: str
    seconds: float

    def __str__(self) -> str:
        return f"built {self.image} ({self.image_id.removeprefix('sha256:')[:12]}) in {self.seconds:.1f} s"


def stream(
    command: Sequence[str], cwd: Path, timeout: float, say: Say = print, env: dict[str, str] | None = None
) -> str:
    """Its output, each line to `say` as it comes (never a silent cell); DockerError with the last lines."""
    lines: list[str] = []
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None  # stdout=PIPE
            for line in process.stdout:
                say(line.rstrip("\n"))
                lines.append(line)
        finally:
            timer.cancel()
    if process.returncode != 0:
        killed = f" (stopped after {timeout:g} s)" if process.returncode < 0 else ""
        raise DockerError(f"{shlex.join(command[:2])} failed{killed}:\n{''.join(lines[-25:])}")
    return "".join(lines)


def build(
    image: str = IMAGE,
    artifacts: str | os.PathLike[str] | None = None,
    timeout: float = 900,
    say: Say = print,
    options: Sequence[str] = (),
) -> Built:
    """`docker build` as `make docker-build` types it, streamed; another model is built in a context copy."""
    base = root()
    folder = Path(artifacts or artifacts_dir()).resolve()
    with tempfile.TemporaryDirectory(prefix="penguins-context-") as scratch:
        if folder == (base / "artifacts").resolve():
            context, where = base, "the project folder, as make does"
        else:
            context = build_context(Path(scratch), folder)
            where = "a copy of the project's build files, with the model in use"
        words = ["docker", "build", "-f", DOCKERFILE, *options, "-t", image, "."]
        say(f"{shell(words)}    (in {where})")
        started = time.perf_counter()
        stream(words, context, timeout, say)
    return Built(where, image, image_id(image), time.perf_counter() - started)


def inspect(name: str) -> dict[str, Any] | None:
    """`docker inspect` of a container (State, Config, NetworkSettings, ...), or None when it is gone."""
    try:
        return dict(api().containers.get(name).attrs)
    except NotFound:
        return None


def log_tail(name: str) -> str:
    with contextlib.suppress(NotFound):
        return bytes(api().containers.get(name).logs(tail=15)).decode(errors="replace").strip() or "(nothing)"
    return "(nothing)"


def container_status(name: str) -> str:
    """`running`, `exited`, ... as Docker says; `gone` for a container it does not know."""
    return str((inspect(name) or {"State": {"Status": "gone"}})["State"]["Status"])


_HEALTH_PROBLEMS = {"unhealthy": "is unhealthy", "none": "has no HEALTHCHECK"}  # of a running container


def wait_healthy(name: str, timeout: float = HEALTHY_WITHIN) -> float:
    """Seconds until the HEALTHCHECK says healthy (`run --detach` returns before the model is loaded)."""
    started = time.monotonic()
    while (waited := time.monotonic() - started) < timeout:
        state = (inspect(name) or {"State": {"Status": "gone"}})["State"]
        status, verdict = state["Status"], state.get("Health", {}).get("Status", "none")
        if status == "gone":
            raise DockerError(f"there is no container {name}: it never started, or it stopped and --rm removed it")
        if status == "running" and verdict == "healthy":
            return waited
        if problem := "stopped" if status != "running" else _HEALTH_PROBLEMS.get(verdict):
            raise DockerError(f"the container {problem}; its log ends:\n{log_tail(name)}")
        time.sleep(0.5)
    raise DockerError(f"the container is not healthy after {timeout:g} s; its log ends:\n{log_tail(name)}")


def wait_answering(name: str, port: int, path: str, within: float) -> str:
    """Until GET `path` on the loopback `port` answers 200: "answering", else the container's status then."""
    from workshop.server import wait_ready

    answered = wait_ready(port, path, lambda: container_status(name) == "running", within, every=0.2)
    return "answering" if answered else container_status(name)


def remove(name: str, volumes: bool = False) -> None:
    """`docker rm --force`; a container already gone is fine."""
    with contextlib.suppress(NotFound):
        try:
            api().containers.get(name).remove(force=True, v=volumes)
        except APIError as error:
            if error.status_code != HTTPStatus.CONFLICT:  # 409: its --rm removal is already under way
                raise


def remove_image(image: str) -> None:
    """`docker rmi --force`: the image and every tag of it; an image already gone is fine."""
    with contextlib.suppress(NotFound):
        api().images.remove(image, force=True)


def main(argv: Sequence[str]) -> int:
    """`python -m workshop.docker wait-healthy CONTAINER [SECONDS]`: what `make docker-run` waits with."""
    if len(argv) not in (2, 3) or argv[0] != "wait-healthy":
        print("usage: python -m workshop.docker wait-healthy CONTAINER [SECONDS]", file=sys.stderr)
        return 2
    try:
        waited = wait_healthy(argv[1], float(argv[2]) if len(argv) == 3 else HEALTHY_WITHIN)
    except DockerError as error:
        raise SystemExit(str(error)) from None
    print(f"container {argv[1]} is healthy after {waited:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

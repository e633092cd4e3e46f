"""The one docker helper: is an engine there, read a Dockerfile, build the project's image, run it, wait.

Notebooks type their docker commands in plain view; this module is what waits, polls and
cleans up around them, and what the make targets, the bench and the tests share. Where a
program asks the engine something (is it there, an image, a container's state, its log) it
talks to the engine's API through the Docker SDK (`docker`), not by parsing the CLI's output:

- engine(): is a Docker engine answering? It only asks; it never starts one.
- Dockerfile: the file read by dockerfile-parse, each instruction with its stage and line.
- build(): `docker build` of docker/Dockerfile, the CLI as `make docker-build` types it (the SDK's
  build speaks the legacy builder's API, not BuildKit's), its output streamed line by line as Docker
  prints it (a first build installs libraries for a minute or two: never a silent cell). A test
  run keeps its models in $PENGUINS_ARTIFACTS, so the build then runs in a copy of the build
  context that holds that model (build_context()).
- run(): `docker run` under a name and a port of its own, returning once Docker's own
  HEALTHCHECK says healthy (wait_healthy(), which `make docker-run` calls too). A container a
  kernel started and did not stop is removed when the kernel exits.

`python -m workshop.docker wait-healthy NAME` is wait_healthy() for the Makefile.
"""

from __future__ import annotations

import atexit
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
from collections import deque
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
from penguins.ports import free_port
from penguins.serving.paths import artifacts_dir, project_root

IMAGE = "penguins-to-production"  # the image `make docker-build` tags (the Makefile's IMAGE)
CONTAINER = "penguins-06-notebook"  # the notebook's own: it never touches `make docker-run`'s
DOCKERFILE = "docker/Dockerfile"
IGNORE_FILE = ".dockerignore"
HEALTHY_WITHIN = 90.0  # seconds


class DockerError(RuntimeError):
    """A docker command failed; the message ends with its last lines of output."""


def _root() -> Path:
    root = project_root()
    if root is None:
        raise DockerError("no project checkout found: the image is built from its files")
    return root


def command(words: Sequence[str], timeout: float = 60, check: bool = True) -> str:
    """Run a docker command given as its words (`docker run ...`), as a student types it; its output, stripped."""
    if list(words[:1]) != ["docker"]:
        raise DockerError(f"not a docker command: {shlex.join(words)}")
    try:
        result = subprocess.run(list(words), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DockerError(f"docker {words[1]} did not finish within {timeout:g} s: is the engine busy?") from None
    if check and result.returncode != 0:
        raise DockerError(f"{shlex.join(words[:3])} failed:\n{(result.stdout + result.stderr)[-1500:]}")
    return result.stdout.strip()


def _connect(timeout: float) -> sdk.DockerClient:
    """The engine the docker CLI talks to: DOCKER_HOST when set, else the CLI's context (Docker
    Desktop, colima and rootless engines sit behind one; the SDK's from_env reads no context)."""
    if os.environ.get("DOCKER_HOST"):
        return sdk.from_env(timeout=timeout)
    context = ContextAPI.get_context(os.environ.get("DOCKER_CONTEXT")) or ContextAPI.get_context("default")
    return sdk.DockerClient(base_url=context.Host, tls=context.TLSConfig, timeout=timeout)


@cache
def api() -> sdk.DockerClient:
    """The engine's API, made once an engine answers."""
    return _connect(60)


def shell(words: Sequence[str]) -> str:
    """A command as you would type it in a terminal."""
    return "$ " + shlex.join(words)


# ---------------------------------------------------------------- the engine


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


def engine(timeout: float = 20) -> Engine:
    """Ask whether a Docker engine answers (`docker version`). It never starts one: starting
    a system service is the machine owner's call (Docker Desktop, or the system's docker service)."""
    if shutil.which("docker") is None:  # the notebooks type docker commands: the CLI is needed too
        return Engine(None, "the docker command is not installed")
    try:
        return Engine(str(_connect(timeout).version()["Version"]))
    except DockerException:
        return Engine(None, "the docker command is installed, but no engine answers")


def image_id(image: str) -> str:
    """The image's id (`sha256:...`), or "" when the engine does not hold it."""
    try:
        return str(api().images.get(image).id)
    except NotFound:
        return ""


def has_image(image: str) -> bool:
    """Does the engine hold this image (by name:tag or id)?"""
    return image_id(image) != ""


def image_size(image: str) -> int:
    """An image's size in bytes, as `docker image ls` counts it."""
    return int(api().images.get(image).attrs["Size"])


ROOM_FILE = "docker/compose.room.yaml"  # stage 07's server room, where it exists
# `image: nginx:1.28` in a compose file; an image named by a variable (`${...}`) is built here.
_COMPOSE_IMAGE = re.compile(r"^\s*image:\s*([^\s$#][^\s#]*)", re.M)


def pulled_images(root: Path | None = None) -> tuple[str, ...]:
    """The images the later stages take from a registry, not build: the Dockerfile's bases and
    the registry's own image (stage 06), and, once the server room exists, the images its compose
    file names (nginx). `make prep` fetches them on good Wi-Fi, and `make doctor` checks they are cached."""
    from workshop import registry

    root = root or _root()
    images = [*Dockerfile.read(root / DOCKERFILE).bases, registry.IMAGE]
    room = root / ROOM_FILE
    if room.exists():
        images += _COMPOSE_IMAGE.findall(room.read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(images))


# ---------------------------------------------------------------- reading a Dockerfile


@dataclass(frozen=True)
class Instruction:
    """One instruction as dockerfile-parse reads it."""

    name: str  # FROM, RUN, COPY, ... in capitals
    value: str  # everything after the name, continued lines joined
    line: int  # 1-based, where it starts
    stage: int  # -1 before the first FROM (ARG only), then 0, 1, ... per FROM

    @property
    def exec_form(self) -> list[str] | None:
        """CMD/ENTRYPOINT/RUN as a JSON list of words (exec form); None for the shell form."""
        try:
            words = json.loads(self.value)
        except ValueError:
            return None
        return words if isinstance(words, list) and all(isinstance(word, str) for word in words) else None


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its instructions and the image each stage starts from."""

    instructions: tuple[Instruction, ...]
    bases: tuple[str, ...]  # one per FROM, ARG defaults filled in

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
        """The Dockerfile at `path` (default: the project's docker/Dockerfile)."""
        return cls.parse(Path(path or _root() / DOCKERFILE).read_text(encoding="utf-8"))

    @property
    def base(self) -> str:
        """The image the final stage starts FROM: what the image that runs is built on."""
        if not self.bases:
            raise DockerError("the Dockerfile has no FROM")
        return self.bases[-1]

    @property
    def final(self) -> list[Instruction]:
        """The instructions after the last FROM: the image that runs, one layer-making step each."""
        last = max((i.stage for i in self.instructions), default=-1)
        return [i for i in self.instructions if i.stage == last and last >= 0 and i.name != "FROM"]

    def every(self, *names: str) -> list[Instruction]:
        """Every instruction of these kinds, in all stages, in the order of the file."""
        return [i for i in self.instructions if i.name in names]

    def last(self, name: str) -> Instruction | None:
        """The instruction of this kind that counts: the last one of the final stage."""
        found = [i for i in self.final if i.name == name]
        return found[-1] if found else None

    @property
    def port(self) -> int:
        """The port the service listens on inside: EXPOSE's first, else 8000."""
        expose = self.last("EXPOSE")
        number = re.match(r"\d+", expose.value) if expose else None
        return int(number.group()) if number else 8000


def allowed_in_build(path: str | os.PathLike[str] | None = None) -> list[str]:
    """What `docker build` may see of the project: the `!` lines of the allow-list."""
    text = Path(path or _root() / IGNORE_FILE).read_text(encoding="utf-8")
    return [line[1:].strip().strip("/") for line in text.splitlines() if line.startswith("!")]


# ---------------------------------------------------------------- building


def build_context(into: Path, artifacts: Path, root: Path | None = None) -> Path:
    """A build context in `into` holding what the allow-list names, at the paths it names
    (plus the allow-list itself and docker/Dockerfile): the project's files from `root`, the
    model from `artifacts` (the folder in use; tests and notebooks point it elsewhere). Written over
    an older one: a notebook run a second time, or a cell run twice, refreshes its context."""
    root = root or _root()
    for path in (*allowed_in_build(root / IGNORE_FILE), IGNORE_FILE, DOCKERFILE):
        source = Path(artifacts) / Path(path).name if path.startswith("artifacts/") else root / path
        target = Path(into) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, target)
    return Path(into)


@dataclass(frozen=True)
class Built:
    """A finished build: the command, where it ran, the image and how long it took."""

    command: list[str]
    where: str  # the build context, in words
    image: str
    image_id: str
    seconds: float

    def __str__(self) -> str:
        return f"built {self.image} ({self.image_id.removeprefix('sha256:')[:12]}) in {self.seconds:.1f} s"


def stream(command: Sequence[str], cwd: Path, timeout: float, say: Callable[[str], None] = print) -> str:
    """Run a command and hand every line of its output to `say` as it comes; the output's last
    lines are returned (for the error message). Killed after `timeout` seconds."""
    tail: deque[str] = deque(maxlen=25)
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None  # stdout=PIPE
            for line in process.stdout:
                say(line.rstrip("\n"))
                tail.append(line)
        finally:
            timer.cancel()
    if process.returncode != 0:
        killed = f" (stopped after {timeout:g} s)" if process.returncode < 0 else ""
        raise DockerError(f"{shlex.join(command[:2])} failed{killed}:\n{''.join(tail)}")
    return "".join(tail)


def build(
    image: str = IMAGE,
    dockerfile: str | os.PathLike[str] | None = None,
    artifacts: str | os.PathLike[str] | None = None,
    timeout: float = 900,
    say: Callable[[str], None] = print,
    options: Sequence[str] = (),
) -> Built:
    """`docker build` as `make docker-build` runs it (plus `options`, e.g. --label), its output streamed to `say`.

    `dockerfile` defaults to docker/Dockerfile; `artifacts` to the artifacts folder in use,
    which must hold the ONNX model (see penguins.training.build). Unchanged steps come from
    Docker's cache, so building again takes seconds.
    """
    root = _root()
    folder = Path(artifacts or artifacts_dir()).resolve()
    with tempfile.TemporaryDirectory(prefix="penguins-context-") as scratch:
        if folder == (root / "artifacts").resolve() and dockerfile is None:
            context, where = root, "the project folder, as make does"
        else:
            context = build_context(Path(scratch), folder, root)
            where = "a copy of the project's build files, with the model in use"
            if dockerfile is not None:
                shutil.copyfile(dockerfile, context / DOCKERFILE)
        words = ["docker", "build", "-f", DOCKERFILE, *options, "-t", image, "."]
        say(f"{shell(words)}    (in {where})")
        started = time.perf_counter()
        stream(words, context, timeout, say)
        seconds = time.perf_counter() - started
    return Built(words, where, image, image_id(image), seconds)


# ---------------------------------------------------------------- running


def inspect(name: str) -> dict[str, Any] | None:
    """What `docker inspect` says of a container (its State, Config, NetworkSettings, ...), or None when it is gone."""
    try:
        found: dict[str, Any] = api().containers.get(name).attrs
    except NotFound:
        return None
    return found


def log_tail(name: str, lines: int = 15) -> str:
    """A container's last log lines, or (nothing)."""
    try:
        return bytes(api().containers.get(name).logs(tail=lines)).decode(errors="replace").strip() or "(nothing)"
    except NotFound:
        return "(nothing)"


def container_status(name: str) -> str:
    """`running`, `exited`, ... as Docker says; `gone` for a container it does not know."""
    found = inspect(name)
    return str(found["State"]["Status"]) if found else "gone"


def exists(name: str) -> bool:
    """Does Docker know a container of this name (running or stopped)?"""
    return container_status(name) != "gone"


_HEALTH_PROBLEMS = {"unhealthy": "is unhealthy", "none": "has no HEALTHCHECK"}  # of a running container


def wait_healthy(name: str, timeout: float = HEALTHY_WITHIN) -> float:
    """Wait until Docker's HEALTHCHECK calls the container healthy; the seconds it took.

    `docker run --detach` returns as soon as the process starts, long before the model is
    loaded and the port answers. Docker knows when the service is ready: it runs the image's
    HEALTHCHECK. A container that stops, turns unhealthy or stays starting too long raises
    DockerError with its last log lines.
    """
    started = time.monotonic()
    while True:
        state = (inspect(name) or {}).get("State", {"Status": "gone"})
        status, verdict = state["Status"], state.get("Health", {}).get("Status", "none")
        waited = time.monotonic() - started
        if status == "running" and verdict == "healthy":
            return waited
        if status == "gone":
            raise DockerError(f"there is no container {name}: it never started, or it stopped and --rm removed it")
        problem = "stopped" if status != "running" else _HEALTH_PROBLEMS.get(verdict)
        if problem:
            raise DockerError(f"the container {problem}; its log ends:\n{log_tail(name)}")
        if waited > timeout:
            raise DockerError(f"the container is not healthy after {timeout:g} s; its log ends:\n{log_tail(name)}")
        time.sleep(0.5)


@dataclass(frozen=True)
class Running:
    """A container started by run(): its name, its address and its image."""

    name: str
    url: str
    image: str

    def stop(self, timeout: float = 60) -> str:
        """`docker stop` (SIGTERM, then --rm removes it); says how long it took."""
        _STARTED.discard(self.name)
        started = time.perf_counter()
        remove(self.name, stop=True)
        return f"{shell(['docker', 'stop', self.name])}: stopped in {time.perf_counter() - started:.1f} s"


def run(image: str = IMAGE, name: str = CONTAINER, port: int | None = None, inside_port: int = 8000) -> Running:
    """`docker run` as `make docker-run` does it, under its own name and a free loopback port;
    returns once Docker's HEALTHCHECK says healthy. A leftover of that name goes first."""
    port = port or free_port()
    remove(name)
    api().containers.run(image, detach=True, remove=True, name=name, ports={inside_port: ("127.0.0.1", port)})
    _STARTED.add(name)
    try:
        wait_healthy(name)
    except DockerError:
        remove(name)
        raise
    return Running(name, f"http://127.0.0.1:{port}", image)


def remove(name: str, stop: bool = False) -> None:
    """`docker stop` (SIGTERM first: --rm then removes it) or `docker rm --force`; a container already gone is fine."""
    with contextlib.suppress(NotFound):
        container = api().containers.get(name)
        try:
            container.stop() if stop else container.remove(force=True)
        except APIError as error:
            if error.status_code != HTTPStatus.CONFLICT:  # 409: its --rm removal is already under way
                raise


def remove_image(image: str) -> None:
    """`docker rmi --force`: the image and every tag of it; an image already gone is fine."""
    with contextlib.suppress(NotFound):
        api().images.remove(image, force=True)


_STARTED: set[str] = set()


@atexit.register
def _remove_started() -> None:
    """A kernel that exits removes the containers it started and did not stop."""
    for name in list(_STARTED):
        remove(name)
    _STARTED.clear()


def main(argv: Sequence[str]) -> int:
    """`python -m workshop.docker wait-healthy NAME [SECONDS]`: what `make docker-run` waits with."""
    if len(argv) not in (2, 3) or argv[0] != "wait-healthy":
        print("usage: python -m workshop.docker wait-healthy CONTAINER [SECONDS]", file=sys.stderr)
        return 2
    try:
        waited = wait_healthy(argv[1], float(argv[2]) if len(argv) == 3 else HEALTHY_WITHIN)
    except DockerError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"container {argv[1]} is healthy after {waited:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

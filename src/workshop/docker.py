"""The one docker helper: read a Dockerfile, build it, run a container, look inside, weigh it.

Notebook 06, exercise 06's check, the bench and the container tests all go through here, so
there is one Dockerfile parser (dockerfile-parse) and one way to call `docker`:

- engine(): is a Docker engine answering? It only asks; it never starts one.
- Dockerfile: the file read by dockerfile-parse, each instruction with its stage, its line
  and the comment written above it (the explanation lives in one place: the file).
- build(): `docker build` with its output streamed line by line as Docker prints it (a first
  build installs libraries for a minute or two: never a silent cell). A test run keeps its
  models in $PENGUINS_ARTIFACTS, so the build then runs in a copy of the build context that
  holds that model (build_context()).
- run(): `docker run` under a name and a port of its own, returning once Docker's own
  HEALTHCHECK says healthy (wait_healthy(), which `make docker-run` calls too); look inside,
  read its log, stop it. A container a kernel started and did not stop is removed when the
  kernel exits.
- folder_size(), package_size(), size_report(): where the megabytes are.

`python -m workshop.docker wait-healthy NAME` is wait_healthy() for the Makefile.
"""

from __future__ import annotations

import atexit
import html
import importlib.util
import io
import ipaddress
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
from pathlib import Path

from dockerfile_parse import DockerfileParser

from penguins.client import PenguinClient
from penguins.ports import free_port
from penguins.serving.paths import artifacts_dir, project_root

IMAGE = "penguins-to-production"  # the image `make docker-build` tags (the Makefile's IMAGE)
CONTAINER = "penguins-06-notebook"  # the notebook's own: it never touches `make docker-run`'s
DOCKERFILE = "docker/Dockerfile"
IGNORE_FILE = ".dockerignore"
HEALTHY_WITHIN = 90.0  # seconds
TRAINING_STACK = ("torch", "sklearn", "pandas", "jupyterlab", "matplotlib", "workshop")
SERVING_STACK = ("numpy", "onnxruntime", "fastapi", "uvicorn", "penguins")


class DockerError(RuntimeError):
    """A docker command failed; the message ends with its last lines of output."""


def _root() -> Path:
    root = project_root()
    if root is None:
        raise DockerError("no project checkout found: the image is built from its files")
    return root


def _docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DockerError(f"docker {args[0]} did not finish within {timeout:g} s: is the engine busy?") from None
    if check and result.returncode != 0:
        raise DockerError(f"docker {' '.join(args[:2])} failed:\n{(result.stdout + result.stderr)[-1500:]}")
    return result


def shell(command: Sequence[str]) -> str:
    """A command as you would type it in a terminal."""
    return "$ " + shlex.join(command)


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
        if self.running:
            return f"Docker engine {self.version} answers: the cells below build, run and call the image for real"
        return f"no Docker engine here ({self.reason}): the cells below skip their docker commands"


def engine(timeout: float = 20) -> Engine:
    """Ask whether a Docker engine answers (`docker version`). It never starts one: starting
    a system service is the machine owner's call (Docker Desktop, or the system's docker service)."""
    if shutil.which("docker") is None:
        return Engine(None, "the docker command is not installed")
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Engine(None, f"docker did not answer within {timeout:g} s")
    version = result.stdout.strip()
    if result.returncode != 0 or not version:
        return Engine(None, "the docker command is installed, but no engine answers")
    return Engine(version)


def has_image(image: str) -> bool:
    """Does the engine hold this image (by name:tag or id)?"""
    return _docker("image", "inspect", image, check=False).returncode == 0


ROOM_FILE = "docker/compose.room.yaml"  # stage 07's server room, where it exists
# `image: nginx:1.28` in a compose file; an image named by a variable (`${...}`) is built here.
_COMPOSE_IMAGE = re.compile(r"^\s*image:\s*([^\s$#][^\s#]*)", re.M)


def pulled_images(root: Path | None = None) -> tuple[str, ...]:
    """The images the later stages take from a registry, not build: the Dockerfile's bases
    (stage 06) and, once the server room exists, the images its compose file names (nginx).
    `make prep` fetches them on good Wi-Fi, and `make doctor` checks they are cached."""
    root = root or _root()
    images = list(Dockerfile.read(root / DOCKERFILE).bases)
    room = root / ROOM_FILE
    if room.exists():
        images += _COMPOSE_IMAGE.findall(room.read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(images))


# ---------------------------------------------------------------- reading a Dockerfile


@dataclass(frozen=True)
class Instruction:
    """One instruction as dockerfile-parse reads it, plus the comment written above it."""

    name: str  # FROM, RUN, COPY, ... in capitals
    value: str  # everything after the name, continued lines joined
    text: str  # as written: continued lines kept apart (newlines), their backslashes dropped
    line: int  # 1-based, where it starts
    stage: int  # -1 before the first FROM (ARG only), then 0, 1, ... per FROM
    why: str  # the comment block right above it, else the section heading above it

    @property
    def exec_form(self) -> list[str] | None:
        """CMD/ENTRYPOINT/RUN as a JSON list of words (exec form); None for the shell form."""
        try:
            words = json.loads(self.value)
        except ValueError:
            return None
        return words if isinstance(words, list) and all(isinstance(word, str) for word in words) else None


_SECTION = re.compile(r"^-{3,}\s*(.*?)\s*-{3,}$")  # `# ---------- final stage: ... ----------`


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its instructions, its comments, and the image each stage starts from."""

    instructions: tuple[Instruction, ...]
    comments: tuple[str, ...]
    bases: tuple[str, ...]  # one per FROM, ARG defaults filled in

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
        found: list[Instruction] = []
        comments: list[str] = []
        block: list[str] = []  # the comment lines right above the next instruction
        section, stage, previous_end = "", -1, -1
        for item in parser.structure:
            if item["startline"] > previous_end + 1:  # a blank line ends a comment block
                block = []
            previous_end = item["endline"]
            name, value = item["instruction"].upper(), item["value"].strip()
            if name == "COMMENT":
                comments.append(value)
                heading = _SECTION.match(value)
                if heading:
                    section = heading.group(1)
                else:
                    block.append(value)
                continue
            stage += name == "FROM"
            lines = [part.strip().removesuffix("\\").rstrip() for part in item["content"].strip().splitlines()]
            found.append(
                Instruction(name, value, "\n".join(lines), item["startline"] + 1, stage, " ".join(block) or section)
            )
            block, section = [], ""
        return cls(tuple(found), tuple(comments), tuple(parser.parent_images))

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
    def start(self) -> list[str]:
        """The command the container starts with, as exec-form words (empty if not exec form)."""
        entrypoint, cmd = self.last("ENTRYPOINT"), self.last("CMD")
        words = (cmd.exec_form if cmd else None) or []
        return words if entrypoint is None else (entrypoint.exec_form or []) + words

    @property
    def port(self) -> int:
        """The port the service listens on inside: EXPOSE's first, else --port in CMD, else 8000."""
        expose = self.last("EXPOSE")
        number = re.match(r"\d+", expose.value) if expose else None
        if number:
            return int(number.group())
        port = re.search(r"--port[= ](\d+)", " ".join(self.start))
        return int(port.group(1)) if port else 8000


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=\.)\s+(?=[A-Z`])", text, maxsplit=1)[0]


def dockerfile_table(path: str | os.PathLike[str] | None = None) -> str:
    """The Dockerfile as a markdown table: line, instruction, and the first sentence of the
    comment above it (the whole comment is in the file). Long instructions keep their lines."""
    rows = ["| line | instruction | why (from the comment above it) |", "|---:|---|---|"]
    for item in Dockerfile.read(path).instructions:
        code = "<br>".join(html.escape(part).replace("|", "&#124;") for part in item.text.split("\n"))
        why = html.escape(_first_sentence(item.why), quote=False).replace("|", "&#124;")
        rows.append(f"| {item.line} | <code>{code}</code> | {why} |")
    return "\n".join(rows)


def allowed_in_build(path: str | os.PathLike[str] | None = None) -> list[str]:
    """What `docker build` may see of the project: the `!` lines of the allow-list."""
    text = Path(path or _root() / IGNORE_FILE).read_text(encoding="utf-8")
    return [line[1:].strip().strip("/") for line in text.splitlines() if line.startswith("!")]


def _ignore_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regular expression: `*` and `?` within a folder, `**` across."""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern.strip("/"))
    words = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(words.get(part, re.escape(part)) for part in parts))


def sent_to_build(context: str | os.PathLike[str]) -> list[str]:
    """The files `docker build` sends from a context folder (paths relative to it), after its
    .dockerignore: the last pattern that matches a file or a folder above it decides, `!` admits."""
    root = Path(context)
    ignore = root / IGNORE_FILE
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    rules = [
        (line.startswith("!"), _ignore_pattern(line.removeprefix("!").strip()))
        for line in (raw.strip() for raw in lines)
        if line and not line.startswith("#")
    ]
    sent = []
    for path in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()):
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        ignored = False
        for admits, rule in rules:
            if any(rule.fullmatch(prefix) for prefix in prefixes):
                ignored = not admits
        if not ignored:
            sent.append(path)
    return sent


# ---------------------------------------------------------------- building


def build_context(into: Path, artifacts: Path, root: Path | None = None) -> Path:
    """A build context in `into` holding what the allow-list names, at the paths it names
    (plus the allow-list itself and docker/Dockerfile): the project's files from `root`, the
    model from `artifacts` (the folder in use; tests and notebooks point it elsewhere)."""
    root = root or _root()
    for path in (*allowed_in_build(root / IGNORE_FILE), IGNORE_FILE, DOCKERFILE):
        source = Path(artifacts) / Path(path).name if path.startswith("artifacts/") else root / path
        target = Path(into) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
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
) -> Built:
    """`docker build` as `make docker-build` runs it, its output streamed to `say`.

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
        command = ["docker", "build", "-f", DOCKERFILE, "-t", image, "."]
        say(f"{shell(command)}    (in {where})")
        started = time.perf_counter()
        stream(command, context, timeout, say)
        seconds = time.perf_counter() - started
    image_id = _docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    return Built(command, where, image, image_id, seconds)


def remove_image(image: str) -> None:
    """Remove an image, keeping its build cache (`--no-prune`): building it again takes seconds."""
    _docker("rmi", "--force", "--no-prune", image, timeout=120, check=False)


# ---------------------------------------------------------------- running


def log_tail(name: str, lines: int = 15) -> str:
    """A container's last log lines, or (nothing)."""
    result = _docker("logs", "--tail", str(lines), name, check=False)
    return (result.stdout + result.stderr).strip() or "(nothing)"


_HEALTH_PROBLEMS = {"unhealthy": "is unhealthy", "none": "has no HEALTHCHECK"}  # of a running container


def wait_healthy(name: str, timeout: float = HEALTHY_WITHIN) -> float:
    """Wait until Docker's HEALTHCHECK calls the container healthy; the seconds it took.

    `docker run --detach` returns as soon as the process starts, long before the model is
    loaded and the port answers. Docker knows when the service is ready: it runs the image's
    HEALTHCHECK. A container that stops, turns unhealthy or stays starting too long raises
    DockerError with its last log lines.
    """
    started = time.monotonic()
    health = "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"
    while True:
        found = _docker("inspect", "-f", "{{.State.Status}} " + health, name, check=False)
        status, _, verdict = (found.stdout.strip() if found.returncode == 0 else "gone -").partition(" ")
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
class Inside:
    """What the service sees from inside its container."""

    user: str
    uid: int
    pid1: str
    processes: int
    app_files: list[str]
    importable: dict[str, bool]
    host_processes: int | None = None  # this machine's, outside, for contrast (where /proc exists)

    def summary(self) -> str:
        seen = f"{self.processes} visible"
        if self.host_processes:
            seen += f" (this machine, outside, runs {self.host_processes})"
        lines = [
            f"user:       uid {self.uid} ({self.user}), {'ROOT' if self.uid == 0 else 'not root'}",
            f"PID 1:      {self.pid1}",
            f"processes:  {seen}",
            f"/app:       {', '.join(self.app_files)}",
        ]
        lines += [f"import {name:<12} {'yes' if ok else 'NO'}" for name, ok in self.importable.items()]
        return "\n".join(lines)


_LOOK_INSIDE = """
import importlib.util, json, os, pwd
print(json.dumps({
    "uid": os.getuid(),
    "user": pwd.getpwuid(os.getuid()).pw_name,
    "pid1": open("/proc/1/cmdline").read().replace("\\0", " ").strip(),
    "processes": sum(name.isdigit() for name in os.listdir("/proc")),
    "app_files": sorted(os.listdir("/app")),
    "importable": {name: importlib.util.find_spec(name) is not None for name in NAMES},
}))
"""


class Running:
    """A container started by run(): its name, its address, and what can be done with it."""

    def __init__(self, name: str, port: int, image: str, started: list[str]) -> None:
        self.name, self.port, self.image = name, port, image
        self.url = f"http://127.0.0.1:{port}"
        self.started = started  # what starting it printed

    def __repr__(self) -> str:
        return f"<Running {self.name} ({self.image}) at {self.url}>"

    def __str__(self) -> str:
        return "\n".join(self.started)

    def client(self, timeout: float = 5.0) -> PenguinClient:
        """A penguins.client for the service in the container."""
        return PenguinClient(self.url, timeout=timeout)

    def exec(self, *command: str) -> str:
        """`docker exec`: run a command inside the container; its output."""
        return _docker("exec", self.name, *command).stdout

    def inside(self) -> Inside:
        """Look around inside the container with `docker exec` and the python it already has."""
        script = f"NAMES = {(*TRAINING_STACK, *SERVING_STACK)!r}\n{_LOOK_INSIDE}"
        seen = json.loads(self.exec("python", "-c", script))
        proc = Path("/proc")
        host = sum(entry.name.isdigit() for entry in proc.iterdir()) if proc.is_dir() else None
        return Inside(
            seen["user"], seen["uid"], seen["pid1"], seen["processes"], seen["app_files"], seen["importable"], host
        )

    def listening(self) -> list[tuple[str, int]]:
        """The addresses the container's processes listen on, read from its /proc/net/tcp{,6}:
        ("0.0.0.0", 8000) reaches every interface, ("127.0.0.1", 8000) only the container itself."""
        found = _docker("exec", self.name, "cat", "/proc/net/tcp", "/proc/net/tcp6", check=False).stdout
        return [_socket_address(fields[1]) for fields in map(str.split, found.splitlines()) if fields[3:4] == ["0A"]]

    def logs(self, tail: int = 8) -> str:
        """The container's last log lines (`docker logs`): uvicorn's, one line per request."""
        result = _docker("logs", "--tail", str(tail), self.name)
        return (result.stdout + result.stderr).rstrip()

    def stop(self, timeout: float = 60) -> str:
        """`docker stop`, then make sure it is gone (--rm removes it; else `docker rm`); says how it went."""
        _STARTED.discard(self.name)
        command = ["docker", "stop", self.name]
        started = time.perf_counter()
        _docker(*command[1:], timeout=timeout, check=False)
        seconds = time.perf_counter() - started
        deadline = time.monotonic() + 10
        while exists(self.name) and time.monotonic() < deadline:
            time.sleep(0.2)
        state = "STILL THERE" if exists(self.name) else "gone: `docker ps --all` no longer lists it (--rm)"
        return f"{shell(command)}\nstopped in {seconds:.1f} s; {self.name} is {state}"

    def remove(self) -> None:
        """`docker rm --force`: gone at once, whatever state it is in."""
        _STARTED.discard(self.name)
        _docker("rm", "--force", self.name, check=False)


def _socket_address(field: str) -> tuple[str, int]:
    """`0100007F:1F40` (a /proc/net/tcp local address, little-endian hex) as ("127.0.0.1", 8000)."""
    address, port = field.split(":")
    raw = bytes.fromhex(address)
    if len(raw) == 4:
        return ".".join(str(byte) for byte in reversed(raw)), int(port, 16)
    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]  # IPv6: four little-endian words
    return str(ipaddress.IPv6Address(b"".join(words))), int(port, 16)


def container_status(name: str) -> str:
    """`running`, `exited`, ... as Docker says; `gone` for a container it does not know."""
    found = _docker("inspect", "-f", "{{.State.Status}}", name, check=False)
    return found.stdout.strip() if found.returncode == 0 else "gone"


def command(words: Sequence[str], timeout: float = 60) -> str:
    """Run a docker command given as its words (`docker run ...`, as a student typed it); its output."""
    if list(words[:1]) != ["docker"]:
        raise DockerError(f"not a docker command: {shlex.join(words)}")
    return _docker(*words[1:], timeout=timeout).stdout.strip()


def exists(name: str) -> bool:
    """Does Docker know a container of this name (running or stopped)?"""
    return _docker("container", "inspect", name, check=False).returncode == 0


def run(
    image: str = IMAGE, name: str = CONTAINER, port: int | None = None, inside_port: int = 8000, keep: bool = False
) -> Running:
    """`docker run` as `make docker-run` does it, under its own name and a free loopback port;
    returns once Docker's HEALTHCHECK says healthy. A leftover of that name goes first.
    `keep=True` leaves out --rm, so a container that stops keeps its log for the message."""
    port = port or free_port()
    _docker("rm", "--force", name, check=False)
    command = [
        "docker",
        "run",
        "--detach",
        *([] if keep else ["--rm"]),
        "--name",
        name,
        "--publish",
        f"127.0.0.1:{port}:{inside_port}",
        image,
    ]
    container = _docker(*command[1:]).stdout.strip()
    _STARTED.add(name)
    try:
        waited = wait_healthy(name)
    except DockerError:
        Running(name, port, image, []).remove()
        raise
    return Running(
        name, port, image, [shell(command), container[:12], f"container {name} is healthy after {waited:.0f} s"]
    )


_STARTED: set[str] = set()


@atexit.register
def _remove_started() -> None:
    """A kernel that exits removes the containers it started and did not stop."""
    for name in list(_STARTED):
        _docker("rm", "--force", name, check=False, timeout=30)
    _STARTED.clear()


# ---------------------------------------------------------------- sizes


def folder_size(path: str | os.PathLike[str]) -> int:
    """Bytes of every file below `path` (symbolic links are not followed)."""
    total = 0
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                total += folder_size(entry.path)
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def package_size(name: str) -> int | None:
    """Bytes of an installed package's folder, found without importing it (torch takes seconds)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return folder_size(next(iter(spec.submodule_search_locations)))


def mb(size: int | None) -> str:
    """Bytes as Docker counts them: 1 MB = 1,000,000 bytes."""
    return "-" if size is None else f"{size / 1e6:,.0f} MB"


def _readable(size: int) -> str:
    """170.8 MB, 111 kB, 212 B: the unit a person would pick."""
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if size < 100 * scale or unit == "MB" else f"{size / scale:.0f} {unit}"
    return f"{size} B"


def image_size(image: str) -> int:
    """An image's size in bytes, as `docker image ls` counts it."""
    return int(_docker("image", "inspect", "-f", "{{.Size}}", image).stdout)


@dataclass(frozen=True)
class Layer:
    """One layer of an image (`docker history`): its size and the instruction that made it."""

    size: int
    created_by: str


def layers(image: str) -> list[Layer]:
    """The image's layers, newest first, as `docker history` lists them."""
    out = _docker("history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", image).stdout
    found = []
    for line in out.splitlines():
        size, _, created_by = line.partition("\t")
        created_by = re.sub(r"^/bin/sh -c (#\(nop\) )?", "", created_by.strip())
        found.append(Layer(int(size), " ".join(created_by.split())))
    return found


def size_report(image: str = IMAGE) -> str:
    """The image's size, its base's (docker/Dockerfile's last FROM), and the layers the
    Dockerfile added, biggest first, each named by the Dockerfile line that made it."""
    dockerfile = Dockerfile.read()
    base = dockerfile.base
    total, below = image_size(image), image_size(base)
    every = layers(image)
    ours = every[: len(every) - len(layers(base))][::-1]  # oldest first: the Dockerfile's order
    names = [f"line {item.line}: {' '.join(item.text.split())}" for item in dockerfile.final]
    if len(names) != len(ours):  # built from another Dockerfile than this one: Docker's own words
        names = [re.sub(r"\b(dir|file|multi):[0-9a-f]{64}", r"\1:...", layer.created_by) for layer in ours]
    lines = [f"image {image}: {mb(total)} = base {base} {mb(below)} + {mb(total - below)} added by the Dockerfile:"]
    for layer, name in sorted(zip(ours, names, strict=True), key=lambda pair: pair[0].size, reverse=True):
        if layer.size:
            short = name if len(name) <= 80 else name[:77] + "..."
            lines.append(f"  {_readable(layer.size):>8}  {short}")
    return "\n".join(lines)


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

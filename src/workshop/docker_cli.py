"""Stage 06 from a notebook: the make targets' docker commands, run where an engine answers.

The lecture's container is shown with real commands: the image is built from
docker/Dockerfile, run, called over HTTP and stopped, as `make docker-build docker-run
docker-smoke docker-stop` do (the *_command functions build the same command lines; a test
checks them against the Makefile and the README). What this module adds is what a notebook
needs around those commands:

- engine(): is a Docker engine answering? It only asks; it never starts one. Without an
  engine a notebook prints would_see(step): the command and a description of what it
  prints, labelled as such, never an imitation of its output.
- instructions() and dockerfile_table(): the Dockerfile read instruction by instruction,
  each with the comment written above it, so the explanation lives in one place: the file.
- build(): `docker build`, summarised one line per step (built now, or from the cache). A
  test run keeps its models in $PENGUINS_ARTIFACTS, not in artifacts/, so the build then runs
  in a copy of the build context that holds that model (build_context()).
- run() and Running: `docker run` under a name and a port of its own (never those of `make
  docker-run`), waiting for Docker's own health verdict (tools/docker-wait-healthy.sh, as
  make does); look inside, read its log, stop it. A container that a kernel started and did
  not stop is removed when the kernel exits, so none outlives its notebook.
- folder_size(), package_size(), size_report(): where the megabytes are.

(Exercise 06's check of a student's Dockerfile is workshop.container; this module is the
lecture's.)
"""

from __future__ import annotations

import atexit
import html
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from penguins.client import PenguinClient
from penguins.ports import free_port
from penguins.serving.paths import artifacts_dir, project_root

IMAGE = "penguins-to-production"  # the Makefile's IMAGE
MAKE_CONTAINER = "penguins-06"  # the Makefile's CONTAINER
MAKE_PORT = 8006  # the Makefile's DOCKER_PORT
CONTAINER = "penguins-06-notebook"  # the notebook's own: it never touches `make docker-run`'s
LOCAL_BASE = "penguins-base:bookworm"  # tools/docker-engine.sh's base, built without a registry
DOCKERFILE = "docker/Dockerfile"
IGNORE_FILE = ".dockerignore"
INSIDE_PORT = 8000  # the Dockerfile's EXPOSE
WAIT_HEALTHY = "tools/docker-wait-healthy.sh"
GOLDEN = "tests/golden.json"
HEALTHY_WITHIN = 90  # seconds
TRAINING_STACK = ("torch", "sklearn", "pandas", "jupyterlab", "matplotlib", "workshop")
SERVING_STACK = ("numpy", "onnxruntime", "fastapi", "uvicorn", "penguins")
NO_ENGINE = "no Docker engine here: this is what you would see."


class DockerError(RuntimeError):
    """A docker command failed; the message ends with its last lines of output."""


def _root() -> Path:
    root = project_root()
    if root is None:
        raise DockerError("no project checkout found: the image is built from its files")
    return root


def _docker(*args: str, timeout: float = 60, check: bool = True, **options: object) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, **options)
    except subprocess.TimeoutExpired:
        raise DockerError(f"docker {args[0]} did not finish within {timeout:g} s") from None
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
        return f"no Docker engine here ({self.reason}): the cells below print each command and what you would see"


def engine(timeout: float = 20) -> Engine:
    """Ask whether a Docker engine answers (`docker version`). It never starts one: starting
    a system service is the machine owner's call (Docker Desktop, or `make docker-engine`)."""
    if shutil.which("docker") is None:
        return Engine(None, "the docker command is not installed")
    try:
        result = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                                capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Engine(None, f"docker did not answer within {timeout:g} s")
    version = result.stdout.strip()
    if result.returncode != 0 or not version:
        return Engine(None, "the docker command is installed, but no engine answers")
    return Engine(version)


# ---------------------------------------------------------------- the make targets' commands


def base_image() -> str | None:
    """The base to build FROM, by the Makefile's rule: the registry-free base when this
    engine has it (CI), else None, which means the Dockerfile's own (python:3.11-slim)."""
    return LOCAL_BASE if _docker("image", "inspect", LOCAL_BASE, check=False).returncode == 0 else None


def default_base() -> str:
    """The Dockerfile's own base image: its `ARG BASE_IMAGE=...`."""
    text = (_root() / DOCKERFILE).read_text(encoding="utf-8")
    found = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, re.MULTILINE)
    if found is None:
        raise DockerError(f"{DOCKERFILE} declares no ARG BASE_IMAGE=...")
    return found.group(1)


def build_command(base: str | None = None, image: str = IMAGE, context: str = ".") -> list[str]:
    """`make docker-build`'s docker build (which runs after the model is built)."""
    return ["docker", "build", "-f", DOCKERFILE, *(["--build-arg", f"BASE_IMAGE={base}"] if base else []),
            "-t", image, context]


def run_command(name: str = MAKE_CONTAINER, port: int | str = MAKE_PORT, image: str = IMAGE) -> list[str]:
    """`make docker-run`'s docker run: in the background, removed when it stops, loopback only."""
    return ["docker", "run", "--detach", "--rm", "--name", name, "--publish", f"127.0.0.1:{port}:{INSIDE_PORT}", image]


def smoke_command(port: int | str = MAKE_PORT) -> list[str]:
    """`make docker-smoke`: the golden records through the container, checked."""
    return ["python", "-m", "penguins", "smoke", "--url", f"http://127.0.0.1:{port}", GOLDEN]


def stop_command(name: str = MAKE_CONTAINER) -> list[str]:
    """`make docker-stop`: SIGTERM to the container's PID 1; uvicorn finishes and exits."""
    return ["docker", "stop", name]


# ---------------------------------------------------------------- reading the recipe


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: where it starts, its text, and the comment above it."""

    line: int
    text: str  # continuation lines joined with newlines, their backslashes dropped
    why: str


_SECTION = re.compile(r"^-{3,}\s*(.*?)\s*-{3,}$")


def instructions(path: str | os.PathLike[str] | None = None) -> list[Instruction]:
    """The Dockerfile's instructions in order (default: docker/Dockerfile).

    `why` is the comment block right above an instruction; one without a comment of its own
    takes the section heading above it (`# ---------- final stage: ... ----------`), if any.
    """
    lines = Path(path or _root() / DOCKERFILE).read_text(encoding="utf-8").splitlines()
    found: list[Instruction] = []
    comment: list[str] = []
    section = ""
    index = 0
    while index < len(lines):
        text = lines[index].strip()
        index += 1
        if text.startswith("#"):
            words = text.lstrip("#").strip()
            heading = _SECTION.match(words)
            if heading:
                section = heading.group(1)
            else:
                comment.append(words)
            continue
        if not text:
            comment = []
            continue
        start, parts = index, [text]
        while parts[-1].endswith("\\") and index < len(lines):
            parts[-1] = parts[-1].rstrip("\\").rstrip()
            parts.append(lines[index].strip())
            index += 1
        found.append(Instruction(start, "\n".join(parts), " ".join(comment) or section))
        comment, section = [], ""
    return found


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=\.)\s+(?=[A-Z`])", text, maxsplit=1)[0]


def dockerfile_table(path: str | os.PathLike[str] | None = None) -> str:
    """The Dockerfile as a markdown table: line, instruction, and the first sentence of the
    comment above it (the whole comment is in the file). Long instructions keep their lines."""
    rows = ["| line | instruction | why (from the comment above it) |", "|---:|---|---|"]
    for item in instructions(path):
        code = "<br>".join(html.escape(part).replace("|", "&#124;") for part in item.text.split("\n"))
        why = html.escape(_first_sentence(item.why), quote=False).replace("|", "&#124;")
        rows.append(f"| {item.line} | <code>{code}</code> | {why} |")
    return "\n".join(rows)


def allowed_in_build(path: str | os.PathLike[str] | None = None) -> list[str]:
    """What `docker build` may see of the project: the `!` lines of the allow-list."""
    text = Path(path or _root() / IGNORE_FILE).read_text(encoding="utf-8")
    return [line[1:].strip().strip("/") for line in text.splitlines() if line.startswith("!")]


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class BuildStep:
    """One step of a build as Docker reported it."""

    label: str  # "5/17" (classic builder) or "stage-1 3/6" (BuildKit)
    instruction: str
    outcome: str  # "from cache", "built now", "base image", "a setting" (ARG)


_CLASSIC_STEP = re.compile(r"^Step (\d+/\d+) : (.*)$")
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[(?!internal|auth)([^\]]+)\] (.*)$")
_BUILDKIT_CACHED = re.compile(r"^#(\d+) CACHED$")


def build_steps(log: str) -> list[BuildStep]:
    """The steps in `docker build`'s output: the classic builder's, or BuildKit's plain progress."""
    lines = log.splitlines()
    steps: list[BuildStep] = []
    for index, line in enumerate(lines):
        match = _CLASSIC_STEP.match(line)
        if match:
            following = []
            for later in lines[index + 1:]:
                if later.startswith("Step "):
                    break
                following.append(later)
            cached = any("Using cache" in later for later in following)
            steps.append(BuildStep(match.group(1), _one_line(match.group(2)), _outcome(match.group(2), cached)))
    if steps:
        return steps
    cached_ids = {match.group(1) for line in lines if (match := _BUILDKIT_CACHED.match(line))}
    seen: set[str] = set()
    for line in lines:
        match = _BUILDKIT_STEP.match(line)
        if match and match.group(1) not in seen:
            seen.add(match.group(1))
            steps.append(BuildStep(match.group(2), _one_line(match.group(3)),
                                   _outcome(match.group(3), match.group(1) in cached_ids)))
    return steps


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _outcome(instruction: str, cached: bool) -> str:
    keyword = instruction.split(maxsplit=1)[0].upper() if instruction.strip() else ""
    if keyword == "FROM":
        return "base image"
    if keyword == "ARG":
        return "a setting"
    return "from cache" if cached else "built now"


def _short(text: str, width: int = 88) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class Built:
    """A finished build: the command, how long it took, and each step's outcome."""

    command: list[str]
    image: str
    image_id: str
    seconds: float
    steps: list[BuildStep]
    where: str  # the build context, in words

    def __str__(self) -> str:
        lines = [shell(self.command), f"  (in {self.where})"]
        lines += [f"  {step.label:>11}  {step.outcome:<10}  {_short(step.instruction)}" for step in self.steps]
        cached = sum(step.outcome == "from cache" for step in self.steps)
        lines.append(f"built {self.image} ({self.image_id.removeprefix('sha256:')[:12]}) in {self.seconds:.1f} s: "
                     f"{cached} of {len(self.steps)} steps from the cache")
        return "\n".join(lines)


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


def build(image: str = IMAGE, artifacts: str | os.PathLike[str] | None = None, timeout: float = 900) -> Built:
    """`docker build` of docker/Dockerfile as `make docker-build` runs it, with the model in
    `artifacts` (default: the artifacts folder, which must hold it: see penguins.training.build).
    Unchanged steps come from Docker's cache, so building again takes seconds."""
    root = _root()
    folder = Path(artifacts or artifacts_dir()).resolve()
    command = build_command(base_image(), image)
    with tempfile.TemporaryDirectory(prefix="penguins-context-") as scratch:
        if folder == (root / "artifacts").resolve():
            context, where = root, "the project folder, as make does"
        else:
            context = build_context(Path(scratch), folder, root)
            where = "a copy of the project's build files, with the model from $PENGUINS_ARTIFACTS"
        started = time.perf_counter()
        result = _docker(*command[1:], timeout=timeout, check=False, cwd=context,
                         env={**os.environ, "BUILDKIT_PROGRESS": "plain"})
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise DockerError(f"docker build failed:\n{(result.stdout + result.stderr)[-2000:]}")
    image_id = _docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    return Built(command, image, image_id, seconds, build_steps(result.stdout + result.stderr), where)


# ---------------------------------------------------------------- running


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
        lines = [f"user:       uid {self.uid} ({self.user}), {'ROOT' if self.uid == 0 else 'not root'}",
                 f"PID 1:      {self.pid1}", f"processes:  {seen}", f"/app:       {', '.join(self.app_files)}"]
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

    def inside(self) -> Inside:
        """Look around inside the container with `docker exec` and the python it already has."""
        script = f"NAMES = {(*TRAINING_STACK, *SERVING_STACK)!r}\n{_LOOK_INSIDE}"
        seen = json.loads(_docker("exec", self.name, "python", "-c", script).stdout)
        proc = Path("/proc")
        host = sum(entry.name.isdigit() for entry in proc.iterdir()) if proc.is_dir() else None
        return Inside(seen["user"], seen["uid"], seen["pid1"], seen["processes"], seen["app_files"],
                      seen["importable"], host)

    def logs(self, tail: int = 8) -> str:
        """The container's last log lines (`docker logs`): uvicorn's, one line per request."""
        result = _docker("logs", "--tail", str(tail), self.name)
        return (result.stdout + result.stderr).rstrip()

    def stop(self, timeout: float = 60) -> str:
        """`docker stop`, then wait until Docker has removed it (--rm); says how it went."""
        _STARTED.discard(self.name)
        started = time.perf_counter()
        _docker(*stop_command(self.name)[1:], timeout=timeout, check=False)
        seconds = time.perf_counter() - started
        deadline = time.monotonic() + 10
        while exists(self.name) and time.monotonic() < deadline:
            time.sleep(0.2)
        state = "STILL THERE" if exists(self.name) else "gone: `docker ps --all` no longer lists it (--rm)"
        return f"{shell(stop_command(self.name))}\nstopped in {seconds:.1f} s; {self.name} is {state}"


def exists(name: str) -> bool:
    """Does Docker know a container of this name (running or stopped)?"""
    return _docker("container", "inspect", name, check=False).returncode == 0


def run(image: str = IMAGE, name: str = CONTAINER, port: int | None = None) -> Running:
    """`docker run` as `make docker-run` does it, under this notebook's own name and a free
    port; returns once Docker's HEALTHCHECK says healthy. A leftover of that name goes first."""
    root = _root()
    port = port or free_port()
    _docker("rm", "--force", name, check=False)
    command = run_command(name, port, image)
    container = _docker(*command[1:]).stdout.strip()
    _STARTED.add(name)
    lines = [shell(command), container[:12]]
    if shutil.which("bash"):
        waited = subprocess.run(["bash", str(root / WAIT_HEALTHY), name, str(HEALTHY_WITHIN)],
                                capture_output=True, text=True, timeout=HEALTHY_WITHIN + 30)
        if waited.returncode != 0:
            _docker("rm", "--force", name, check=False)
            _STARTED.discard(name)
            raise DockerError(f"{name} did not become healthy:\n{waited.stderr[-1500:]}")
        lines += [shell(["bash", WAIT_HEALTHY, name]), waited.stdout.strip()]
    else:  # no bash (Windows without Git Bash): wait for the service itself
        with PenguinClient(f"http://127.0.0.1:{port}") as client:
            client.wait_until_ready(HEALTHY_WITHIN)
        lines.append(f"{name} answers /ready")
    return Running(name, port, image, lines)


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
        found.append(Layer(int(size), _one_line(created_by)))
    return found


def size_report(image: str = IMAGE, base: str | None = None) -> str:
    """The image's size, its base's, and the layers the Dockerfile added, biggest first,
    each named by the Dockerfile line that made it."""
    base = base or base_image() or default_base()
    total, below = image_size(image), image_size(base)
    every = layers(image)
    ours = every[: len(every) - len(layers(base))][::-1]  # oldest first: the Dockerfile's order
    names = [f"line {item.line}: {_one_line(item.text)}" for item in _final_stage()]
    if len(names) != len(ours):  # built from another Dockerfile than this one: Docker's own words
        names = [re.sub(r"\b(dir|file|multi):[0-9a-f]{64}", r"\1:...", layer.created_by) for layer in ours]
    lines = [f"image {image}: {mb(total)} = base {base} {mb(below)} + {mb(total - below)} added by the Dockerfile:"]
    for layer, name in sorted(zip(ours, names), key=lambda pair: pair[0].size, reverse=True):
        if layer.size:
            lines.append(f"  {_readable(layer.size):>8}  {_short(name, 80)}")
    return "\n".join(lines)


def _final_stage() -> list[Instruction]:
    """The instructions after the last FROM: each makes one layer of the image."""
    every = instructions()
    last_from = max(index for index, item in enumerate(every) if item.text.upper().startswith("FROM "))
    return every[last_from + 1:]


# ---------------------------------------------------------------- without an engine


def would_see(step: str) -> str:
    """What a step ("build", "run", "call", "inside", "size", "stop") runs and prints, for a
    machine without a Docker engine: a description, labelled so, never an imitation."""
    from penguins.smoke import load_cases

    count = len(instructions())
    golden = len(load_cases(_root() / GOLDEN))
    texts = {
        "build": (build_command(), [
            f"Docker works through the Dockerfile's {count} instructions, one line each (`Step 5/{count} : RUN ...`).",
            "The first build downloads the base image and installs the serving libraries (a minute or two);",
            "a later build reuses every unchanged step from its cache (`Using cache`) and takes seconds.",
            f"It ends with `Successfully tagged {IMAGE}:latest` (BuildKit: `naming to docker.io/library/{IMAGE}`).",
        ]),
        "run": (run_command(), [
            "Docker prints the new container's id and returns at once: the service starts in the background.",
            f"`make docker-run` then waits for Docker's HEALTHCHECK: `container {MAKE_CONTAINER} is healthy after N s`.",
        ]),
        "call": (smoke_command(), [
            "One line per golden record: its true species, the answer in this process, the answer over HTTP",
            f"from the container, and `yes` where all agree; it ends with `all match: {golden} records ...`.",
        ]),
        "inside": (["docker", "exec", MAKE_CONTAINER, "id"], [
            "`uid=10001(penguin) gid=10001(penguin) groups=10001(penguin)`: the service does not run as root.",
            "Inside, `import torch` fails: the image holds the serving libraries only.",
        ]),
        "size": (["docker", "image", "ls", IMAGE], [
            "One line with the image's size: the base (Debian + Python 3.11) plus what the Dockerfile adds;",
            "`docker history` shows which instruction added how much (the serving libraries: most of it).",
        ]),
        "stop": (stop_command(), [
            f"Docker sends SIGTERM to uvicorn (PID 1), which finishes its requests and exits; it prints `{MAKE_CONTAINER}`,",
            "and --rm removes the container.",
        ]),
    }
    command, lines = texts[step]
    return "\n".join([NO_ENGINE, shell(command), *(f"  {line}" for line in lines)])

"""Exercise 06, the container: a student's Dockerfile and the two command lines that build and run
it, judged by what they would do.

Why it is built this way:
- The build context is the exercise's own folder (workshop.container_context writes it), so
  the lint knows exactly what `docker build` sends: the folder's files after its .dockerignore.
  It then plays the Dockerfile through the way Docker would (WORKDIR, each COPY's sources and
  destination, ENV, the command that starts) and asks questions of the result: is the model
  in the image, beside the service as in the folder? Does uvicorn listen where the published
  port reaches it? Who runs it? So style does not matter: `--host=0.0.0.0` or `--host 0.0.0.0`,
  a list or a string CMD, `sh -c "exec uvicorn ..."`, ENTRYPOINT plus CMD, `COPY . .` of a
  folder whose .dockerignore keeps out what it should: all the same.
- The command lines are read with shlex, as a shell would split them, and their options as
  docker reads them (`-p 127.0.0.1:8000:8000`, `--publish=...`, `-dp ...`).
- Where an engine already answers, the check runs what the student wrote: their build line,
  their run line (detached, on a free host port if theirs is taken, and it says so), then
  /health and /predict from outside. A service that is up but unreachable is looked at from
  inside (the container's /proc/net/tcp says where it listens). Container and image are
  removed afterwards; the build cache stays, so checking again takes seconds. The lines are
  never run while they would publish the service beyond this machine or build another folder.
- Every failure says what was expected, what was found and one thing to try, and names the
  option or instruction to use, never a line of the answer.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from workshop import docker
from workshop.checks.common import CheckFailed, passed, require

CONTEXT = "06_context"  # the folder the exercise prepares beside the notebook
TODO = "TODO"  # the placeholder comment `# TODO` that workshop.exercises leaves in a blank file
TRAINING_STACK = re.compile(
    r"\b(torch\w*|scikit-learn|sklearn|pandas|jupyter\w*|matplotlib|skl2onnx|onnxscript|tensorflow)\b", re.I
)
MODEL_FILE = re.compile(r"\.(onnx|onnx\.json|onnx\.data|pkl|pickle|joblib|skops)$")
ROOT_USERS = ("root", "0")
EVERY_INTERFACE = ("0.0.0.0", "::", "[::]")
UVICORN_HOST, UVICORN_PORT = "127.0.0.1", 8000  # what uvicorn listens on when not told
ANSWER_WITHIN = 60.0  # seconds from `docker run` to a /health that answers
SLIM = re.compile(r"slim|alpine")

BUILD = ("docker build", "docker image build", "docker buildx build")
RUN = ("docker run", "docker container run")
BUILD_ALIASES = {"-t": "--tag", "-f": "--file", "-q": "--quiet", "-m": "--memory", "-o": "--output"}
BUILD_VALUES = {
    "--tag", "--file", "--build-arg", "--target", "--platform", "--label", "--network", "--progress",
    "--cache-from", "--cache-to", "--iidfile", "--secret", "--ssh", "--add-host", "--output", "--memory",
    "--shm-size", "--ulimit", "--cgroup-parent", "--isolation", "--cpu-shares", "--cpuset-cpus",
}  # fmt: skip
RUN_ALIASES = {
    "-d": "--detach", "-p": "--publish", "-P": "--publish-all", "-e": "--env", "-u": "--user", "-v": "--volume",
    "-w": "--workdir", "-i": "--interactive", "-t": "--tty", "-m": "--memory", "-l": "--label", "-h": "--hostname",
    "--net": "--network",
}  # fmt: skip
RUN_VALUES = {
    "--publish", "--env", "--env-file", "--name", "--user", "--volume", "--mount", "--network", "--workdir",
    "--entrypoint", "--memory", "--cpus", "--label", "--restart", "--hostname", "--add-host", "--log-driver",
    "--log-opt", "--health-cmd", "--health-interval", "--health-timeout", "--health-retries",
    "--health-start-period", "--cap-add", "--cap-drop", "--security-opt", "--tmpfs", "--ulimit", "--pull",
    "--platform", "--shm-size", "--stop-signal", "--stop-timeout", "--pids-limit", "--expose", "--dns",
    "--memory-swap", "--cpu-shares", "--cpuset-cpus", "--device", "--group-add", "--ipc", "--pid", "--cidfile",
}  # fmt: skip
UVICORN_FLAGS = {
    "--reload", "--access-log", "--no-access-log", "--use-colors", "--no-use-colors", "--proxy-headers",
    "--no-proxy-headers", "--server-header", "--no-server-header", "--date-header", "--no-date-header",
    "--factory", "--reset-contextvars", "--http2", "--version",
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One thing wrong: what was expected, what was found, one thing to try. `before_running`:
    said before anything runs, as running would not show it (or would show it at great cost:
    publishing the service on the network, downloading gigabytes, waiting for a timeout)."""

    expected: str
    found: str
    fix: str
    before_running: bool = False

    def __str__(self) -> str:
        return f"expected {self.expected}; found {self.found}; try {self.fix}"


# ---------------------------------------------------------------- the command lines


@dataclass(frozen=True)
class Line:
    """A docker command line: its verb (`docker run`), its options in order, what follows them."""

    text: str
    verb: str
    options: tuple[tuple[str, str | None], ...]  # (long name, value or None for a flag)
    rest: tuple[str, ...]  # build: the context; run: the image, then a command replacing CMD

    def values(self, name: str) -> list[str]:
        return [value for option, value in self.options if option == name and value is not None]

    def value(self, name: str) -> str | None:
        found = self.values(name)
        return found[-1] if found else None

    def has(self, name: str) -> bool:
        return any(option == name for option, _ in self.options)


def parse_line(
    text: str, verbs: Sequence[str], aliases: dict[str, str], takes_value: set[str], interspersed: bool
) -> Line:
    """Split a command line as a shell does, then its options as docker reads them: `interspersed`,
    options may follow the context (build); otherwise what follows the image is its command (run)."""
    what = verbs[0].split()[1]
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise CheckFailed(
            f"expected a {what} command line; found one the shell cannot split ({error}); try checking its quotes"
        ) from None
    verb = next((v for v in verbs if words[: len(v.split())] == v.split()), None)
    if verb is None:
        raise CheckFailed(
            f"expected the {what} line to start with {verbs[0]}; found {shlex.join(words[:3]) or 'nothing'}; "
            f"try the command you would type in a terminal, starting with {verbs[0]}"
        )
    options: list[tuple[str, str | None]] = []
    rest: list[str] = []
    remaining = words[len(verb.split()) :]
    index = 0
    while index < len(remaining):
        word = remaining[index]
        index += 1
        if word == "--":
            rest.extend(remaining[index:])
            break
        if not word.startswith("-") or word == "-":
            if interspersed:
                rest.append(word)
                continue
            rest.extend(remaining[index - 1 :])
            break
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            name = aliases.get(name, name)
            if not equals and name in takes_value and index < len(remaining):
                value, index = remaining[index], index + 1
            options.append((name, value if equals or name in takes_value else None))
            continue
        for position, letter in enumerate(word[1:], start=2):  # -dp 127.0.0.1:8000:8000, -it
            name = aliases.get(f"-{letter}", f"-{letter}")
            if name in takes_value:
                value = word[position:].removeprefix("=")
                if not value and index < len(remaining):
                    value, index = remaining[index], index + 1
                options.append((name, value))
                break
            options.append((name, None))
    return Line(text, verb, tuple(options), tuple(rest))


def build_line(text: str) -> Line:
    return parse_line(text, BUILD, BUILD_ALIASES, BUILD_VALUES, interspersed=True)


def run_line(text: str) -> Line:
    return parse_line(text, RUN, RUN_ALIASES, RUN_VALUES, interspersed=False)


def _image_name(name: str) -> str:
    """`penguins` and `penguins:latest` are the same image."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


@dataclass(frozen=True)
class Publish:
    """One `-p [ip:][host_port:]container_port[/protocol]`."""

    text: str
    ip: str
    host_port: str
    container_port: int | None

    @classmethod
    def parse(cls, text: str) -> Publish:
        spec = text.split("/")[0]
        ip = ""
        if spec.startswith("["):  # [::1]:8000:8000
            ip, _, spec = spec[1:].partition("]")
            spec = spec.removeprefix(":")
        parts = spec.rsplit(":", 2) if not ip else spec.split(":")
        if len(parts) == 3:
            ip, parts = parts[0], parts[1:]
        host = parts[0] if len(parts) == 2 else ""
        port = parts[-1]
        return cls(text, ip, host, int(port) if port.isdigit() else None)

    @property
    def loopback(self) -> bool:
        return self.ip.startswith("127.") or self.ip == "::1"


# ---------------------------------------------------------------- the Dockerfile, played through


@dataclass
class Image:
    """The final image as the Dockerfile would make it from the context."""

    files: dict[str, str] = field(default_factory=dict)  # context path -> path in the image
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    user: docker.Instruction | None = None
    installs: list[docker.Instruction] = field(default_factory=list)  # RUNs that pip install
    requirements: list[str] = field(default_factory=list)  # context files those RUNs install with -r
    reads_requirements: bool = False  # some RUN installs with -r (found in the image or not)
    problems: list[Problem] = field(default_factory=list)


def _match(pattern: str, path: str) -> bool:
    """Go's filepath.Match, as COPY uses it: `*` and `?` within one folder."""
    words = {"*": "[^/]*", "?": "[^/]"}
    return re.fullmatch("".join(words.get(c, re.escape(c)) for c in pattern), path) is not None


def _copy(
    instruction: docker.Instruction, image: Image, sent: list[str], every: set[str], stage: dict[str, str]
) -> None:
    """What one COPY or ADD brings from the context, and where it puts it (into `stage`)."""
    words = instruction.exec_form or instruction.value.split()
    flags = [word for word in words if word.startswith("--")]
    if any(word.startswith("--from") for word in flags):
        return  # from another stage, not from the context
    paths = [word for word in words if not word.startswith("--")]
    sources, destination = paths[:-1], paths[-1] if paths else "."
    into = posixpath.normpath(posixpath.join(image.workdir, destination))
    as_folder = destination.endswith("/") or destination in (".", "./") or len(sources) > 1
    folders = {"/".join(path.split("/")[:i]) for path in sent for i in range(1, path.count("/") + 1)} | {"."}
    for source in sources:
        pattern = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
        globbed = any(c in pattern for c in "*?[")
        matched = [
            entry for entry in sorted(folders | set(sent)) if entry == pattern or (globbed and _match(pattern, entry))
        ]
        if not matched:
            where = (
                "kept out of the build by its .dockerignore"
                if any(p == pattern or p.startswith(pattern + "/") for p in every)
                else "not in the folder"
            )
            image.problems.append(
                Problem(
                    f"every source of {instruction.name} (line {instruction.line}) in the build context",
                    f"{source}, {where}",
                    "a path relative to the context folder, as `ls` shows it from there",
                )
            )
            continue
        for entry in matched:
            if entry in folders:  # a folder's contents go into the destination
                prefix = "" if entry == "." else entry + "/"
                for path in sent:
                    if path.startswith(prefix):
                        stage[path] = posixpath.join(into, path.removeprefix(prefix))
            else:
                folder = as_folder or globbed or len(matched) > 1
                stage[entry] = posixpath.join(into, posixpath.basename(entry)) if folder else into


def _env(instruction: docker.Instruction) -> dict[str, str]:
    """`ENV A=1 B=2` or `ENV A 1` as a dict."""
    words = shlex.split(instruction.value)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words if "=" in word)


_PIP_INSTALL = re.compile(r"\bpip3?\b.*\binstall\b")


def _requirement_files(command: str) -> list[str]:
    """The files a RUN's pip installs read with -r: `useradd -r penguin` in the same RUN is not one."""
    found = []
    for segment in re.split(r"&&|;|\|\|", command):
        if _PIP_INSTALL.search(segment):
            words = segment.split()
            for index, word in enumerate(words):
                if word in ("-r", "--requirement") and index + 1 < len(words):
                    found.append(words[index + 1])
                elif word.startswith(("--requirement=", "-r")) and word not in ("-r",):
                    found.append(word.split("=", 1)[-1] if "=" in word else word[2:])
    return [name.strip("\"'") for name in found if name]


def play(dockerfile: docker.Dockerfile, context: Path, sent: list[str]) -> Image:
    """The final stage's files, WORKDIR, ENV and USER, and what its RUNs install, as Docker would
    make them; with a Problem for each COPY source the build would not find."""
    every = {path.relative_to(context).as_posix() for path in context.rglob("*") if path.is_file()}
    final = max((i.stage for i in dockerfile.instructions), default=-1)
    image = Image()
    stage: dict[str, str] = {}
    for instruction in dockerfile.instructions:
        if instruction.name == "FROM":
            image.workdir, stage = "/", {}
        elif instruction.name == "WORKDIR":
            image.workdir = posixpath.normpath(posixpath.join(image.workdir, instruction.value))
        elif instruction.name in ("COPY", "ADD"):
            _copy(instruction, image, sent, every, stage)
        elif instruction.name == "RUN" and _PIP_INSTALL.search(instruction.value):
            image.installs.append(instruction)
            for name in _requirement_files(instruction.value):
                image.reads_requirements = True
                wanted = posixpath.normpath(posixpath.join(image.workdir, name))
                copied = [path for path, target in stage.items() if target == wanted]
                if copied:
                    image.requirements += copied
                else:
                    image.problems.append(
                        Problem(
                            f"{name} in the image before RUN (line {instruction.line}) installs from it",
                            f"no earlier COPY puts a file at {wanted}",
                            "copying the requirements file in before that RUN",
                        )
                    )
        if instruction.stage == final:
            if instruction.name == "ENV":
                image.env.update(_env(instruction))
            elif instruction.name == "USER":
                image.user = instruction
    image.files = stage
    return image


# ---------------------------------------------------------------- what starts


@dataclass(frozen=True)
class Start:
    """How the container starts uvicorn: where that is written, in which folder, with what."""

    where: str  # `CMD, line 14`, `the run line`
    target: str | None  # module:attribute
    host: str
    port: int
    app_dir: str


def _uvicorn(words: list[str], cwd: str) -> tuple[list[str], str] | None:
    """uvicorn's own arguments in a process's words, and the folder it starts in; None if it starts none."""
    program = posixpath.basename(words[0]) if words else ""
    if program in ("sh", "bash", "dash") and "-c" in words[1:-1]:
        for segment in re.split(r"&&|;|\|\|", words[words.index("-c") + 1]):
            parts = shlex.split(segment)
            while parts and parts[0] == "exec":
                parts = parts[1:]
            if parts[:1] == ["cd"] and len(parts) > 1:
                cwd = posixpath.normpath(posixpath.join(cwd, parts[1]))
            elif (found := _uvicorn(parts, cwd)) is not None:
                return found
        return None
    if program == "uvicorn":
        return words[1:], cwd
    if re.fullmatch(r"python[\d.]*", program) and words[1:3] == ["-m", "uvicorn"]:
        return words[3:], cwd
    return None


def start(dockerfile: docker.Dockerfile, image: Image, run: Line) -> Start | None:
    """What the container runs, from ENTRYPOINT and CMD (or the run line's), played as Docker does."""
    entry, cmd = dockerfile.last("ENTRYPOINT"), dockerfile.last("CMD")

    def words(instruction: docker.Instruction | None) -> list[str]:
        if instruction is None:
            return []
        return instruction.exec_form or ["/bin/sh", "-c", instruction.value]

    source = cmd or entry
    where = f"{source.name}, line {source.line}" if source else "the Dockerfile"
    if run.value("--entrypoint") is not None:
        process, where = [str(run.value("--entrypoint")), *run.rest[1:]], "the run line"
    else:
        command = list(run.rest[1:]) or ([] if entry is not None and entry.exec_form is None else words(cmd))
        process = words(entry) + command
        where = "the run line" if run.rest[1:] else where
    cwd = run.value("--workdir") or image.workdir
    found = _uvicorn(process, cwd)
    if found is None:
        return None
    arguments, cwd = found
    env = {**image.env, **dict(v.split("=", 1) for v in run.values("--env") if "=" in v)}
    options: dict[str, str] = {}
    target = env.get("UVICORN_APP")
    index = 0
    while index < len(arguments):
        word = arguments[index]
        index += 1
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            if not equals and name not in UVICORN_FLAGS and index < len(arguments):
                value, index = arguments[index], index + 1
            options[name] = value
        elif target is None or target == env.get("UVICORN_APP"):
            target = word
    host = options.get("--host", env.get("UVICORN_HOST", UVICORN_HOST))
    port = options.get("--port", env.get("UVICORN_PORT", str(UVICORN_PORT)))
    app_dir = posixpath.normpath(posixpath.join(cwd, options.get("--app-dir", env.get("UVICORN_APP_DIR", "."))))
    return Start(where, target, host, int(port) if port.isdigit() else UVICORN_PORT, app_dir)


# ---------------------------------------------------------------- the lint


@dataclass(frozen=True)
class Plan:
    """Everything the lint read: the lines, the Dockerfile, the image it would make, its start."""

    build: Line
    run: Line
    context: Path
    dockerfile_path: Path
    dockerfile: docker.Dockerfile
    image: Image
    start: Start | None
    tag: str


def _commands(build: Line, run: Line, folder: Path, context: Path) -> list[Problem]:
    """The command lines: the folder as the build context, a tag, that image run, published on loopback."""
    found = []
    given = build.rest[0] if build.rest else None
    if given is None or (folder / given).resolve() != context.resolve():
        found.append(
            Problem(
                f"the build context (the build line's last word) to be the folder {context.name}, which holds "
                "the service, the model and their .dockerignore",
                f"{given!r}" if given else "no context",
                "naming that folder as the context, relative to this notebook's folder",
            )
        )
    tag = build.value("--tag")
    if tag is None:
        found.append(
            Problem(
                "the build line to name the image it makes, for the run line to start",
                "no --tag (-t)",
                "the -t option of docker build",
            )
        )
    image = run.rest[0] if run.rest else None
    if tag is not None and (image is None or _image_name(image) != _image_name(tag)):
        found.append(
            Problem(
                f"the run line to start the image the build line makes, {tag}",
                f"it starts {image!r}" if image else "no image named",
                "the same name in both lines, after the run line's options",
            )
        )
    if run.has("--publish-all"):
        found.append(
            Problem(
                "the port published on this machine's loopback only (127.0.0.1)",
                "--publish-all (-P), which publishes on every interface (0.0.0.0), reachable from the network",
                "-p with an address, host port and container port",
            )
        )
    elif not run.values("--publish"):
        found.append(
            Problem(
                "the run line to publish the service's port, so that this machine can reach it",
                "no -p (--publish): the container's port is reachable from nowhere outside it",
                "the -p option of docker run, with the address 127.0.0.1",
            )
        )
    for text in run.values("--publish"):
        publish = Publish.parse(text)
        if not publish.loopback:
            found.append(
                Problem(
                    "the port published on this machine's loopback only (127.0.0.1)",
                    f"-p {text}, which publishes on every interface (0.0.0.0), reachable from the network",
                    "an address before the host port in -p",
                )
            )
    if run.value("--network") == "host":
        found.append(
            Problem(
                "the container on its own network, its port published with -p",
                "--network host, which puts the service on every interface of this machine",
                "leaving the network option out",
            )
        )
    return found


def _service_files(plan: Plan, sent: list[str]) -> list[Problem]:
    """The service's code and model in the image, keeping their places relative to each other."""
    image, start_ = plan.image, plan.start
    if start_ is None:
        return []
    module = (start_.target or "").partition(":")[0]
    service = f"{module.replace('.', '/')}.py"
    code = sorted(path for path in sent if path.endswith(".py"))
    if service not in sent:
        names = ", ".join(path.removesuffix(".py") + ":app" for path in code if "/" not in path)
        return [
            Problem(
                f"uvicorn to serve the app of a module in the folder ({names})",
                f"{start_.target or 'no app'} in {start_.where}",
                "uvicorn's first argument, module:attribute",
            )
        ]
    models = sorted(path for path in sent if MODEL_FILE.search(path))
    missing_models = [path for path in models if path not in image.files]
    if missing_models:
        return [
            Problem(
                f"the model in the image: {', '.join(models)}",
                f"the model not copied: no COPY brings {' or '.join(missing_models)} into the image",
                "a COPY of the artifacts folder",
            )
        ]
    missing = [path for path in code if path not in image.files]
    if missing:
        tops = sorted({path.split("/")[0] + ("/" if "/" in path else "") for path in missing})
        return [
            Problem(
                f"all the service's code in the image: {service} and the package it imports",
                f"no COPY brings {', '.join(tops)} into the image",
                "a COPY of that folder too",
            )
        ]
    home = posixpath.dirname(image.files[service])
    top = posixpath.normpath(posixpath.join(home, *[".."] * service.count("/")))
    for path in [*models, *code]:
        wanted = posixpath.join(top, path)
        if image.files[path] != wanted:
            return [
                Problem(
                    f"{path} at {wanted}, where {service} (at {image.files[service]}) looks for it, as in the folder",
                    f"it lands at {image.files[path]}",
                    "destinations that keep the folder's layout (copying the folder whole does)",
                )
            ]
    python_path = [posixpath.normpath(p) for p in image.env.get("PYTHONPATH", "").split(":") if p]
    if start_.app_dir != top and top not in python_path:
        return [
            Problem(
                f"uvicorn to start in {top}, where {service} lands, so that it can import it",
                f"it starts in {start_.app_dir} (WORKDIR, or its default /)",
                "a WORKDIR before the COPY and the command",
            )
        ]
    return []


def _listening(plan: Plan) -> list[Problem]:
    start_ = plan.start
    if start_ is None:
        return [
            Problem(
                "the container to start the service with uvicorn",
                "a CMD that starts no uvicorn" if plan.dockerfile.last("CMD") else "no CMD",
                "CMD with uvicorn and the module:attribute of the service",
                before_running=True,
            )
        ]
    found = []
    if start_.host not in EVERY_INTERFACE:
        found.append(
            Problem(
                "uvicorn to listen on every interface of the container (0.0.0.0), where the published port reaches it",
                f"it listens on {start_.host} inside the container ({start_.where}), which only the container "
                "itself can reach",
                "uvicorn's --host option",
            )
        )
    for text in plan.run.values("--publish"):
        publish = Publish.parse(text)
        if publish.container_port != start_.port:
            found.append(
                Problem(
                    f"-p to publish the port uvicorn listens on inside the container, {start_.port}",
                    f"-p {text} publishes container port {publish.container_port}",
                    "the container port last in -p",
                )
            )
    return found


def _base(plan: Plan) -> list[Problem]:
    if not plan.dockerfile.bases:
        return [Problem("a FROM line naming the base image", "none", "the slim Python base, python:3.11-slim")]
    name, _, tag = plan.dockerfile.base.partition(":")
    if name.split("/")[-1] == "python" and not SLIM.search(tag):
        return [
            Problem(
                "the slim Python base, python:3.11-slim",
                f"{plan.dockerfile.base}, about 1 GB of compilers and headers the service never uses",
                "its -slim variant",
            )
        ]
    return []


def _installs(plan: Plan) -> list[Problem]:
    image, context = plan.image, plan.context
    if not image.installs:
        return [
            Problem(
                "a RUN that installs the service's packages (requirements.txt)",
                "no pip install: the base has no fastapi, uvicorn or onnxruntime",
                "pip install with -r",
            )
        ]
    for run in image.installs:
        if heavy := TRAINING_STACK.search(run.value):
            return [_heavy(f"RUN (line {run.line}) installs {heavy.group()}")]
    for path in image.requirements:
        for line in (context / path).read_text(encoding="utf-8").splitlines():
            if not line.lstrip().startswith("#") and (heavy := TRAINING_STACK.search(line)):
                return [_heavy(f"{path}, installed by a RUN, lists {heavy.group()}")]
    if not image.reads_requirements:
        return [
            Problem(
                "the service's packages at the versions the tests ran with (the pins in requirements.txt)",
                f"RUN (line {image.installs[0].line}) installs packages by name, at whatever version is newest",
                "pip install with -r",
            )
        ]
    return []


def _heavy(found: str) -> Problem:
    return Problem(
        "only what serving imports installed (ONNX Runtime, FastAPI, uvicorn: requirements.txt)",
        f"the training stack: {found}, gigabytes the service never imports",
        "installing requirements.txt alone",
    )


def _user(plan: Plan) -> list[Problem]:
    expected = "the service run by a user without privileges (USER, before the command)"
    fix = "useradd in a RUN, then USER with that name"
    chosen, instruction = plan.run.value("--user"), plan.image.user
    if chosen is not None:
        user, where = chosen, "the run line's --user"
    elif instruction is not None:
        user, where = instruction.value, f"USER (line {instruction.line})"
    else:
        return [Problem(expected, "no USER: the service runs as root", fix)]
    if user.split(":")[0].strip() in ROOT_USERS:
        return [Problem(expected, f"{where} {user}: the service runs as root", fix)]
    return []


def lint(plan: Plan, folder: Path) -> list[Problem]:
    """Every problem, the command lines' first, then the Dockerfile's in the order it is written."""
    sent = docker.sent_to_build(plan.context)
    before = [*_commands(plan.build, plan.run, folder, plan.context), *_base(plan)]
    return [
        *(replace(problem, before_running=True) for problem in before),
        *plan.image.problems,
        *(replace(problem, before_running=True) for problem in _installs(plan)),
        *_service_files(plan, sent),
        *_user(plan),
        *_listening(plan),
    ]


def read(build: str, run: str, folder: Path, context: Path) -> Plan:
    """Parse both lines and the Dockerfile the build line builds, and play it through."""
    build_, run_ = build_line(build), run_line(run)
    named = build_.value("--file")
    given = folder / build_.rest[0] if build_.rest else context
    path = folder / named if named else given / "Dockerfile"
    if not path.exists():
        raise CheckFailed(
            f"expected a Dockerfile at {path.relative_to(folder) if path.is_relative_to(folder) else path}; "
            "found no file there; try running the %%writefile cell first"
        )
    dockerfile = docker.Dockerfile.parse(path.read_text(encoding="utf-8"))
    if any(comment.startswith(TODO) for comment in dockerfile.comments):
        raise CheckFailed("not done yet: write the Dockerfile in place of the line # TODO in the %%writefile cell")
    sent = docker.sent_to_build(context)
    image = play(dockerfile, context, sent)
    return Plan(
        build_, run_, context, path, dockerfile, image, start(dockerfile, image, run_), build_.value("--tag") or ""
    )


# ---------------------------------------------------------------- the check


def check_container(
    build: str, run: str, context: str | Path = CONTEXT, folder: str | Path = ".", say: Callable[[str], None] = print
) -> None:
    """The Dockerfile in `context` with the two command lines, run in `folder` (the notebook's):
    the lint, then, where an engine answers, build, run, /health and /predict for real."""
    require(build, "write the build and the run command lines as two strings")
    require(run, "write the run command line as a string, as you would type it in a terminal")
    folder = Path(folder)
    context = folder / context
    if not context.is_dir():
        raise CheckFailed(f"expected the folder {context.name} here; found none; try running the cells above first")
    plan = read(build, run, folder, context)
    problems = lint(plan, folder)
    engine = docker.engine()
    if not engine.running:
        if problems:
            raise CheckFailed(_first(problems))
        passed(f"{_summary(plan)}; not built: {engine.reason}")
        return
    before = [problem for problem in problems if problem.before_running]
    if before:
        raise CheckFailed(_first(before))
    try:
        trial = try_container(plan, folder, problems, say)
    except docker.DockerError as error:
        raise CheckFailed(str(error)) from None
    if problems:
        raise CheckFailed(_first(problems))
    _clear_build_log()
    passed(
        f"built with your build line in {trial.build_seconds:.0f} s, ran with your run line{trial.changes}; "
        f"uid {trial.uid} serves /health and /predict at {trial.url} ({trial.answers} records, the same species as "
        "the wrapper here); container and image removed"
    )


def _first(problems: list[Problem]) -> str:
    more = f" ({len(problems) - 1} more after this one)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"


def _summary(plan: Plan) -> str:
    start_ = plan.start
    listening = f"uvicorn on {start_.host}:{start_.port}" if start_ else "?"
    published = ", ".join(plan.run.values("--publish"))
    return (
        f"{plan.dockerfile_path.name} passes the lint (from {plan.dockerfile.base}, the model and the service "
        f"copied, {listening}, not root); the lines build {plan.context.name} as {plan.tag} and publish {published}"
    )


def _clear_build_log() -> None:
    """In a notebook, the build's log streams while it runs (a first build takes minutes); once
    the check passes it goes, so that a passing check still ends in its one line."""
    from IPython import get_ipython
    from IPython.display import clear_output

    if get_ipython() is not None:
        clear_output()  # type: ignore[no-untyped-call]  # IPython: untyped


# ---------------------------------------------------------------- build and run


@dataclass(frozen=True)
class Trial:
    """What building and running the student's lines showed."""

    build_seconds: float
    url: str
    uid: str
    answers: int
    changes: str  # what the check changed in the run line, in words ("" for nothing)


def _port_free(port: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", int(port)))
        except (OSError, ValueError):
            return False
    return True


def runnable(run: Line, name: str) -> tuple[list[str], Publish, list[str]]:
    """The student's run line as the check runs it: detached, under a name of its own, without
    --rm (to read the log of a container that stops), on a free host port where theirs is taken."""
    from penguins.ports import free_port

    words = ["docker", "run", "--detach", "--name", name]
    changes = []
    published = Publish("", "", "", None)
    for option, value in run.options:
        if option in ("--detach", "--rm", "--name", "--interactive", "--tty"):
            continue
        if option == "--publish" and value is not None:
            publish = Publish.parse(value)
            host = publish.host_port
            if not host or not _port_free(host):
                new = str(free_port())
                changes.append(f"host port {new} ({host} is taken)" if host else f"host port {new}")
                host = new
            value = f"{publish.ip}:{host}:{publish.container_port}"
            published = Publish.parse(value)
        words += [option] if value is None else [f"{option}={value}"]
    return [*words, *run.rest], published, changes


def try_container(plan: Plan, folder: Path, problems: list[Problem], say: Callable[[str], None]) -> Trial:
    """Build with the student's line, run with theirs, ask /health and /predict, remove both."""
    say(f"$ {plan.build.text}")
    started = time.perf_counter()
    try:
        docker.stream(shlex.split(plan.build.text), folder, 900, say)
    except docker.DockerError as error:
        hint = problems[0].fix if problems else "the build line in a terminal, in this folder, to read the whole log"
        raise CheckFailed(
            f"expected your build line to build the image; found it failed: {error}\ntry {hint}"
        ) from None
    seconds = time.perf_counter() - started
    name = f"{plan.tag.split(':')[0].split('/')[-1]}-check-{uuid.uuid4().hex[:8]}"
    words, published, changes = runnable(plan.run, name)
    container = docker.Running(name, int(published.host_port or 0), plan.tag, [])
    hint = problems[0].fix if problems else "running the run line in a terminal, without -d, to read the whole log"
    try:
        docker.command(words)
        _wait_answering(container, published.container_port, hint)
        answers = _ask(plan, container)
        uid = container.exec("id", "-u").strip()
        if uid == "0":  # the lint's word for why, where it has one
            root = next((p for p in problems if p.found.endswith("runs as root")), None)
            raise CheckFailed(
                str(
                    root
                    or Problem(
                        "the service run by a user without privileges",
                        "it runs as uid 0, root",
                        "useradd in a RUN, then USER",
                    )
                )
            )
    finally:
        container.remove()
        docker.remove_image(plan.tag)
    changes = ([] if plan.run.has("--detach") else ["detached"]) + changes
    said = f" (changed: {', '.join(changes)})" if changes else ""
    return Trial(seconds, container.url, uid, answers, said)


def _wait_answering(container: docker.Running, inside: int | None, hint: str) -> None:
    """Until /health answers 200 from outside; a container that stops, or listens where the
    published port cannot reach, is reported at once."""
    deadline = time.monotonic() + ANSWER_WITHIN
    while True:
        status = docker.container_status(container.name)
        if status != "running":
            raise CheckFailed(
                f"expected the container to keep serving; found it {status}, its log ends:\n"
                f"{docker.log_tail(container.name)}\ntry {hint}"
            )
        try:
            if requests.get(f"{container.url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        listening = container.listening()
        if listening and inside not in [port for _, port in listening]:
            addresses = ", ".join(f"{address}:{port}" for address, port in listening)
            raise CheckFailed(
                str(
                    Problem(
                        f"the service to listen on port {inside} inside the container, the one your run line publishes",
                        f"it listens on {addresses} (its /proc/net/tcp)",
                        "the container port last in -p, or uvicorn's --port",
                    )
                )
            )
        if listening and not any(address in ("0.0.0.0", "::") for address, _ in listening):
            addresses = ", ".join(f"{address}:{port}" for address, port in listening)
            raise CheckFailed(
                str(
                    Problem(
                        f"/health to answer at {container.url}, the port your run line publishes",
                        f"nothing answers there: the service listens on {addresses.split(':')[0]} inside the container "
                        f"(its /proc/net/tcp: {addresses}), which only the container itself can reach",
                        "uvicorn's --host option",
                    )
                )
            )
        if time.monotonic() > deadline:
            raise CheckFailed(
                str(
                    Problem(
                        f"/health to answer at {container.url} within {ANSWER_WITHIN:g} s",
                        f"no answer; the container's log ends:\n{docker.log_tail(container.name)}\n(end of log)",
                        "-p with the port uvicorn listens on inside, last",
                    )
                )
            )
        time.sleep(0.5)


def _ask(plan: Plan, container: docker.Running) -> int:
    """POST /predict with raw records; the species must be the wrapper's, here, on the same model."""
    from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS
    from penguins.serving.predictor import PenguinPredictor

    model = next(iter(sorted(plan.context.rglob("*.onnx"))), None)
    # The package's model carries its sidecar, and then the wrapper here knows its answers; a model
    # of the student's own (the capstone's) has none, and a 200 with a species is what can be asked.
    packaged = model is not None and model.with_name(model.name + ".json").is_file()
    predictor = PenguinPredictor.load("mlp-onnx", model) if model and packaged else None
    records: list[dict[str, Any]] = [CLEAN_RECORD, *MESSY_RECORDS]
    for record in records:
        answer = requests.post(f"{container.url}/predict", json=record, timeout=5)
        try:
            species = answer.json().get("species") if answer.ok else None
        except (ValueError, AttributeError):
            species = None
        expected = predictor.predict_one(record).species if predictor else species
        if answer.status_code != 200 or species != expected:
            raise CheckFailed(
                str(
                    Problem(
                        f"POST /predict to answer {{'species': {expected!r}}} for {record}",
                        f"status {answer.status_code}: {answer.text[:200]}",
                        "the service as the folder has it (my_service.py), unchanged",
                    )
                )
            )
    return len(records)

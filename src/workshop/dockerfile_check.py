"""A student's Dockerfile (exercise 06): read like a linter, then, where a Docker engine
already answers, built, run and asked for /health.

Why it is built this way:
- The lint reads the file with a real Dockerfile parser (dockerfile-parse: continued lines,
  comments, ARG defaults in FROM) and has one rule per lesson of stage 06, each with its own
  message: what is wrong, why it matters, what to write instead. It needs no engine, so every
  student gets an answer.
- The build context is assembled in a temporary folder from the project's own allow-list
  (`.dockerignore` at the root: exactly what docker/Dockerfile may see), with the model from
  the artifacts folder in use. So the check builds what `docker build -f <yours> .` sees from
  the project root, and a test run, whose artifacts live elsewhere, builds the same.
- An engine is used only when one answers already (`docker info`): a notebook never starts
  one. The container and the image are removed afterwards, the build cache is kept
  (`docker rmi --no-prune`), so checking the same Dockerfile again takes seconds.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workshop.docker_cli import IGNORE_FILE, LOCAL_BASE, allowed_in_build, build_context, engine

if TYPE_CHECKING:
    from penguins.client import PenguinClient

# LOCAL_BASE: tools/docker-engine.sh builds it where no registry is reachable (CI); a Dockerfile
# that declares `ARG BASE_IMAGE` is built from it when it exists, as `make docker-build` does.
SERVICE_PORT = 8000  # where the service listens inside the container, unless EXPOSE says otherwise
READY_TIMEOUT = 60.0  # seconds for the container's service to load its model and answer /ready
SIZE_BUDGET_MB = 300  # what a serving image may add to its base (docker/Dockerfile adds about 150)
MODEL_FILES = ("artifacts/mlp.onnx", "artifacts/mlp.onnx.json")
TRAINING_STACK = re.compile(r"\b(torch|scikit-learn|sklearn|pandas|jupyter\w*|matplotlib|skl2onnx|onnxscript)\b")
ROOT_USERS = ("root", "0")
TODO = "TODO"  # the placeholder comment `# TODO` that workshop.exercises leaves in a blank file
HEALTHCHECK_EXAMPLE = ('HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
                       "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\"]")
START_EXAMPLE = 'CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8000"]'


class ContainerFailed(RuntimeError):
    """The image did not build, start or answer; the message says what happened and what to try."""


@dataclass(frozen=True)
class Instruction:
    name: str  # FROM, RUN, COPY, ... in capitals
    value: str  # everything after the name, continued lines joined
    line: int  # 1-based, where it starts
    stage: int  # -1 before the first FROM (ARG only), then 0, 1, ... per FROM


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its instructions, and the image each stage starts from."""

    instructions: tuple[Instruction, ...]
    bases: tuple[str, ...]  # one per FROM, with ARG defaults filled in
    todo: bool  # the placeholder comment `# TODO` is still there

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        from dockerfile_parse import DockerfileParser

        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
        stage, found, todo = -1, [], False
        for item in parser.structure:
            name = item["instruction"].upper()
            if name == "COMMENT":
                todo = todo or item["value"].strip().startswith(TODO)
                continue
            stage += name == "FROM"
            found.append(Instruction(name, item["value"].strip(), item["startline"] + 1, stage))
        return cls(tuple(found), tuple(parser.parent_images), todo)

    @property
    def final(self) -> list[Instruction]:
        """The instructions of the last stage: the image that runs."""
        last = max((i.stage for i in self.instructions), default=-1)
        return [i for i in self.instructions if i.stage == last and last >= 0]

    def every(self, *names: str) -> list[Instruction]:
        """Every instruction of these kinds, in all stages, in the order of the file."""
        return [i for i in self.instructions if i.name in names]

    def last(self, name: str) -> Instruction | None:
        """The instruction of this kind that counts: the last one of the final stage."""
        found = [i for i in self.final if i.name == name]
        return found[-1] if found else None

    @property
    def declares_base_arg(self) -> bool:
        """`ARG BASE_IMAGE` before the first FROM: the base can be swapped at build time."""
        return any(i.stage < 0 and re.match(r"BASE_IMAGE\b", i.value) for i in self.every("ARG"))

    @property
    def start(self) -> list[str]:
        """The command the container starts with, as exec-form words (empty if not exec form)."""
        entrypoint, cmd = self.last("ENTRYPOINT"), exec_form(self.last("CMD")) or []
        return cmd if entrypoint is None else (exec_form(entrypoint) or []) + cmd

    @property
    def port(self) -> int:
        """The port the service listens on inside: EXPOSE's first, else --port in CMD, else 8000."""
        expose = self.last("EXPOSE")
        number = re.match(r"\d+", expose.value) if expose else None
        if number:
            return int(number.group())
        port = re.search(r"--port[= ](\d+)", " ".join(self.start))
        return int(port.group(1)) if port else SERVICE_PORT


def exec_form(instruction: Instruction | None) -> list[str] | None:
    """The command as a JSON list (exec form); None for the shell form or no instruction."""
    if instruction is None:
        return None
    try:
        value = json.loads(instruction.value)
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


# ---------------------------------------------------------------- the lint


def allowed_paths(root: Path) -> list[str]:
    """What a build may see: the `!path` lines of the project's .dockerignore allow-list."""
    return allowed_in_build(Path(root) / IGNORE_FILE)


def lint(path: Path | str) -> list[str]:
    """The problems of the Dockerfile at `path`, against this checkout's allow-list."""
    from penguins.serving.paths import project_root

    return problems(Dockerfile.parse(Path(path).read_text(encoding="utf-8")), allowed_paths(project_root()))


def problems(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    """Every rule the Dockerfile breaks, each as the message a student reads, in the order
    the file is written: base, copies, installs, user, health check, start command."""
    found: list[str] = []
    for rule in (_base, _copies, _installs, _needed_files, _user, _healthcheck, _start):
        found += rule(dockerfile, allowed)
    return found


def _base(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    if not dockerfile.bases:
        return ["no FROM: a Dockerfile starts from a base image: ARG BASE_IMAGE=python:3.11-slim, then FROM ${BASE_IMAGE}"]
    image = dockerfile.bases[-1]
    name, _, tag = image.partition(":")
    if name.split("/")[-1] == "python" and not re.search(r"slim|alpine", tag):
        version = re.match(r"[\d.]+", tag)
        return [f"FROM {image} starts from about 1 GB of compilers and headers the service never uses: "
                f"start from python:{version.group() if version else '3.11'}-slim"]
    return []


def _copies(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    """COPY and ADD from the build context take only what serving needs."""
    found = []
    for instruction in dockerfile.every("COPY", "ADD"):
        words = instruction.value.split()
        if any(word.startswith("--from") for word in words):
            continue  # from another stage of this build, not from the project
        for source in [word for word in words if not word.startswith("--")][:-1]:
            path = source.removeprefix("./").strip("/")
            where = f"{instruction.name} {source} (line {instruction.line})"
            if path in ("", ".", "*"):
                found.append(f"{where} copies the whole project (notebooks, data, .venv: gigabytes, and maybe "
                             f"secrets): copy only what serving needs: {', '.join(allowed)}")
            elif not any(path == a or path.startswith(a + "/") for a in allowed):
                found.append(f"{where} copies something serving does not need: copy only {', '.join(allowed)}")
    return found


def _installs(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    runs = dockerfile.every("RUN")
    for run in runs:
        if "dev.txt" in run.value or TRAINING_STACK.search(run.value):
            return [f"RUN (line {run.line}) installs the training stack (torch, scikit-learn, pandas, JupyterLab: "
                    "gigabytes) that serving never imports: install requirements/serve.txt instead, "
                    "with -c requirements/constraints.txt"]
    serve = [run for run in runs if "serve.txt" in run.value]
    if not serve:
        return ["nothing installs requirements/serve.txt: RUN pip install -r requirements/serve.txt "
                "-c requirements/constraints.txt (the service's packages, at the versions the tests ran with)"]
    if not any("constraints.txt" in run.value for run in serve):
        return [f"RUN (line {serve[0].line}) installs serve.txt without -c requirements/constraints.txt: what its "
                "packages pull in is then unpinned, and the image may run other versions than the tests did"]
    return []


def _needed_files(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    copied = [word.removeprefix("./").strip("/") for i in dockerfile.every("COPY", "ADD") for word in i.value.split()]
    if {"", ".", "*"} & set(copied):
        return []  # copying everything copies these too; _copies has said what to copy instead
    found = []
    if not any(path == "src/penguins" or path.startswith("src/penguins/") for path in copied):
        found.append("nothing copies src/penguins: the image needs the package to serve the model")
    missing = [name for name in MODEL_FILES if name not in copied]
    if missing:
        found.append(f"nothing copies {' and '.join(missing)}: the image needs the model and its metadata "
                     "(the service checks the model's sha256 against it before loading it)")
    if "app:app" in dockerfile.start and "docker/app.py" not in copied:
        found.append("CMD serves app:app, but nothing copies docker/app.py, the module that makes it")
    return found


def _user(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    user = dockerfile.last("USER")
    fix = ("create a user without privileges (RUN useradd --system --uid 10001 penguin) and switch to it "
           "with USER penguin before CMD")
    if user is None:
        return [f"no USER: the service runs as root, so whoever breaks into it is root in the container: {fix}"]
    if user.value.split(":")[0].strip() in ROOT_USERS:
        return [f"USER {user.value} (line {user.line}) runs the service as root: {fix}"]
    return []


def _healthcheck(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    check = dockerfile.last("HEALTHCHECK")
    if check is None or check.value.upper() == "NONE":
        return [f"no HEALTHCHECK: Docker cannot tell a service that hangs from a healthy one: "
                f"ask it for /health, e.g. {HEALTHCHECK_EXAMPLE}"]
    installs = " ".join(run.value for run in dockerfile.every("RUN"))
    for tool in ("curl", "wget"):
        if re.search(rf"\b{tool}\b", check.value) and not re.search(rf"install\b[^&;]*\b{tool}\b", installs):
            return [f"HEALTHCHECK (line {check.line}) calls {tool}, which a slim image does not have, so the "
                    f"container would never count as healthy: ask with the python already there, e.g. {HEALTHCHECK_EXAMPLE}"]
    return []


def _start(dockerfile: Dockerfile, allowed: list[str]) -> list[str]:
    first = dockerfile.last("ENTRYPOINT") or dockerfile.last("CMD")
    if first is None:
        return [f"no CMD: nothing starts the service, e.g. {START_EXAMPLE}"]
    if exec_form(first) is None:
        program = (first.value.split() or ["uvicorn"])[0]
        return [f"{first.name} {first.value} (line {first.line}) is in shell form: /bin/sh runs as PID 1 and does "
                "not pass docker stop's SIGTERM on, so the service is killed after 10 s instead of finishing its "
                f'requests: write it as a JSON list, {first.name} ["{program}", ...]']
    words = dockerfile.start
    if any("uvicorn" in word for word in words) and not {"0.0.0.0", "::"} & set(words):
        return [f"uvicorn listens on 127.0.0.1 unless told otherwise, and inside a container only the container "
                f'itself can reach that: add "--host", "0.0.0.0" to {first.name} (line {first.line})']
    return []


# ---------------------------------------------------------------- build and run


def engine_answers() -> bool:
    """Whether a Docker engine answers here; never starts one."""
    return engine().running


@dataclass(frozen=True)
class Trial:
    """What building and running the image showed."""

    build_seconds: float
    base: str  # the image it was built from
    added_mb: float
    user: str
    health: dict


def try_image(dockerfile_path: Path, dockerfile: Dockerfile, root: Path, artifacts: Path) -> Trial:
    """Build the Dockerfile, run it briefly, ask /health through the client, remove it all again."""
    tag = f"penguins-exercise-06:{uuid.uuid4().hex[:12]}"
    local_base = dockerfile.declares_base_arg and _has_image(LOCAL_BASE)
    base_args = ["--build-arg", f"BASE_IMAGE={LOCAL_BASE}"] if local_base else []
    with tempfile.TemporaryDirectory(prefix="penguins-context-") as tmp:
        context = build_context(Path(tmp), artifacts, root)
        shutil.copyfile(dockerfile_path, context / "Dockerfile")
        started = time.monotonic()
        built = _docker("build", "--quiet", *base_args, "-t", tag, str(context), timeout=900)
        seconds = time.monotonic() - started
    try:
        if built.returncode != 0:
            raise ContainerFailed(f"docker build failed:\n{_tail(built.stderr + built.stdout)}{_pull_hint(dockerfile)}")
        base = LOCAL_BASE if local_base else dockerfile.bases[-1]
        added = _size_mb(tag) - _size_mb(base)
        if added > SIZE_BUDGET_MB:
            raise ContainerFailed(f"the image adds {added:,.0f} MB to its base, more than the {SIZE_BUDGET_MB} MB "
                                  "that ONNX Runtime, FastAPI and the model take: install only requirements/serve.txt "
                                  "and copy only what serving needs")
        user, health = _run(tag, dockerfile.port)
        return Trial(seconds, base, added, user, health)
    finally:
        _docker("rmi", "--force", "--no-prune", tag, timeout=120)


def _run(tag: str, port_inside: int) -> tuple[str, dict]:
    """Run the image on a free loopback port; (the user it runs as, what /health says); removed after."""
    from penguins.client import PenguinClient
    from penguins.ports import free_port

    port = free_port()
    run = _docker("run", "--detach", "--publish", f"127.0.0.1:{port}:{port_inside}", tag, timeout=60)
    if run.returncode != 0:
        raise ContainerFailed(f"docker run failed:\n{_tail(run.stderr)}")
    container = run.stdout.strip()
    try:
        with PenguinClient(f"http://127.0.0.1:{port}", timeout=5) as client:
            _wait_until_ready(client, container)
            health = client.health()
        user = _docker("exec", container, "id", "-un", timeout=30).stdout.strip() or "?"
        return user, health
    finally:
        _docker("rm", "--force", container, timeout=60)


def _wait_until_ready(client: PenguinClient, container: str, timeout: float = READY_TIMEOUT) -> None:
    """Until /ready answers 200; a container that stops, or never answers, is the message (with its log)."""
    from penguins.client import ServiceError

    deadline = time.monotonic() + timeout
    while True:
        try:
            client.wait_until_ready(timeout=1)
            return
        except ServiceError as error:
            running = _docker("inspect", "--format", "{{.State.Running}}", container, timeout=30).stdout.strip()
            if running == "true" and time.monotonic() < deadline:
                continue
            logs = _docker("logs", "--tail", "15", container, timeout=30)
            what = f"did not answer within {timeout:g} s ({error})" if running == "true" else "stopped"
            raise ContainerFailed(f"the container {what}; its log ends:\n{_tail(logs.stdout + logs.stderr)}") from None


def _docker(*args: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ContainerFailed(f"docker {args[0]} did not finish within {timeout:g} s: is the engine busy?") from None


def _has_image(image: str) -> bool:
    return _docker("image", "inspect", image, timeout=30).returncode == 0


def _size_mb(image: str) -> float:
    """An image's size in MB; 0 when it is not here (a base that was pulled under another name)."""
    result = _docker("image", "inspect", "--format", "{{.Size}}", image, timeout=30)
    size = result.stdout.strip()
    return int(size) / 1e6 if result.returncode == 0 and size.isdigit() else 0.0


def _tail(text: str, lines: int = 8) -> str:
    """The last lines of docker's output, without the legacy builder's deprecation notice."""
    kept = [line for line in text.strip().splitlines()
            if line.strip() and "DEPRECATED" not in line and "buildx" not in line and "BuildKit" not in line]
    return "\n".join(kept[-lines:])


def _pull_hint(dockerfile: Dockerfile) -> str:
    if dockerfile.declares_base_arg or not _has_image(LOCAL_BASE):
        return ""
    return (f"\n(no registry here? declare ARG BASE_IMAGE=python:3.11-slim and FROM ${{BASE_IMAGE}}: the check "
            f"then builds from the local base {LOCAL_BASE})")

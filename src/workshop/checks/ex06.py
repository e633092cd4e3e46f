"""Exercise 06, the container: a student's Dockerfile read like a linter, then, where a Docker
engine already answers, built, run and asked for /health.

Why it is built this way:
- The lint reads the file with the one Dockerfile parser (workshop.docker, on dockerfile-parse)
  and has one rule per lesson of stage 06, each with its own message: what is wrong, why it
  matters, what to write instead. It needs no engine, so every student gets an answer.
- The build sees what `docker build -f <yours> .` sees from the project root: the project's
  allow-list (`.dockerignore`), with the model from the artifacts folder in use.
- The build's output streams while it runs and is cleared once the check passes.
- An engine is used only when one answers already: a notebook never starts one. The container
  and the image are removed afterwards, the build cache is kept, so checking the same
  Dockerfile again takes seconds.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop import docker
from workshop.checks.common import CheckFailed, passed

SIZE_BUDGET_MB = 300  # what a serving image may add to its base (docker/Dockerfile adds about 170)
PACKAGE_FILES = ("src/penguins/__init__.py", "src/penguins/serving")  # what the image runs
MODEL_FILES = ("artifacts/mlp.onnx", "artifacts/mlp.onnx.json")
APP = "penguins.serving.app:app"  # the ASGI app uvicorn serves
TRAINING_STACK = re.compile(r"\b(torch|scikit-learn|sklearn|pandas|jupyter\w*|matplotlib|skl2onnx|onnxscript)\b")
ROOT_USERS = ("root", "0")
TODO = "TODO"  # the placeholder comment `# TODO` that workshop.exercises leaves in a blank file
HEALTHCHECK_EXAMPLE = (
    'HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\"]"
)
_APP_TARGET = re.compile(r"[\w.]+:\w+")  # uvicorn's module:attribute
START_EXAMPLE = f'CMD ["uvicorn", "{APP}", "--host", "0.0.0.0", "--port", "8000"]'


def check_dockerfile(path: Path | str) -> None:
    """The Dockerfile passes the lint; where an engine answers, it builds, runs and answers /health."""
    from penguins.serving import artifacts
    from penguins.serving.paths import artifacts_dir

    path = Path(path)
    if not path.exists():
        raise CheckFailed(f"no file {path.name}: run the %%writefile {path.name} cell first")
    dockerfile = docker.Dockerfile.parse(path.read_text(encoding="utf-8"))
    if any(comment.startswith(TODO) for comment in dockerfile.comments):
        raise CheckFailed(
            f"not done yet: write your Dockerfile in place of the line # TODO in the "
            f"%%writefile {path.name} cell, then run that cell and this one"
        )
    found = lint(dockerfile)
    if found:
        more = f" ({len(found) - 1} more after this one)" if len(found) > 1 else ""
        raise CheckFailed(found[0] + more)
    user = dockerfile.last("USER")
    lint_passed = (
        f"{path.name} passes the lint (from {dockerfile.base}, serving requirements only, "
        f"user {user.value if user else '?'}, HEALTHCHECK, exec form)"
    )
    engine = docker.engine()
    if not engine.running:
        passed(f"{lint_passed}; not built: {engine.reason}")
        return
    try:
        trial = try_image(path, dockerfile, artifacts_dir())
    except docker.DockerError as error:
        raise CheckFailed(str(error)) from None
    served = trial.health.get("model_version")
    expected = artifacts.read_metadata(artifacts_dir() / "mlp.onnx").model_version
    if served != expected:
        raise CheckFailed(
            f"the container serves model {served!r}, expected {expected!r} (artifacts/mlp.onnx): "
            "copy artifacts/mlp.onnx and artifacts/mlp.onnx.json"
        )
    _clear_build_log()
    passed(
        f"{lint_passed}; built on {dockerfile.base} in {trial.build_seconds:.0f} s, adds {trial.added_mb:.0f} MB "
        f"to its base, ran as {trial.user}, /health answered with model {served}; container and image removed"
    )


def _clear_build_log() -> None:
    """In a notebook, the build's log streams while it runs (a first build takes minutes); once
    the check passes it goes, so that a passing check still ends in its one line."""
    from IPython import get_ipython
    from IPython.display import clear_output

    if get_ipython() is not None:
        clear_output()  # type: ignore[no-untyped-call]  # IPython: untyped


# ---------------------------------------------------------------- the lint


def lint(dockerfile: docker.Dockerfile, allowed: list[str] | None = None) -> list[str]:
    """Every rule the Dockerfile breaks, each as the message a student reads, in the order the
    file is written: base, copies, installs, user, health check, start command. `allowed`
    defaults to this checkout's allow-list (.dockerignore)."""
    allowed = docker.allowed_in_build() if allowed is None else allowed
    found: list[str] = []
    for rule in (_base, _copies, _installs, _needed_files, _user, _healthcheck, _start):
        found += rule(dockerfile, allowed)
    return found


def lint_file(path: Path | str) -> list[str]:
    """The problems of the Dockerfile at `path`, against this checkout's allow-list."""
    return lint(docker.Dockerfile.parse(Path(path).read_text(encoding="utf-8")))


def _base(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    if not dockerfile.bases:
        return ["no FROM: a Dockerfile starts from a base image, e.g. FROM python:3.11-slim"]
    image = dockerfile.base
    name, _, tag = image.partition(":")
    if name.split("/")[-1] == "python" and not re.search(r"slim|alpine", tag):
        version = re.match(r"[\d.]+", tag)
        return [
            f"FROM {image} starts from about 1 GB of compilers and headers the service never uses: "
            f"start from python:{version.group() if version else '3.11'}-slim"
        ]
    return []


def _sources(instruction: docker.Instruction) -> list[str]:
    """What a COPY or ADD takes from the build context (none when it copies --from a stage)."""
    words = instruction.value.split()
    if any(word.startswith("--from") for word in words):
        return []
    return [word.removeprefix("./").strip("/") for word in words if not word.startswith("--")][:-1]


def _copies(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    """COPY and ADD from the build context take only what serving needs."""
    found = []
    for instruction in dockerfile.every("COPY", "ADD"):
        for path in _sources(instruction):
            where = f"{instruction.name} {path or '.'} (line {instruction.line})"
            if path in ("", ".", "*"):
                found.append(
                    f"{where} copies the whole project (notebooks, data, .venv: gigabytes, and maybe "
                    f"secrets): copy only what serving needs: {', '.join(allowed)}"
                )
            elif not any(path == a or path.startswith(a + "/") for a in allowed):
                found.append(f"{where} copies something serving does not need: copy only {', '.join(allowed)}")
    return found


def _installs(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    runs = dockerfile.every("RUN")
    for run in runs:
        if "dev.txt" in run.value or TRAINING_STACK.search(run.value):
            return [
                f"RUN (line {run.line}) installs the training stack (torch, scikit-learn, pandas, JupyterLab: "
                "gigabytes) that serving never imports: install requirements/serve.txt instead, "
                "with -c requirements/constraints.txt"
            ]
    serve = [run for run in runs if "serve.txt" in run.value]
    if not serve:
        return [
            "nothing installs requirements/serve.txt: RUN pip install -r requirements/serve.txt "
            "-c requirements/constraints.txt (the service's packages, at the versions the tests ran with)"
        ]
    if not any("constraints.txt" in run.value for run in serve):
        return [
            f"RUN (line {serve[0].line}) installs serve.txt without -c requirements/constraints.txt: what its "
            "packages pull in is then unpinned, and the image may run other versions than the tests did"
        ]
    return []


def _needed_files(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    copied = [path for instruction in dockerfile.every("COPY", "ADD") for path in _sources(instruction)]
    if {"", ".", "*"} & set(copied):
        return []  # copying everything copies these too; _copies has said what to copy instead
    found = []
    covered = [name for name in PACKAGE_FILES for path in copied if name == path or name.startswith(path + "/")]
    missing = [name for name in PACKAGE_FILES if name not in covered]
    if missing:
        found.append(
            f"nothing copies {' and '.join(missing)}: the image needs the serving package "
            "(penguins/__init__.py and penguins/serving, nothing that trains)"
        )
    missing = [name for name in MODEL_FILES if name not in copied]
    if missing:
        found.append(
            f"nothing copies {' and '.join(missing)}: the image needs the model and its metadata "
            "(the service checks the model's sha256 against it before loading it)"
        )
    if any("uvicorn" in word for word in dockerfile.start):
        served = [word for word in dockerfile.start if _APP_TARGET.fullmatch(word)]
        if served and served[0] != APP:
            found.append(f"CMD serves {served[0]}, but the service's app is {APP}: uvicorn {APP}")
    return found


def _user(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    user = dockerfile.last("USER")
    fix = (
        "create a user without privileges (RUN useradd --system --uid 10001 penguin) and switch to it "
        "with USER penguin before CMD"
    )
    if user is None:
        return [f"no USER: the service runs as root, so whoever breaks into it is root in the container: {fix}"]
    if user.value.split(":")[0].strip() in ROOT_USERS:
        return [f"USER {user.value} (line {user.line}) runs the service as root: {fix}"]
    return []


def _healthcheck(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    check = dockerfile.last("HEALTHCHECK")
    if check is None or check.value.upper() == "NONE":
        return [
            "no HEALTHCHECK: Docker cannot tell a service that hangs from a healthy one: "
            f"ask it for /health, e.g. {HEALTHCHECK_EXAMPLE}"
        ]
    installs = " ".join(run.value for run in dockerfile.every("RUN"))
    for tool in ("curl", "wget"):
        if re.search(rf"\b{tool}\b", check.value) and not re.search(rf"install\b[^&;]*\b{tool}\b", installs):
            return [
                f"HEALTHCHECK (line {check.line}) calls {tool}, which a slim image does not have, so the "
                f"container would never count as healthy: ask with the python already there, e.g. "
                f"{HEALTHCHECK_EXAMPLE}"
            ]
    return []


def _start(dockerfile: docker.Dockerfile, allowed: list[str]) -> list[str]:
    first = dockerfile.last("ENTRYPOINT") or dockerfile.last("CMD")
    if first is None:
        return [f"no CMD: nothing starts the service, e.g. {START_EXAMPLE}"]
    if first.exec_form is None:
        program = (first.value.split() or ["uvicorn"])[0]
        return [
            f"{first.name} {first.value} (line {first.line}) is in shell form: /bin/sh runs as PID 1 and does "
            "not pass docker stop's SIGTERM on, so the service is killed after 10 s instead of finishing its "
            f'requests: write it as a JSON list, {first.name} ["{program}", ...]'
        ]
    words = dockerfile.start
    if any("uvicorn" in word for word in words) and not {"0.0.0.0", "::"} & set(words):
        return [
            "uvicorn listens on 127.0.0.1 unless told otherwise, and inside a container only the container "
            f'itself can reach that: add "--host", "0.0.0.0" to {first.name} (line {first.line})'
        ]
    return []


# ---------------------------------------------------------------- build and run


@dataclass(frozen=True)
class Trial:
    """What building and running the image showed."""

    build_seconds: float
    added_mb: float
    user: str
    health: dict[str, Any]


def try_image(path: Path, dockerfile: docker.Dockerfile, artifacts: Path) -> Trial:
    """Build the Dockerfile (its output streamed), run it until Docker calls it healthy, ask
    /health through the client, and remove the container and the image again."""
    tag = f"penguins-exercise-06:{uuid.uuid4().hex[:12]}"
    built = docker.build(tag, dockerfile=path, artifacts=artifacts)
    try:
        base = docker.image_size(dockerfile.base) if docker.has_image(dockerfile.base) else 0
        added = (docker.image_size(tag) - base) / 1e6
        if added > SIZE_BUDGET_MB:
            raise CheckFailed(
                f"the image adds {added:,.0f} MB to its base, more than the {SIZE_BUDGET_MB} MB "
                "that ONNX Runtime, FastAPI and the model take: install only requirements/serve.txt "
                "and copy only what serving needs"
            )
        container = docker.run(tag, f"penguins-exercise-06-{tag[-12:]}", inside_port=dockerfile.port, keep=True)
        try:
            with container.client() as client:
                health = client.health()
            user = container.exec("id", "-un").strip() or "?"
        finally:
            container.remove()
        return Trial(built.seconds, added, user, health)
    finally:
        docker.remove_image(tag)

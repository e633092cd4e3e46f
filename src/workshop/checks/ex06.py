"""Exercise 06: the student's Dockerfile held to the lesson's rules; then, with an engine, their lines
run as typed (docker reads their options), the image pulled back, called, `id -u` asked, all removed."""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from IPython import get_ipython
from IPython.display import clear_output

from workshop import docker, registry
from workshop.checks.common import CheckFailed, judge_species, passed, problem, require
from workshop.docker import Say
from workshop.server import stop_process

CONTEXT = "06_context"  # the folder the exercise prepares beside the notebook
MODEL = "artifacts/mlp.onnx"  # where the model sits in the context, and where the service looks for it
TRAINING_STACK = re.compile(
    r"\b(torch\w*|scikit-learn|sklearn|pandas|jupyter\w*|matplotlib|skl2onnx|onnxscript|tensorflow)\b", re.I
)
COMMENT = re.compile(r"^\s*#.*$", re.M)
RUN_RETURNS_WITHIN = 20.0  # seconds for `docker run -d` to hand back the prompt
ANSWER_WITHIN = 60.0  # seconds from `docker run` to a /health that answers
NOT_ROOT = "the service run by a user without privileges"
FIX_USER = "useradd in a RUN, then USER with that name"


# ---------------------------------------------------------------- the rules


def lint(dockerfile: docker.Dockerfile, context: Path) -> list[CheckFailed]:
    """Every problem the lesson's rules find in the Dockerfile, in the lesson's order."""
    return list(_rules(dockerfile, context))


def _rules(dockerfile: docker.Dockerfile, context: Path) -> Iterator[CheckFailed]:
    user = dockerfile.last("USER")
    if user is None or user.value.split(":")[0] in ("root", "0"):
        where = f"USER {user.value} (line {user.line})" if user else "no USER"
        yield problem(NOT_ROOT, f"{where}: it runs as root", FIX_USER)
    starts = [i for i in dockerfile.final if i.name in ("ENTRYPOINT", "CMD")]
    if not starts:
        yield problem("a CMD that starts uvicorn", "none", "CMD with uvicorn and the module:attribute")
    elif starts[-1].exec_form is None:
        yield problem(
            "CMD in exec form, so that uvicorn is PID 1 and gets docker stop's SIGTERM",
            f"{starts[-1].name} (line {starts[-1].line}) in shell form: /bin/sh is PID 1 and keeps SIGTERM",
            "a JSON list, one string per word",
        )
    said = " ".join(i.value for i in dockerfile.final if i.name in ("ENTRYPOINT", "CMD", "ENV"))
    if starts and "0.0.0.0" not in said:
        yield problem(
            "uvicorn to listen on every interface of the container (0.0.0.0), where a published port reaches it",
            "uvicorn's default, 127.0.0.1: the container itself, which no published port reaches",
            "uvicorn's --host option",
        )
    installs = [(f"RUN (line {i.line})", i.value) for i in dockerfile.instructions if i.name == "RUN"]
    installs += [(path.name, path.read_text(encoding="utf-8")) for path in sorted(context.glob("*.txt"))]
    heavy = [
        f"{where} installs {hit.group()}"
        for where, text in installs
        if (hit := TRAINING_STACK.search(COMMENT.sub("", text)))
    ]
    if heavy:
        expected = "only what serving imports installed (ONNX Runtime, FastAPI, uvicorn: requirements.txt)"
        yield problem(expected, f"{heavy[0]}, gigabytes the service never imports", "requirements.txt alone")
    for model in sorted(path.relative_to(context).as_posix() for path in context.rglob("*.onnx")):
        if not any(copies(i, model) for i in dockerfile.final if i.name in ("COPY", "ADD")):
            yield problem(f"the model ({model}) in the image", "no COPY brings it in", "a COPY of its folder")


def copies(instruction: docker.Instruction, path: str) -> bool:
    """Does this COPY take `path` from the context (as `.`, its folder, a pattern or itself)?"""
    words = instruction.exec_form or instruction.value.split()
    if any(word.startswith("--from") for word in words):
        return False
    sources = [posixpath.normpath(word.lstrip("/")) for word in words if not word.startswith("--")][:-1]
    folders = [path.rsplit("/", depth)[0] for depth in range(1, path.count("/") + 1)]
    return any(fnmatch.fnmatch(found, source) for source in sources for found in (path, *folders, "."))


# ---------------------------------------------------------------- the check


def check_container(
    build: str,
    run: str,
    context: str | Path = CONTEXT,
    folder: str | Path = ".",
    *,
    tag: str | None = None,
    push: str | None = None,
    say: Say = print,
) -> None:
    """The Dockerfile in `context` by the rules; then, with an engine, the lines run in `folder`."""
    lines = {"build": build, "tag": tag, "push": push, "run": run}
    for name, line in lines.items():
        require(line, f"write the {name} line as a string, as you would type it in a terminal")
    folder = Path(folder)
    path = folder / context / "Dockerfile"
    if not path.exists():
        raise problem(f"a Dockerfile at {path.relative_to(folder)}", "none", "the cells above first")
    dockerfile = docker.Dockerfile.parse(path.read_text(encoding="utf-8"))
    if not dockerfile.instructions:
        raise CheckFailed("not done yet: write the Dockerfile in place of the line # TODO in the %%writefile cell")
    if found := lint(dockerfile, path.parent):
        raise CheckFailed(f"{found[0]}" + (f" ({len(found) - 1} more after this one)" if len(found) > 1 else ""))
    pushed = shlex.split(push)[-1] if push else ""
    if push and not pushed.startswith(f"{registry.ADDRESS}/"):
        name = f"{registry.ADDRESS}/NAME:TAG"
        raise problem(f"the push to the registry at {registry.ADDRESS}", f"it pushes {pushed}", f"tagging {name}")
    if push and pushed not in run:
        raise problem(f"the run line to start what the push line pushed, {pushed}", run, "the same name in both")
    engine = docker.engine()
    if not engine.running:
        given = ", ".join(name for name, line in lines.items() if line)
        passed(f"the Dockerfile follows the lesson; your {given} lines did not run: {engine.reason}")
        return
    step(build, folder, say, "the build line to build the image", f"{CONTEXT} as the build context, its last word")
    if push:
        ship(tag, push, pushed, folder, dockerfile, say)
    container, url, uid, answers = judge_run(run, folder, path.parent, dockerfile, say, pushed)
    if get_ipython() is not None:  # the lines' output streamed while they ran; a pass ends in its one line
        clear_output()  # type: ignore[no-untyped-call]  # IPython: untyped
    via = f", pushed to {registry.ADDRESS} and pulled back" if push else ""
    passed(
        f"built{via} and run by your lines: uid {uid} serves /health and /predict at {url} ({answers} records, "
        f"the wrapper's species); container {container[:12]} and its image removed"
    )


def step(line: str, folder: Path, say: Say, expected: str, fix: str) -> None:
    say(f"$ {line}")
    try:
        docker.stream(shlex.split(line), folder, 900, say)
    except (docker.DockerError, ValueError, OSError) as error:
        raise problem(expected, f"it failed: {error}", fix) from None


def ship(tag: str | None, push: str, pushed: str, folder: Path, dockerfile: docker.Dockerfile, say: Say) -> None:
    """Tag and push as typed; then the local image goes, and comes back from the registry."""
    if tag:
        step(tag, folder, say, "the tag line to name the image for the registry", "docker tag SOURCE TARGET")
    step(push, folder, say, f"the push to reach {registry.ADDRESS}", "the starter cell again: it starts the registry")
    image = docker.image_id(pushed)
    if image not in {docker.image_id(base) for base in dockerfile.bases}:
        docker.remove_image(image)  # every local tag: the pull is real
    step(f"docker pull {pushed}", folder, say, f"{pushed} in the registry", "the push line again")


def judge_run(
    run: str, folder: Path, context: Path, dockerfile: docker.Dockerfile, say: Say, pushed: str = ""
) -> tuple[str, str, str, int]:
    """Run the run line; find its container, call it, look inside; then remove it and its image."""
    before = containers()
    say(f"$ {run}")
    process = output_of(shlex.split(run), folder)
    try:
        output = process.communicate(timeout=RUN_RETURNS_WITHIN)[0]
    except subprocess.TimeoutExpired:
        output = None
    started = sorted(ran_by(run, containers() - before) | set(re.findall(r"^[0-9a-f]{64}$", output or "", re.M)))
    logs = [output_of(["docker", "logs", "--follow", name], folder) for name in started]  # kept after --rm
    images = {pushed, *((docker.inspect(c) or {"Config": {"Image": ""}})["Config"]["Image"] for c in started)}
    try:
        if output is None:
            attached = f"it still held the prompt after {RUN_RETURNS_WITHIN:g} s"
            raise problem("the run line to start the container in the background", attached, "docker run's -d option")
        if process.returncode != 0 or not started:
            said = f"docker said:\n{output.strip()[-1500:]}\n"
            raise problem("the run line to start a container", said, "`docker ps` for what holds the port")
        port = published(started[-1])
        url = f"http://127.0.0.1:{port}"
        wait_answering(started[-1], port, url, logs[-1])
        answers = ask(url, context)
        uid = docker.api().containers.get(started[-1]).exec_run(["id", "-u"]).output.decode().strip()
        if uid == "0":
            raise problem(NOT_ROOT, "it runs as uid 0, root", FIX_USER)
        return started[-1], url, uid, answers
    finally:
        for name in started:
            docker.remove(name)
        for image in images - {"", *dockerfile.bases}:
            docker.remove_image(image)
        for each in (process, *logs):
            stop_process(each)
            each.communicate()


def output_of(command: list[str], folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def containers() -> set[str]:
    return {container.id for container in docker.api().containers.list(all=True, sparse=True)}


def ran_by(run: str, new: set[str]) -> set[str]:
    """The new containers of the run line's image: only the student's are judged and removed."""
    words = set(shlex.split(run))
    return {name for name in new if ((docker.inspect(name) or {}).get("Config") or {}).get("Image") in words}


def published(container: str) -> int:
    inspected = docker.inspect(container)
    if inspected is None:
        return 0  # wait_answering() says why
    bindings, ports = inspected["HostConfig"]["PortBindings"] or {}, inspected["NetworkSettings"]["Ports"] or {}
    found = [(inside, bound) for inside, each in bindings.items() for bound in each or []]
    if not found:
        fix = "docker run's -p option, with the address 127.0.0.1"
        raise problem("the run line to publish the service's port on this machine", "no port published", fix)
    for inside, bound in found:
        if not bound.get("HostIp", "").startswith("127."):
            everywhere = f"{inside} published on every interface ({bound.get('HostIp') or '0.0.0.0'}), the network's"
            raise problem("the port published on loopback only (127.0.0.1)", everywhere, "an address before -p's port")
    inside, bound = found[0]
    return int((ports.get(inside) or [bound])[0]["HostPort"])


def wait_answering(container: str, port: int, url: str, log: subprocess.Popen[str]) -> None:
    """Until /health answers 200 from outside; a container that stops is reported with its log."""
    if (status := docker.wait_answering(container, port, "/health", ANSWER_WITHIN)) == "answering":
        return
    try:
        printed = log.communicate(timeout=5)[0]  # `docker logs --follow` ends with a container that stopped
    except subprocess.TimeoutExpired:
        stop_process(log)
        printed = log.communicate()[0]
    tail = "\n".join(printed.strip().splitlines()[-15:]) or "(nothing)"
    if status == "running":
        fix = "-p with the port uvicorn listens on inside, last"
        raise problem(f"/health to answer at {url} within {ANSWER_WITHIN:g} s", f"no answer; its log:\n{tail}\n", fix)
    if status == "gone" and "No such container" in printed:
        raise problem("the container to keep serving", "it stopped, and --rm removed its log", "the line without --rm")
    fix = "the files in the image where the service looks for them, as in the folder"
    raise problem("the container to keep serving", f"it stopped; its log ends:\n{tail}\n", fix)


def ask(url: str, context: Path) -> int:
    from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS
    from penguins.serving.predictor import PenguinPredictor

    # With the package's model (and its sidecar) the wrapper here knows the answers; the capstone's has none.
    packaged = (context / MODEL).is_file() and (context / f"{MODEL}.json").is_file()
    predictor = PenguinPredictor.load("mlp-onnx", context / MODEL) if packaged else None
    records: list[dict[str, Any]] = [CLEAN_RECORD, *MESSY_RECORDS]
    for record in records:
        expected = predictor.predict_one(record).species if predictor else None
        answer = requests.post(f"{url}/predict", json=record, timeout=5)
        judge_species(answer, record, expected, "POST /predict", "the given service, as it is, in the image")
    return len(records)

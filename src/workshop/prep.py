"""`make prep` / `python -m workshop prep`: before class, on good Wi-Fi, fetch once whatever a notebook
takes from a registry (in class thirty laptops share the network), then `make doctor`."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from penguins.serving.paths import project_root
from penguins.training import build
from workshop import docker, doctor, node_runtime, serve_env

# The Node environment as `make node-env` installs it (a test ties the two): from the lock file,
# with install scripts off (onnxruntime-node's postinstall fetches GPU binaries from NuGet).
NODE_INSTALL = ("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
NODE_STAMP = ".installed"
STEPS = ("serve-env", "node-env", "images", "kind", "doctor")
KIND_PREP = "penguins-prep"  # a throwaway kind cluster: creating it pulls kind's node image


def serve_environment(say: Callable[[str], None]) -> None:
    serve_env.ensure(say=say)


def node_environment(say: Callable[[str], None]) -> None:
    """onnxruntime-node into notebooks/node/node_modules, unless the lock file is unchanged since."""
    if shutil.which("npm") is None:
        say("no Node.js/npm here: notebook 03 says what its Node.js cell would show")
        return
    folder = (project_root() or Path.cwd()) / node_runtime.FOLDER
    stamp = folder / "node_modules" / NODE_STAMP
    if stamp.exists() and stamp.stat().st_mtime >= (folder / "package-lock.json").stat().st_mtime:
        say(f"{node_runtime.PACKAGE} is up to date")
        return
    say(f"$ cd {node_runtime.FOLDER.as_posix()} && {' '.join(NODE_INSTALL)}")
    subprocess.run(NODE_INSTALL, cwd=folder, check=True)  # npm's own progress, as it comes
    stamp.touch()


def images(say: Callable[[str], None]) -> None:
    """The serving image built (pulling the Dockerfile's base) and the room's images pulled; without
    an engine, the commands."""
    engine = docker.engine()
    bases = set(docker.Dockerfile.read().bases)
    pulls = [image for image in docker.pulled_images() if image not in bases]
    build_command = ["docker", "build", "-f", docker.DOCKERFILE, "-t", docker.IMAGE, "."]
    if not engine.running:
        say(f"no Docker engine ({engine.reason}); with one running, prep would run:")
        for command in (build_command, *(["docker", "pull", image] for image in pulls)):
            say(f"  {docker.shell(command)}")
        return
    build.ensure()  # the model file the image copies
    built = docker.build(say=say)
    say(f"built {built.image} in {built.seconds:.0f} s")
    for image in pulls:
        if docker.has_image(image):
            say(f"{image} is cached")
        else:
            say(docker.shell(["docker", "pull", image]))
            subprocess.run(["docker", "pull", image], check=True)  # Docker's progress bars, as they come


def kind_node_image(say: Callable[[str], None]) -> None:
    """kind's node image (about 1 GB), pulled by creating a throwaway cluster: only kind's binary names it."""
    if shutil.which("kind") is None:
        say("no kind here: notebook 07c needs a cluster (k8s/README.md: install kind, then make prep)")
        return
    if not docker.engine().running:
        say(f"no Docker engine ({docker.engine().reason}): kind's node image not pulled")
        return
    say(f"$ kind create cluster --name {KIND_PREP} && kind delete cluster --name {KIND_PREP}")
    subprocess.run(["kind", "create", "cluster", "--name", KIND_PREP], check=True)  # kind's own progress
    subprocess.run(["kind", "delete", "cluster", "--name", KIND_PREP], check=True)


def run(steps: tuple[str, ...] = STEPS, say: Callable[[str], None] = print) -> int:
    """Run the steps in order, each announced and timed; the doctor's exit code, or 1 at a failed step."""
    actions = {"serve-env": serve_environment, "node-env": node_environment, "images": images, "kind": kind_node_image}
    status = 0
    for number, step in enumerate(steps, start=1):
        say(f"== prep {number}/{len(steps)}: {step} ==")
        if step == "doctor":
            status = doctor.run()
            continue
        started = time.perf_counter()
        try:
            actions[step](say)
        except (docker.DockerError, subprocess.SubprocessError) as failure:
            say(f"prep stopped at {step}: {failure}")
            return 1
        say(f"   {step} done in {time.perf_counter() - started:.0f} s")
    return status

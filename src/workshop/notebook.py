"""What the lecture notebooks share: the environment check, paths without the machine's layout
(committed outputs must not carry one), `%%needs_docker` cells, replay() of another notebook's cells."""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from penguins.serving.paths import ENV_VAR, artifacts_dir, project_root

KERNEL_NAME = "penguins-to-production"
KERNEL_DISPLAY_NAME = "Python (penguins-to-production)"
FIX = (
    f'run `make setup` in the project folder, then choose the kernel "{KERNEL_DISPLAY_NAME}" '
    "(JupyterLab: Kernel → Change Kernel; VS Code: Select Kernel)"
)


class WrongEnvironment(RuntimeError):
    """The kernel is not this project's environment; the message says how to fix it."""


def check_environment(notebook_dir: Path | None = None) -> None:
    """Stop with the fix unless `penguins` comes from the checkout holding `notebook_dir` (default: the
    working directory): a wrong kernel fails later with a confusing ImportError, or runs another's code."""
    import penguins

    root, package = project_root(), Path(penguins.__file__).resolve().parent
    here = Path(notebook_dir or Path.cwd()).resolve()
    if root is None or not here.is_relative_to(root):
        raise WrongEnvironment(
            f"this kernel imports penguins from {root or package} (another checkout, or none), "
            f"not from the one holding this notebook ({here}): {FIX}"
        )
    print(f"kernel:    {shown(sys.executable)} (Python {sys.version_info.major}.{sys.version_info.minor})")
    print(f"penguins:  {penguins.__version__} from {shown(package)}, this checkout")
    print(f"artifacts: {shown(artifacts_dir())}/")


def tidy_output() -> None:
    """Inline figures, so a Figure a helper returns shows as the cell's value; nothing outside IPython."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.enable_matplotlib("inline")


def shown(path: str | os.PathLike[str]) -> str:
    """`path` under the project root, `$PENGUINS_ARTIFACTS/` or `<temp>/`, else its name: never absolute.
    Compared as given and resolved (a virtual environment's python is a symlink)."""
    places = [(os.environ.get(ENV_VAR), f"${ENV_VAR}/"), (project_root(), ""), (tempfile.gettempdir(), "<temp>/")]
    for base, label in places:
        if not base:
            continue
        pairs = itertools.product(
            (Path(path).absolute(), Path(path).resolve()), (Path(base).absolute(), Path(base).resolve())
        )
        rest = next((found.relative_to(root).as_posix() for found, root in pairs if found.is_relative_to(root)), None)
        if rest is not None:
            return label + rest if rest != "." else label.rstrip("/") or "."
    return f".../{Path(path).name}"


def near(path: str | os.PathLike[str]) -> Path:
    """`path` relative to the working directory: short in the messages that print it, and still working."""
    try:
        return Path(os.path.relpath(Path(path).absolute(), Path.cwd()))
    except ValueError:  # Windows: another drive has no relative path
        return Path(path).absolute()


def scratch_folder(name: str) -> Path:
    """An empty folder for a notebook's throw-away files under artifacts/ (git-ignored): short paths."""
    folder = artifacts_dir() / "scratch" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return near(folder)


@functools.cache
def docker_missing() -> str:
    """Why the docker cells cannot run here, "" when they can; asked once per kernel."""
    from workshop import docker, room

    found = docker.engine()
    if not found.running:
        return found.reason
    return "" if room.compose_v2() else "Docker Compose v2 is missing (`docker compose version` fails)"


def needs_docker(line: str, cell: str) -> None:
    """`%%needs_docker <what the cell shows>`: run the cell when Docker answers, else say what it shows."""
    from IPython import get_ipython

    missing = docker_missing()
    if missing:
        print(f"Not run: {missing} (start Docker, then restart the kernel). With Docker running, {line.strip()}")
        return
    shell = get_ipython()
    shell.ex(shell.transform_cell(cell))


def load_ipython_extension(shell: Any) -> None:
    """`%load_ext workshop.notebook`: registers `%%needs_docker`."""
    shell.register_magic_function(needs_docker, "cell", "needs_docker")


def replay(notebook: str, tag: str) -> list[str]:
    """Do again, quietly, what the cells of `notebooks/<notebook>` tagged `tag` do (write their `%%writefile`
    files, run their `!` lines): those files keep one home, the cells a student reads. Their first lines."""
    path = (project_root() or Path.cwd()) / "notebooks" / notebook
    firsts = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if tag in cell["metadata"].get("tags", []):
            source = "".join(cell["source"])
            first, _, body = source.partition("\n")
            if first.startswith("%%writefile "):
                Path(first.split()[-1]).write_text(body + "\n", encoding="utf-8")
            for line in source.splitlines():
                if line.startswith("!"):
                    subprocess.run(line[1:], shell=True, check=True, capture_output=True, timeout=120)
            firsts.append(first)
    return firsts

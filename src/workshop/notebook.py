"""What every lecture notebook does first: prove it runs in this project's environment.

A notebook opened with the wrong kernel fails much later with a confusing ImportError, or,
worse, quietly imports `penguins` from another checkout. So the first cell of each notebook
calls check_environment(), which says which Python runs and where `penguins` comes from, and
stops with the fix when either is wrong.

Notebooks are committed with their outputs, and an absolute path such as `/home/ada/...` in
an output would leak one machine's layout into the repository (a test forbids it). shown()
and near() give every path a notebook prints or passes to a function that prints it a form
relative to the project.

Notebooks 07 and after run real `docker` commands in `!` cells. `%load_ext workshop.notebook`
gives them the cell magic `%%needs_docker <what the cell shows>`: where a Docker engine and
Compose v2 answer, the cell runs as written; elsewhere it prints what it would show, so a laptop
without Docker still runs the notebook top to bottom and reads the committed outputs.
replay() writes again the files another notebook writes in its cells (07a runs 07's room), so
those files have one home: the cells a student reads.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_NAME = "penguins-to-production"
KERNEL_DISPLAY_NAME = "Python (penguins-to-production)"
FIX = (
    f'run `make setup` in the project folder, then choose the kernel "{KERNEL_DISPLAY_NAME}" '
    "(JupyterLab: Kernel → Change Kernel; VS Code: Select Kernel)"
)


class WrongEnvironment(RuntimeError):
    """The kernel is not this project's environment; the message says how to fix it."""


def check_environment(notebook_dir: Path | None = None) -> None:
    """Check that `penguins` comes from the checkout holding this notebook; print what runs.

    `notebook_dir` is the notebook's folder (the kernel's working directory by default).
    """
    try:
        import penguins
        from penguins.serving.paths import project_root
    except ImportError:  # workshop and penguins are installed together, but say it anyway
        raise WrongEnvironment(f"this kernel ({sys.executable}) cannot import penguins: {FIX}") from None
    root = project_root()
    package = Path(penguins.__file__).resolve().parent
    here = Path(notebook_dir or Path.cwd()).resolve()
    if root is None:
        raise WrongEnvironment(f"penguins is installed from {package}, not from a checkout: {FIX}")
    if not here.is_relative_to(root):
        raise WrongEnvironment(
            f"this kernel imports penguins from another checkout ({root}), "
            f"not from the one holding this notebook ({here}): {FIX}"
        )
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    print(f"kernel:    {shown(sys.executable)} (Python {version})")
    print(f"penguins:  {penguins.__version__} from {shown(package)}, this checkout")
    print(f"artifacts: {shown(_artifacts())}/")


def tidy_output() -> None:
    """Inline figures, set once by the first cell of each notebook.

    `%matplotlib inline` lets a Figure returned by a workshop helper show as the cell's value.
    Tracebacks stay IPython's full ones: a typo during a live demo must show where it happened.
    A cell that fails on purpose catches its error and prints `type(err).__name__: err`
    instead. Does nothing outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.enable_matplotlib("inline")


def shown(path: str | os.PathLike[str]) -> str:
    """`path` as a notebook should print it: relative to the project root, never absolute.

    Outside the project a path is named by where it is: under $PENGUINS_ARTIFACTS (tests
    point it at a temporary folder), in the temporary folder, or just by its name.
    """
    from penguins.serving.paths import ENV_VAR, project_root

    places: list[tuple[Path, str]] = []
    if os.environ.get(ENV_VAR):
        places.append((Path(os.environ[ENV_VAR]), f"${ENV_VAR}/"))
    root = project_root()
    if root is not None:
        places.append((root, ""))
    places.append((Path(tempfile.gettempdir()), "<temp>/"))
    for base, label in places:
        rest = _relative(Path(path), base)
        if rest == ".":
            return label.rstrip("/") or "."
        if rest is not None:
            return label + rest
    return f".../{Path(path).name}"


def _relative(path: Path, base: Path) -> str | None:
    """`path` below `base` as text, trying both as given and with symlinks resolved
    (a virtual environment's python is a symlink); None when it is not below."""
    for candidate in (path.absolute(), path.resolve()):
        for root in (base.absolute(), base.resolve()):
            if candidate.is_relative_to(root):
                return candidate.relative_to(root).as_posix()
    return None


def near(path: str | os.PathLike[str]) -> Path:
    """`path` relative to the working directory, for calls whose error messages print it.

    A notebook's working directory is `notebooks/`, so `artifacts/x` becomes `../artifacts/x`:
    still a working path, and one without the machine's layout in it.
    """
    try:
        return Path(os.path.relpath(Path(path).absolute(), Path.cwd()))
    except ValueError:  # Windows: another drive has no relative path
        return Path(path).absolute()


def scratch_folder(name: str) -> Path:
    """An empty folder for a notebook's throw-away files, inside the artifacts folder.

    Kept under artifacts/ (git-ignored, removed by `make reset`) rather than in the system's
    temporary folder, so that error messages naming a file there show a short relative path.
    """
    folder = _artifacts() / "scratch" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return near(folder)


def _artifacts() -> Path:
    from penguins.serving.paths import artifacts_dir

    return artifacts_dir()


@functools.cache
def docker_missing() -> str:
    """Why the docker cells cannot run here, in words that fit a laptop; "" when they can.
    Asked once per kernel: after starting Docker, restart the kernel."""
    from workshop import docker, room

    found = docker.engine()
    if not found.running:
        return found.reason
    return "" if room.compose_v2() else "Docker Compose v2 is missing (`docker compose version` fails)"


def needs_docker(line: str, cell: str) -> None:
    """`%%needs_docker <what the cell shows>`: run the cell (its `!` lines too) when Docker answers,
    else say what it would show. Errors propagate: a failing docker cell fails the notebook."""
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
    """Run again, quietly and in the working directory, what the cells of `notebooks/<notebook>`
    tagged `tag` do: write their `%%writefile` files and run their `!` lines. Returns each cell's
    first line. Raises CalledProcessError when a command fails."""
    from penguins.serving.paths import project_root

    path = (project_root() or Path.cwd()) / "notebooks" / notebook
    firsts = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if tag not in cell["metadata"].get("tags", []):
            continue
        source = "".join(cell["source"])
        first, _, body = source.partition("\n")
        if first.startswith("%%writefile "):
            Path(first.split()[-1]).write_text(body + "\n", encoding="utf-8")
        for line in source.splitlines():
            if line.startswith("!"):
                subprocess.run(line[1:], shell=True, check=True, capture_output=True, timeout=120)
        firsts.append(first)
    return firsts

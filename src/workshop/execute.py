"""`make notebooks`: run the lecture notebooks top to bottom and save them with their outputs.

A reader on GitHub sees a notebook's outputs only if they are committed, so the lecture
notebooks are committed executed. Executing them here, not by hand in JupyterLab, makes the
outputs reproducible: a fresh kernel of this environment per notebook, cells in order, a fixed
hash seed, the models built first (so no notebook shows a training log), and the metadata that
changes on every run (timings) removed, so re-running gives a diff only where an output really
changed.

The notebook keeps `language_info` exactly as the kernel reported it, Python's version included:
JupyterLab writes the kernel's `language_info` into the notebook the moment the kernel connects,
and any difference (a missing `version`) marks the notebook modified before anyone touched it.

A cell may raise only if it is tagged `raises-exception`; any other error stops the run.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from workshop import slots
from workshop.notebook import KERNEL_DISPLAY_NAME, KERNEL_NAME
from workshop.stages import APPENDICES, NOTEBOOKS

if TYPE_CHECKING:
    from nbclient import NotebookClient
    from traitlets.config import Config

CELL_TIMEOUT = 300
# The kernel named "python3" is the ipykernel of the Python that runs this module.
EXECUTING_KERNEL = "python3"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
SEED_ENV = {"PYTHONHASHSEED": "0"}
# A lecture notebook is one 10-15 minute live slot; running it should not take more than this.
LIVE_SLOT_SECONDS = 60


def lecture_notebooks(folder: Path, names: Sequence[str] = NOTEBOOKS) -> list[Path]:
    """The stage notebooks (or others `names` lists) that exist in `folder`, in stage order."""
    candidates = (folder / f"{notebook}.ipynb" for notebook in names)
    return [path for path in candidates if path.exists()]


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes on every run; name the project's kernel, whichever kernel ran it.

    `language_info` stays as the kernel reported it (see the module's docstring).
    """
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def kernel_config(sockets: Path) -> Config:
    """Kernel settings: on Linux and macOS the kernel talks over local sockets.

    Over TCP, ipykernel warns on every start that the traffic is unencrypted; local (IPC)
    sockets in a private temporary folder are not reachable from the network at all.
    """
    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "kernel")}})


def notebook_client(
    notebook: nbformat.NotebookNode, folder: Path, sockets: Path, timeout: int, **options: Any
) -> NotebookClient:
    """A headless client that runs `notebook` in `folder` (as Jupyter would) in a fresh kernel of
    the project's environment; shared by `make notebooks` and `make check-exercises`."""
    from nbclient import NotebookClient

    return NotebookClient(
        notebook,
        kernel_name=EXECUTING_KERNEL,
        config=kernel_config(sockets),
        timeout=timeout,
        resources={"metadata": {"path": str(folder)}},
        **options,
    )


def execute(path: Path, timeout: int = CELL_TIMEOUT) -> float:
    """Execute one notebook in place (in its own folder, like Jupyter does); return the seconds.

    The run time goes into the notebook's metadata (rounded up to 5 s): it is part of the
    notebook's minutes in a live slot (`workshop.slots`), which the instructor guide states.
    """
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as sockets:
        notebook_client(nb, path.parent, Path(sockets), timeout, record_timing=False).execute()
    seconds = time.perf_counter() - started
    nb.metadata.setdefault(slots.METADATA, {})[slots.RUN_SECONDS] = slots.recorded_run_seconds(seconds)
    nbformat.write(normalise(nb), path)
    return seconds


def engine_note(paths: Sequence[Path]) -> str | None:
    """A warning when a notebook that types docker commands (its metadata says `needs: [docker]`)
    is about to run without a Docker engine: its docker cells would fail, and the committed
    outputs must show the real thing, so `make notebooks` says so before it starts."""
    needing = [
        path.stem
        for path in paths
        if "docker" in nbformat.read(path, as_version=4).metadata.get(slots.METADATA, {}).get("needs", [])
    ]
    if not needing:
        return None
    from workshop.docker import engine

    found = engine()
    if found.running:
        return None
    return (
        f"note: {found.reason}: {', '.join(needing)} type docker commands and need an engine; "
        "start one first (Docker Desktop, or the docker service on Linux)"
    )


def main(names: Sequence[str] = ()) -> int:
    """Execute the named notebooks (default: every lecture and appendix notebook) and report each time."""
    from penguins.serving.paths import project_root
    from penguins.training import build
    from workshop import guide, k8s, serve_env

    folder = (project_root() or Path.cwd()) / "notebooks"
    paths = [folder / f"{Path(name).stem}.ipynb" for name in names] or lecture_notebooks(
        folder, (*NOTEBOOKS, *APPENDICES)
    )
    note = engine_note(paths)
    if note:
        print(note)
    os.environ.update(SEED_ENV)  # the kernels inherit it
    # Where CI's cluster runs (.ci/k8s-cluster.sh), notebook 07c drives it with its own kubectl 1.20:
    # a machine's kubectl may be far outside the supported version skew.
    os.environ.update(k8s.ci_environment())
    build.ensure()  # so that no notebook shows a training log
    serve_env.ensure()  # notebook 03's torch-free runtime, for the same reason
    for path in paths:
        seconds = execute(path)
        print(f"executed notebooks/{path.name} in {seconds:.1f} s")
        if seconds > LIVE_SLOT_SECONDS:
            print(f"note: over the {LIVE_SLOT_SECONDS} s a live slot allows (on a busy machine, try again)")
    return guide.main(folder.parent)  # the run times are part of the minutes the guide states

"""`make notebooks` (`python -m scripts.execute`): run the lecture notebooks top to bottom and save them
with their outputs, made reproducible (a fresh kernel each, a fixed hash seed, the models built first,
per-run metadata dropped). A maintainer's tool, like the diagram: it writes committed files."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat

from scripts import guide, slots
from workshop.notebook import KERNEL_DISPLAY_NAME, KERNEL_NAME
from workshop.progress import notebook_client
from workshop.stages import APPENDICES, NOTEBOOKS

CELL_TIMEOUT = 300
KERNELSPEC = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
LIVE_SLOT_SECONDS = 60  # a lecture notebook is one 15-minute live slot; running it should take no longer


def lecture_notebooks(folder: Path, names: Sequence[str] = NOTEBOOKS) -> list[Path]:
    """The stage notebooks (or others `names` lists) that exist in `folder`, in stage order."""
    return [path for path in (folder / f"{name}.ipynb" for name in names) if path.exists()]


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes on every run; name the project's kernel, whichever kernel ran it (`language_info`
    stays: JupyterLab writes it on connecting and marks any change a modification)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def execute(path: Path, timeout: int = CELL_TIMEOUT) -> float:
    """Execute one notebook in place; its seconds, also recorded in it: they count in its minutes (slots)."""
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as sockets:
        notebook_client(nb, path.parent, Path(sockets), timeout, record_timing=False).execute()
    seconds = time.perf_counter() - started
    nb.metadata.setdefault(slots.METADATA, {})[slots.RUN_SECONDS] = slots.recorded_run_seconds(seconds)
    nbformat.write(normalise(nb), path)
    return seconds


def engine_note(paths: Sequence[Path]) -> str | None:
    """A warning before notebooks whose metadata says `needs: [docker]` run without an engine."""
    from workshop.docker import engine

    needing = [
        path.stem
        for path in paths
        if "docker" in nbformat.read(path, as_version=4).metadata.get(slots.METADATA, {}).get("needs", [])
    ]
    found = engine() if needing else None
    if found is None or found.running:
        return None
    return (
        f"note: {found.reason}: {', '.join(needing)} type docker commands and need an engine; "
        "start one first (Docker Desktop, or the docker service on Linux)"
    )


def main(names: Sequence[str] = ()) -> int:
    """Execute the named notebooks (default: every lecture and appendix notebook), then write the guide."""
    from penguins.serving.paths import project_root
    from penguins.training import build
    from workshop import k8s, serve_env

    folder = (project_root() or Path.cwd()) / "notebooks"
    paths = [folder / f"{Path(name).stem}.ipynb" for name in names] or lecture_notebooks(
        folder, (*NOTEBOOKS, *APPENDICES)
    )
    note = engine_note(paths)
    if note:
        print(note)
    os.environ["PYTHONHASHSEED"] = "0"  # the kernels inherit it
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


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scripts.execute", description=__doc__)
    parser.add_argument("names", nargs="*", help="notebook file names (default: all lecture notebooks)")
    raise SystemExit(main(parser.parse_args().names))

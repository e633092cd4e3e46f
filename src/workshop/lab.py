"""`make lab` and `make slides`: JupyterLab on this project, with its kernel, on loopback only.

JupyterLab serves the project root, so every relative link of a notebook opens: the picture
`../bench/results/bench.png`, the exercises and solutions beside `notebooks/`; it opens on the
notebooks folder. `make slides NB=...` starts the same server and opens one notebook in RISE's
presentation view instead.

The project's JupyterLab settings live in `.jupyterlab/overrides.json` (JupyterLab's own
"overrides" mechanism, passed as the application settings folder, never written to the user's
home): no news feed and no update check, so no "Would you like to get notified about official
Jupyter news?" pop-up covers the notebook, and RISE's white theme, whose fonts come with it (the
default theme fetches Google's); a student's own settings still win over them.

Before starting, the kernel "Python (penguins-to-production)" is (re-)registered when it is
missing or points at another Python: a second checkout's `make setup` silently re-points
the one shared kernel name at its own environment, and the notebooks would then run with
someone else's code. JupyterLab listens on 127.0.0.1 only: a classroom laptop on café Wi-Fi
should not serve its notebooks to the room.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from penguins import ports
from penguins.serving.paths import project_root
from workshop import stages
from workshop.notebook import KERNEL_DISPLAY_NAME, KERNEL_NAME

DEFAULT_PORT = stages.port(0)
HOST = "127.0.0.1"
SETTINGS_FOLDER = ".jupyterlab"  # overrides.json: the project's JupyterLab settings
# The server never fetches the news feed nor asks for a newer release: the settings stop the
# front-end from asking, these stop the server from reaching out if something else asks.
NO_NEWS = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
]


def root_dir() -> Path:
    """The folder JupyterLab serves: the project root, so links out of notebooks/ resolve."""
    return project_root() or Path.cwd()


def settings_dir() -> Path:
    """The project's JupyterLab settings: the folder holding overrides.json."""
    return root_dir() / SETTINGS_FOLDER


def start_url(notebook: str | None = None) -> str:
    """Where the browser lands: the notebooks folder, or one notebook in RISE's slide view."""
    if notebook is None:
        return "/lab/tree/notebooks"
    return f"/rise/notebooks/{notebook_file(notebook)}"


def notebook_file(name: str) -> str:
    """`04_wrapper_class`, `04_wrapper_class.ipynb` or `notebooks/04...` -> `04_wrapper_class.ipynb`."""
    stem = Path(name).name.removesuffix(".ipynb")
    return f"{stem}.ipynb"


def command(port: int = DEFAULT_PORT, token: str | None = None, slides: str | None = None) -> list[str]:
    """The JupyterLab command line; `--allow-root` only where we run as root (CI, containers).

    `slides` names a notebook to present: JupyterLab then opens the browser on it in RISE.
    """
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        *(["--no-browser"] if slides is None else []),
        f"--ServerApp.root_dir={root_dir()}",
        f"--LabApp.default_url={start_url(slides)}",
        f"--LabApp.app_settings_dir={settings_dir()}",
        *NO_NEWS,
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
    ]
    if token is not None:
        cmd.append(f"--IdentityProvider.token={token}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def kernel_is_current() -> bool:
    """True when the kernel KERNEL_NAME exists and starts this very Python."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return False
    return bool(spec.argv) and Path(spec.argv[0]).absolute() == Path(sys.executable).absolute()


def register_kernel() -> bool:
    """Register (for this user) the kernel that runs this Python; False if it already did."""
    if kernel_is_current():
        return False
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ipykernel",
            "install",
            "--user",
            "--name",
            KERNEL_NAME,
            "--display-name",
            KERNEL_DISPLAY_NAME,
        ],
        check=True,
        capture_output=True,
    )
    return True


def main(port: int = DEFAULT_PORT, token: str | None = None, slides: str | None = None) -> int:
    """Start JupyterLab in the foreground (Ctrl+C stops it); 1 if the port is taken or the
    notebook to present does not exist."""
    target = "slides" if slides else "lab"
    if slides is not None and not (root_dir() / "notebooks" / notebook_file(slides)).exists():
        print(
            f"no notebooks/{notebook_file(slides)}: name one of notebooks/ (make slides NB=04_wrapper_class)",
            file=sys.stderr,
        )
        return 1
    if not ports.is_free(port, HOST):
        print(ports.in_use_message(port, HOST).replace("(PORT=", f"(make {target} PORT="), file=sys.stderr)
        return 1
    if register_kernel():
        print(f'registered the kernel "{KERNEL_DISPLAY_NAME}" for {sys.executable}')
    cmd = command(port, token, slides)
    print(f"JupyterLab on http://{HOST}:{port}{start_url(slides)} (Ctrl+C stops it)", flush=True)
    if os.name == "posix":
        os.execv(cmd[0], cmd)  # become JupyterLab: one process to stop, signals go straight to it
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0

"""`make lab` and `make slides`: JupyterLab on the project root (so relative links open) with the
settings of `.jupyterlab/` (no news or update pop-ups, RISE's white theme), the project's kernel, and
127.0.0.1 only: a laptop on café Wi-Fi serves nothing to the room."""

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


def root_dir() -> Path:
    return project_root() or Path.cwd()


def notebook_file(name: str) -> str:
    """`04_wrapper_class`, `04_wrapper_class.ipynb` or `notebooks/04...` -> `04_wrapper_class.ipynb`."""
    return Path(name).name.removesuffix(".ipynb") + ".ipynb"


def command(port: int = DEFAULT_PORT, token: str | None = None, slides: str | None = None) -> list[str]:
    """The JupyterLab command line, opening on `notebooks/` or on the notebook `slides` in RISE."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        *(["--no-browser"] if slides is None else []),
        f"--ServerApp.root_dir={root_dir()}",
        f"--LabApp.default_url={start_url(slides)}",
        f"--LabApp.app_settings_dir={root_dir() / '.jupyterlab'}",
        # The settings stop the front-end from asking for news or a newer release; these stop the server.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        *([] if token is None else [f"--IdentityProvider.token={token}"]),
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]


def start_url(notebook: str | None = None) -> str:
    """Where the browser lands: the notebooks folder, or one notebook in RISE's slide view."""
    return "/lab/tree/notebooks" if notebook is None else f"/rise/notebooks/{notebook_file(notebook)}"


def register_kernel() -> bool:
    """Point this user's project kernel at this Python (another checkout's `make setup` may have taken
    the name); True if it had to."""
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
        if argv and Path(argv[0]).absolute() == Path(sys.executable).absolute():
            return False
    except NoSuchKernel:
        pass
    install(user=True, kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME)
    return True


def main(port: int | None = None, token: str | None = None, notebook: str | None = None) -> int:
    """JupyterLab in the foreground, or `notebook` as slides; 1 if the port is taken or the notebook missing."""
    port, slides = port or DEFAULT_PORT, notebook
    if slides is not None and not (root_dir() / "notebooks" / notebook_file(slides)).exists():
        print(
            f"no notebooks/{notebook_file(slides)}: name one of notebooks/ (make slides NB=04_wrapper_class)",
            file=sys.stderr,
        )
        return 1
    if not ports.is_free(port, HOST):
        target = "slides" if slides else "lab"
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

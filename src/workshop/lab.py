"""`make lab`: JupyterLab on the lecture notebooks, with the project's kernel, on loopback only.

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


def notebooks_dir() -> Path:
    """The folder JupyterLab opens: the project's notebooks/."""
    return (project_root() or Path.cwd()) / "notebooks"


def command(port: int = DEFAULT_PORT, token: str | None = None) -> list[str]:
    """The JupyterLab command line; `--allow-root` only where we run as root (CI, containers)."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.root_dir={notebooks_dir()}",
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


def main(port: int = DEFAULT_PORT, token: str | None = None) -> int:
    """Start JupyterLab in the foreground (Ctrl+C stops it); 1 if the port is taken."""
    if not ports.is_free(port, HOST):
        print(ports.in_use_message(port, HOST).replace("(PORT=", "(make lab PORT="), file=sys.stderr)
        return 1
    if register_kernel():
        print(f'registered the kernel "{KERNEL_DISPLAY_NAME}" for {sys.executable}')
    cmd = command(port, token)
    print(f"JupyterLab on http://{HOST}:{port}/lab (Ctrl+C stops it)", flush=True)
    if os.name == "posix":
        os.execv(cmd[0], cmd)  # become JupyterLab: one process to stop, signals go straight to it
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0

"""Is a TCP port free, and if not, which process holds it?

A server that cannot bind its port should say who is in the way, not print a traceback:
"port 8004 is in use by python3 (pid 4242)" tells a student what to stop.
"""

from __future__ import annotations

import shutil
import socket
import subprocess


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (we try to bind it, then let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the operating system says is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def holder(port: int) -> str | None:
    """'name (pid N)' of the process listening on `port`, when the system tells us."""
    for command in (
        ["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
        ["ss", "-Hltnp", f"sport = :{port}"],
    ):
        if shutil.which(command[0]):
            found = _ask(command)
            if found:
                return found
    return None


def _ask(command: list[str]) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    if command[0] == "lsof":
        fields = {line[0]: line[1:] for line in out.splitlines() if line}
        return f"{fields['c']} (pid {fields['p']})" if "p" in fields and "c" in fields else None
    # ss prints users:(("name",pid=N,fd=M))
    if 'users:(("' not in out:
        return None
    name, rest = out.split('users:(("', 1)[1].split('",', 1)
    pid = rest.split("pid=", 1)[1].split(",", 1)[0]
    return f"{name} (pid {pid})"


def in_use_message(port: int, host: str = "127.0.0.1") -> str:
    """One line for a port that is taken, naming its holder where possible."""
    who = holder(port)
    by = f" by {who}" if who else ""
    return (
        f"port {port} on {host} is already in use{by}: stop it (make stop) "
        f"or choose another port (PORT={port + 100})"
    )

"""Is a TCP port free, and if not, which process holds it?

A server that cannot bind its port should say who is in the way, not print a traceback:
"port 9000 is in use by python3 (pid 4242)" tells a student what to stop.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psutil._ntuples import pconn, sconn


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
    """'name (pid N)' of the process listening on `port`, when the system tells us.

    The whole system's table first; where that needs privileges (macOS), each process we may
    look at, one by one. psutil is imported here, when a port is taken: every server starts
    without it.
    """
    import psutil

    try:
        pids = {c.pid for c in psutil.net_connections("tcp") if _listens(c, port)}
    except psutil.AccessDenied:
        pids = set()
        for process in psutil.process_iter():
            try:
                if any(_listens(c, port) for c in process.net_connections("tcp")):
                    pids.add(process.pid)
            except psutil.Error:
                continue
    for pid in sorted(pid for pid in pids if pid):
        try:
            return f"{psutil.Process(pid).name()} (pid {pid})"
        except psutil.Error:
            continue
    return None


def _listens(connection: sconn | pconn, port: int) -> bool:
    """A listening socket on `port` (laddr is an empty tuple for some sockets)."""
    return connection.status == "LISTEN" and getattr(connection.laddr, "port", None) == port


def in_use_message(port: int, host: str = "127.0.0.1") -> str:
    """One line for a port that is taken, naming its holder where possible."""
    who = holder(port)
    by = f" by {who}" if who else ""
    return (
        f"port {port} on {host} is already in use{by}: stop it (make stop) or choose another port (PORT={port + 100})"
    )

"""Stopping a child process politely: SIGTERM, a bounded wait, SIGKILL only if it lingers.

Servers started by the demo, the notebook helper, the benchmarks and the tests all stop
the same way, so a uvicorn child always gets its graceful shutdown first.
"""

from __future__ import annotations

import os
import signal
import subprocess


def stop(process: subprocess.Popen, timeout: float = 10.0, group: bool = False) -> int | None:
    """Stop `process` (its whole process group when `group`, where groups exist); its exit code."""
    if process.poll() is None:
        _signal(process, signal.SIGTERM, group)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal(process, getattr(signal, "SIGKILL", signal.SIGTERM), group)
            process.wait()
    return process.returncode


def _signal(process: subprocess.Popen, sig: int, group: bool) -> None:
    """The child's process group when asked and possible (POSIX), else the child itself."""
    try:
        if group and hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass

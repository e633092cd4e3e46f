"""workshop.server.stop_process: the one way every child process is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import gone, wait_gone
from workshop.server import stop_process


def _python(code: str, **options: object) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, **options)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def test_a_process_that_honours_sigterm_exits_by_it() -> None:
    process = _python("import time; print('ready', flush=True); time.sleep(60)")
    assert stop_process(process, timeout=10) == -15


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    process = _python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    started = time.monotonic()
    assert stop_process(process, timeout=0.5) == -9
    assert time.monotonic() - started < 10


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_group_stops_the_childs_own_children_too() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print(c.pid, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert parent.stdout is not None
    grandchild = int(parent.stdout.readline())
    stop_process(parent, timeout=10, group=True)
    assert wait_gone(grandchild, within=5)


def test_a_process_that_already_exited_keeps_its_code() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    assert stop_process(process) == 3


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's; elsewhere atexit stops them")
def test_a_command_server_start_ran_dies_with_the_process_that_was_killed() -> None:
    """nbval kills a kernel (SIGKILL: no atexit); `kubectl proxy` does not watch its parent as our servers do."""
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from penguins.ports import free_port; from workshop.server import start; "
            "port = free_port(); "
            "server = start([sys.executable, '-m', 'http.server', '-b', '127.0.0.1', str(port)], port=port, "
            "ready_path='/', echo=False); print(server.pid, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    grandchild = int(starter.stdout.readline())
    try:
        starter.kill()
        starter.wait()
        assert wait_gone(grandchild, within=5), "the command outlived the process that started it"
    finally:
        if not gone(grandchild):
            os.kill(grandchild, signal.SIGKILL)

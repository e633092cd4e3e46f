"""Classroom tools: the stage map, the doctor and the port helper."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys

import pytest

from penguins import ports
from tests.conftest import ROOT
from workshop import doctor
from workshop.stages import PORTS


def test_port_helper_names_the_holder() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not ports.is_free(port)
        message = ports.in_use_message(port)
    assert f"port {port}" in message and "in use" in message
    assert f"pid {__import__('os').getpid()}" in message
    assert ports.is_free(port)


def test_doctor_flags_a_busy_stage_port() -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", PORTS[0]))
            sock.listen()
        except OSError as error:  # a stage server of another test holds it: busy all the same
            if error.errno != errno.EADDRINUSE:
                raise
        ok, text = doctor.stage_ports()
    assert not ok and f"port {PORTS[0]}" in text


def test_doctor_runs_and_reports_every_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workshop", "doctor"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(doctor.CHECKS) + 1
    assert all(line.startswith(("OK ", "FIX")) for line in lines[:-1])
    assert "Python 3.11" in result.stdout and "torch 2.13.0" in result.stdout


def test_doctor_names_a_requirement_of_pyproject_that_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment line checks pyproject.toml's requirements (train and dev extras), not a list of its own."""
    assert doctor.environment()[0], doctor.environment()[1]
    required = doctor.md.requires("penguins-to-production") or []
    extra = ["not-installed-here>=1", 'bench-only; extra == "bench"', 'windows-only; sys_platform == "win32"']
    monkeypatch.setattr(doctor.md, "requires", lambda name: [*required, *extra])
    assert doctor.environment() == (False, "not installed: not-installed-here: run `make setup`")

"""How pytest runs these notebooks (`make test` runs `pytest ... solutions --nbval-lax`).

Not part of the exercises: this file only sets up the test run.

- Models go to a private temporary folder. The notebooks find their models through
  $PENGUINS_ARTIFACTS, which nbval's kernels inherit from pytest, so a test run never reads
  or writes the student's own artifacts/. When notebooks/conftest.py has already made such a
  folder in this run, the solutions share it and the models are built once.
- Each notebook runs in a kernel of the Python that runs pytest, whatever kernel its metadata
  names. The registered kernel "Python (penguins-to-production)" may point at another checkout.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from penguins.paths import ENV_VAR

_created: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "nbval_current_env"):
        config.option.nbval_current_env = True
    if not os.environ.get(ENV_VAR):
        folder = tempfile.mkdtemp(prefix="penguins-solutions-")
        _created.append(folder)
        os.environ[ENV_VAR] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    while _created:
        folder = _created.pop()
        if os.environ.get(ENV_VAR) == folder:
            del os.environ[ENV_VAR]
        shutil.rmtree(folder, ignore_errors=True)

"""How pytest runs this repository: `make test` = `pytest tests notebooks solutions --nbval-lax`.

One file for the whole run, so the folders cannot drift apart:

- Models go to one private temporary folder, $PENGUINS_ARTIFACTS, which the tests, and the
  notebooks' kernels (they inherit pytest's environment), all use: a test run never reads or
  writes the student's own artifacts/, each notebook proves it builds what it needs, and the
  models are trained once per run.
- Each notebook runs in a kernel of the Python that runs pytest, whatever kernel its metadata
  names: the registered kernel "Python (penguins-to-production)" may point at another checkout.
- A cell tagged `raises-exception` must really raise. nbval only allows the error; we also
  require it, so a lesson that shows a failure cannot silently stop failing.
- A notebook that runs containers says so in its metadata (`"penguins": {"needs_engine": true}`):
  without a Docker engine its cells skip and say why; under CI=true they fail instead. The
  notebook itself never mentions the machine it runs on.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile

import pytest

from penguins.serving.paths import ENV_VAR

_created: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "nbval_current_env"):
        config.option.nbval_current_env = True
    if not os.environ.get(ENV_VAR):
        folder = tempfile.mkdtemp(prefix="penguins-test-artifacts-")
        _created.append(folder)
        os.environ[ENV_VAR] = folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    cell = getattr(item, "cell", None)
    if cell is not None and "raises-exception" in cell.get("metadata", {}).get("tags", []):
        outputs = getattr(item, "test_outputs", None) or []
        if not any(output.get("output_type") == "error" for output in outputs):
            pytest.fail(f"{item.name} is tagged raises-exception but raised nothing", pytrace=False)
    return result


@functools.cache
def _no_engine() -> str | None:
    """Why no Docker engine answers here, or None when one does (asked once per run)."""
    from workshop.docker import engine

    found = engine()
    return None if found.running else found.reason


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    notebook = getattr(item.parent, "nb", None)  # nbval's notebook, for a cell of one
    if notebook is None or not notebook.metadata.get("penguins", {}).get("needs_engine"):
        return
    reason = _no_engine()
    if reason is None:
        return
    message = f"{item.parent.name} runs containers, but: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, so it must run: {message}", pytrace=False)
    pytest.skip(message)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _created:
        folder = _created.pop()
        if os.environ.get(ENV_VAR) == folder:
            del os.environ[ENV_VAR]
        shutil.rmtree(folder, ignore_errors=True)

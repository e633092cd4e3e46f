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
- A notebook whose metadata says `"penguins": {"needs": ["docker"]}` types its docker commands
  in plain view, so it cannot run without an engine: where none answers it is skipped with the
  reason, except under CI=true, where it must run (the engine is started by tests/ first).
- The notebooks that drive a Kubernetes cluster (07c, lecture and exercise) get the session's
  one cluster (tests/conftest.py: under CI=true .ci/k8s-cluster.sh starts it) before their
  kernel starts; the test that stops it and proves nothing is left runs last of all.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from penguins.serving.paths import ENV_VAR

_created: list[str] = []
K8S_NOTEBOOKS = ("07c_kubernetes.ipynb",)
LAST = "test_stop_leaves_nothing_behind"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "nbval_current_env"):
        config.option.nbval_current_env = True
    if not os.environ.get(ENV_VAR):
        folder = tempfile.mkdtemp(prefix="penguins-test-artifacts-")
        _created.append(folder)
        os.environ[ENV_VAR] = folder


@functools.cache
def _needs(path: Path) -> tuple[str, ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("penguins", {}).get("needs", []))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.name == LAST)  # stable: everything else keeps its order
    needing = [item for item in items if item.path.suffix == ".ipynb" and "docker" in _needs(item.path)]
    if not needing or os.environ.get("CI") == "true":
        return
    from workshop.docker import engine

    if not (found := engine()).running:
        for item in needing:
            item.add_marker(pytest.mark.skip(reason=f"{item.path.name} types docker commands: {found}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    cell = getattr(item, "cell", None)
    if cell is not None and "raises-exception" in cell.get("metadata", {}).get("tags", []):
        outputs = getattr(item, "test_outputs", None) or []
        if not any(output.get("output_type") == "error" for output in outputs):
            pytest.fail(f"{item.name} is tagged raises-exception but raised nothing", pytrace=False)
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before nbval starts the kernel of a notebook that drives a cluster: the cluster, and kubectl
    pointed at it in the environment the kernel inherits (without CI=true: only if one runs)."""
    if item.path.name in K8S_NOTEBOOKS and item.path.suffix == ".ipynb":
        from tests.conftest import use_k8s_cluster

        reason = use_k8s_cluster()
        if reason and os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so notebook {item.path.name} must drive a cluster, but: {reason}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.conftest import _k8s_started, stop_k8s_cluster

    if _k8s_started:
        stop_k8s_cluster()


def pytest_unconfigure(config: pytest.Config) -> None:
    while _created:
        folder = _created.pop()
        if os.environ.get(ENV_VAR) == folder:
            del os.environ[ENV_VAR]
        shutil.rmtree(folder, ignore_errors=True)

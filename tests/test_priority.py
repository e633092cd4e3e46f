"""The run's floor gets the CPU first (conftest.yield_to_the_chain): under xdist as root, as CI
runs `make test`, a test of the engine's chain or the cluster's runs at nice 0 and every other at nice
YIELDING."""

import os

import pytest

from conftest import YIELDING

pytestmark = pytest.mark.skipif(
    not (os.environ.get("PYTEST_XDIST_WORKER") and getattr(os, "geteuid", lambda: -1)() == 0),
    reason="priorities change only under xdist, as root (make test in CI)",
)


def test_a_test_off_the_chain_yields_the_cpu() -> None:
    assert os.getpriority(os.PRIO_PROCESS, 0) == YIELDING


def test_the_engine_s_chain_keeps_its_priority(base_image: str) -> None:
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0


def test_the_cluster_s_chain_keeps_its_priority(k8s_cluster: None) -> None:
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0

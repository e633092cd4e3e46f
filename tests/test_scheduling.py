"""How `make test` hands its groups to the xdist workers (conftest.pytest_xdist_make_scheduler),
driven by workers that behave as xdist's do: a test runs once the worker knows the next one, so a
worker's last test waits until more work or the shutdown comes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import conftest
from conftest import CLUSTER, ENGINE


class Worker:
    """A worker as the scheduler sees it: what it was sent, what it ran, whether it was told to stop."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.queue: list[int] = []
        self.ran: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True

    def can_run(self) -> bool:
        return len(self.queue) >= 2 or bool(self.queue and self.shutting_down)


def run(groups: dict[str, str], workers: int, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Worker]:
    """Every test of `groups` (test id -> group, in collection order) through the scheduler, the
    workers taking turns one test at a time; the workers then. Fails if they all wait and tests remain."""
    (folder / "gw0.json").write_text(json.dumps(groups), encoding="utf-8")
    monkeypatch.setenv(conftest.GROUPS, str(folder))
    config: Any = SimpleNamespace(
        getvalue=lambda name: {"dist": "loadgroup", "tx": [f"{workers}*popen"]}[name],
        option=SimpleNamespace(loadscopereorder=True),
    )
    scheduler: Any = conftest.pytest_xdist_make_scheduler(config, None)
    nodes = [Worker(f"gw{i}") for i in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, list(groups))
    scheduler.schedule()
    while any(node.queue for node in nodes) or scheduler.workqueue:
        for node in [node for node in nodes if node.can_run()]:
            node.ran.append(index := node.queue.pop(0))
            scheduler.mark_test_complete(node, index)
        if not any(node.can_run() for node in nodes):
            assert scheduler.tests_finished, (
                f"every worker waits, and {len(scheduler.workqueue)} groups were never sent"
            )
            for node in nodes:  # xdist's controller: all done, so each worker may run its last test
                node.shutdown()
    return nodes


def suite() -> dict[str, str]:
    """A run's shape: the engine's long chain, the cluster's after it in collection, many small groups."""
    groups = {f"tests/test_room.py::test_{i}": ENGINE for i in range(40)}
    groups |= {f"tests/test_m{m}.py::test_{i}": f"tests/test_m{m}.py" for m in range(12) for i in range(3)}
    return groups | {f"tests/test_k8s_cluster.py::test_{i}": CLUSTER for i in range(6)}


@pytest.fixture
def ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[int, str]]]:
    """The suite on 4 workers: each worker's tests as it ran them, (collection index, group)."""
    groups = list(suite().values())
    return [[(index, groups[index]) for index in node.ran] for node in run(suite(), 4, tmp_path, monkeypatch)]


def test_every_test_runs_once_and_each_group_in_one_worker_in_order(ran: list[list[tuple[int, str]]]) -> None:
    assert sorted(index for worker in ran for index, _ in worker) == list(range(len(suite())))
    for group in set(suite().values()):
        workers = [worker for worker in ran if any(found == group for _, found in worker)]
        assert len(workers) == 1, f"group {group} was split over {len(workers)} workers"
        order = [index for index, found in workers[0] if found == group]
        assert order == sorted(order), f"group {group} ran out of collection order"


def test_the_cluster_s_chain_goes_last_to_a_worker_done_with_the_rest(ran: list[list[tuple[int, str]]]) -> None:
    (runner,) = [worker for worker in ran if any(group == CLUSTER for _, group in worker)]
    assert all(group != ENGINE for _, group in runner), "the cluster's chain runs beside the engine's, not behind it"
    first = next(i for i, (_, group) in enumerate(runner) if group == CLUSTER)
    assert all(group == CLUSTER for _, group in runner[first:]), "nothing after it in its worker"


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_no_worker_count_leaves_a_group_unsent(workers: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = run(suite(), workers, tmp_path, monkeypatch)
    assert sum(len(node.ran) for node in nodes) == len(suite())

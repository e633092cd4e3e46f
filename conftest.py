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
- Every test carries one marker saying what it needs (NEEDS below): `unit`, `service` (the app in
  process), `servers` (processes on loopback: servers, kernels, a browser, pip), `engine` (a Docker
  engine or a Kubernetes cluster) or `content` (the course's text and files read as files).
  `make test-fast` runs `unit or service`; `make test` runs everything.
- With pytest-xdist (`make test`: `-n 4 --dist loadgroup`) what shares a fixed host port or the
  room's compose project runs in one worker, in collection order, and so does what drives the
  cluster: GROUPS below.
  The models are trained once, before the workers start, so no two processes write them at once.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest

from penguins.serving.paths import ENV_VAR

_created: list[str] = []
K8S_NOTEBOOKS = ("07c_kubernetes.ipynb",)
LAST = "test_stop_leaves_nothing_behind"

# What a test module needs; a module not named here is `unit`. Tests using an engine fixture are
# `engine` whatever their module, and those using a server fixture of their module `servers`.
NEEDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "test_api",
            "test_api_key",
            "test_metrics",
            "test_request_id",
            "test_v2",
            "test_schemathesis",
            "test_room_parts",
            "test_checks_ex06",
            "test_one_path",
            "test_docs_offline",
        ),
        "service",
    ),
    **dict.fromkeys(
        (
            "test_serve_live",
            "test_client",
            "test_notebook_server",
            "test_processes",
            "test_v2_tritonclient",
            "test_lab_browser",
            "test_packaging",
            "test_exercises",
            "test_progress",
            "test_train_script",
            "test_bench",
            "test_node_runtime",
            "test_cli",
            "test_exercise_variants",
            "test_checks",
            "test_workshop_tools",
        ),
        "servers",
    ),
    **dict.fromkeys(("test_container", "test_room", "test_room_faults", "test_k8s_cluster"), "engine"),
    **dict.fromkeys(
        (
            "test_notebook_shape",
            "test_instructor_guide",
            "test_slots",
            "test_what_students_see",
            "test_readme_targets",
            "test_notebooks",
            "test_classroom_notebooks",
            "test_statements",
            "test_pins",
            "test_workflow",
            "test_notebook_08",
            "test_grafana_files",
            "test_stages",
        ),
        "content",
    ),
}
SLOW_MODULES = ("test_schemathesis", "test_training")  # hundreds of generated requests; three trainings
FAST = "(unit or service) and not slow"  # make test-fast: `pytest tests --fast`
CHECK_CALL = re.compile(r"^checks\.check_\w+\(", re.MULTILINE)  # an exercise's check cell
# A test whose own code starts a fresh interpreter or a command (seconds each, torch imported anew).
STARTS_A_PROCESS = re.compile(r"\brun_python\(|\bsubprocess\.(run|Popen|check_output|check_call)\(|\bcli\(")
ENGINE_FIXTURES = {"base_image", "room_images", "the_room", "registry_up", "k8s_cluster"}
SERVER_FIXTURES = {"server", "docs_server", "stage04", "lab", "browser"}

# Who shares what: what uses the Docker engine's room is one group, run in one worker: the room's
# ports (8443, 8080, 8010, 9090, 9091) and compose project, stage 06's registry (5001) and
# container (8006), the release (09). The cluster, whose node is that same engine, is a second
# chain: its ports are free ones, its containers carry the kubelet's labels, and the one tag both
# use (a model version's) is only built, never removed, by either (test_container pushes and
# removes a tag of its own). Most of the two chains' time is waiting (a rollout, a probe, a load
# window), so on 2 cores they run side by side. The stage servers' port 8004 (notebooks 05a and
# 05b) is a third group.
GROUPS = "PENGUINS_XDIST_GROUPS"  # the folder where each worker writes its tests' groups
ENGINE, CLUSTER, STAGE_04 = "engine", "cluster", "port-8004"
CHAINS = (ENGINE, CLUSTER)  # the groups that set the run's wall time, at nice 0 (yield_to_the_chain)
YIELDING = 10  # the nice value of every other group under CI
GROUP_MODULES = {
    **dict.fromkeys(("test_container", "test_release", "test_workshop_tools"), ENGINE),
    "test_k8s_cluster": CLUSTER,
}
GROUP_NOTEBOOKS = {
    **dict.fromkeys(
        (
            "06_container",
            "07_server_room",
            "07a_faults",
            "07b_new_versions",
            "08_running_it",
            "09_pipeline",
            "99_blank_folder",
        ),
        ENGINE,
    ),
    "07c_kubernetes": CLUSTER,
    **dict.fromkeys(("05a_first_service", "05b_addresses_and_async"), STAGE_04),
}
# The blank exercises test_exercises runs that use the engine: 06's starter starts the registry, 07's
# builds stage 06's image when missing. The others' blanks (08, 99) stop at "not done yet" before it.
BLANK_ON_THE_ENGINE = ("06_container.ipynb", "07_server_room.ipynb")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true", help=f"the quick loop (make test-fast): -m {FAST!r}")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under --fast a module of slow tests is not even collected: importing it (torch; schemathesis
    and the two schemas) costs seconds in each worker of the quick loop."""
    return True if config.getoption("fast", False) and collection_path.stem in SLOW_MODULES else None


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("fast", False):
        config.option.markexpr = FAST
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        _created.append(tempfile.mkdtemp(prefix="penguins-xdist-groups-"))
        os.environ[GROUPS] = _created[-1]
    if hasattr(config.option, "nbval_current_env"):
        config.option.nbval_current_env = True
    if not os.environ.get(ENV_VAR):
        folder = tempfile.mkdtemp(prefix="penguins-test-artifacts-")
        _created.append(folder)
        os.environ[ENV_VAR] = folder


@functools.cache
def _needs(path: Path) -> tuple[str, ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("penguins", {}).get("needs", []))


def need_of(item: pytest.Item) -> str:
    """The one marker saying what `item` needs to run (see NEEDS)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.path.suffix == ".ipynb":
        return "engine" if GROUP_NOTEBOOKS.get(item.path.stem) in CHAINS else "servers"
    if fixtures & ENGINE_FIXTURES:
        return "engine"
    if fixtures & SERVER_FIXTURES or STARTS_A_PROCESS.search(_source(item)):
        return "servers"
    return NEEDS.get(item.path.stem, "unit")


def _source(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    try:
        return inspect.getsource(function) if function else ""
    except (OSError, TypeError):
        return ""


def group_of(item: pytest.Item) -> str:
    """The xdist group of `item`: what it shares with others (a port, the room, the cluster), else
    its file (a notebook's cells share a kernel; a module's fixtures are made once), except that
    each blank exercise test_exercises runs is a group of its own, or the engine's."""
    if uses_the_cluster(item):
        return CLUSTER
    if need_of(item) == "engine":
        return ENGINE
    where = f"{item.path.parent.name}/{item.path.name}"
    if item.path.suffix == ".ipynb":
        return GROUP_NOTEBOOKS.get(item.path.stem, where)
    notebook = getattr(getattr(item, "callspec", None), "params", {}).get("name")  # test_exercises' notebook
    if isinstance(notebook, str) and notebook.endswith(".ipynb"):
        return ENGINE if notebook in BLANK_ON_THE_ENGINE else f"{where}[{notebook}]"
    return GROUP_MODULES.get(item.path.stem, where)


def uses_the_cluster(item: pytest.Item) -> bool:
    """The cluster's tests and notebooks: their own chain, handed out last (GroupScheduling), so its
    control plane, started by the first of them and stopped after the last, spends no CPU while
    every other group still runs."""
    return "k8s_cluster" in getattr(item, "fixturenames", ()) or (
        item.path.suffix == ".ipynb" and item.path.name in K8S_NOTEBOOKS
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    """Each test's markers as it is collected, before any plugin reads them (-m, xdist's groups)."""
    item.add_marker(need_of(item))
    if item.path.stem in SLOW_MODULES:
        item.add_marker("slow")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: (item.name == LAST, uses_the_cluster(item)))  # stable: the rest keeps its order
    groups = {item.nodeid: group_of(item) for item in items}
    if (folder := os.environ.get(GROUPS)) and (worker := os.environ.get("PYTEST_XDIST_WORKER")):
        (Path(folder) / f"{worker}.json").write_text(json.dumps(groups), encoding="utf-8")
    _group.update(groups)  # without xdist: this process's own; under xdist the workers' (read below)
    needing = [item for item in items if item.path.suffix == ".ipynb" and "docker" in _needs(item.path)]
    if needing and os.environ.get("CI") != "true":
        from workshop.docker import engine

        if not (found := engine()).running:
            for item in needing:
                item.add_marker(pytest.mark.skip(reason=f"{item.path.name} types docker commands: {found}"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """--dist loadgroup by group_of: each group is one unit of work, run by one worker in order.
    (xdist's own loadgroup reads `xdist_group` marks through `item._nodeid`, which pytest 9 no
    longer reads: the groups would silently not apply.) The workers write each test's group to
    $PENGUINS_XDIST_GROUPS as they finish collecting, before the controller schedules. The cluster's
    chain is handed out last, to a worker with nothing left to run: it starts as the other groups
    end and runs beside the engine's, not behind it."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if not hasattr(self, "groups"):
                self.groups: dict[str, str] = {}
                for found in Path(os.environ[GROUPS]).glob("*.json"):
                    self.groups.update(json.loads(found.read_text(encoding="utf-8")))
            return self.groups.get(nodeid, nodeid)

        def _assign_work_unit(self, node: object) -> None:
            if len(self.workqueue) > 1 and CLUSTER in self.workqueue:
                self.workqueue.move_to_end(CLUSTER)
            super()._assign_work_unit(node)

        def _reschedule(self, node: object) -> None:
            """A worker keeps its last test until it knows the next (for the fixtures' teardown), so
            one test pending is an idle worker: the cluster's chain goes to the first one."""
            if list(self.workqueue) != [CLUSTER] or self._pending_of(self.assigned_work[node]) <= 1:
                super()._reschedule(node)

    return GroupScheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    cell = getattr(item, "cell", None)
    outputs = getattr(item, "test_outputs", None) or []
    tags = cell.get("metadata", {}).get("tags", []) if cell is not None else []
    if "raises-exception" in tags and not any(output.get("output_type") == "error" for output in outputs):
        pytest.fail(f"{item.name} is tagged raises-exception but raised nothing", pytrace=False)
    if cell is not None and item.path.parent.name == "solutions":
        solved(item.name, cell.get("source", ""), outputs)
    return result


def solved(name: str, source: str, outputs: list[dict]) -> None:
    """A solution's cell as nbval ran it (the one run of each solution per suite): quiet on
    stderr, a check cell ending in its verdict "✓ ...", and no absolute path of this machine in what it printed."""

    def stream(which: str) -> str:
        streams = (o for o in outputs if o.get("output_type") == "stream" and o.get("name") == which)
        return "".join(o.get("text", "") for o in streams)

    if stream("stderr"):
        pytest.fail(f"{name} is noisy on stderr:\n{stream('stderr')}", pytrace=False)
    verdict = (stream("stdout").strip().splitlines() or [""])[-1]  # after the lines a check streams
    if CHECK_CALL.search(source) and not verdict.startswith("✓ "):
        pytest.fail(f"{name}: the solution's check says {stream('stdout')!r}, not ✓", pytrace=False)
    printed = json.dumps(outputs)
    for path in (str(Path(__file__).resolve().parent), os.environ.get(ENV_VAR, "")):
        if path and path in printed:
            pytest.fail(f"{name} prints an absolute path ({path})", pytrace=False)


def yield_to_the_chain(item: pytest.Item) -> None:
    """Under xdist as root (CI), `item`'s worker runs at the priority its group deserves: the
    engine's chain and the cluster's (CHAINS) are the run's floor, the other groups are done in ~5
    minutes and then idle. On 2 cores they competed with the engine's for those 5 minutes, and
    stretched it by ~2 (875 s in CI, 754 s alone). At nice YIELDING they take the CPU the chains and
    the engine's containers (nice 0) leave. A worker that moves on to a chain gets nice 0 back, which
    takes root: without it nothing is changed. Its servers, kernels and cluster inherit its priority.
    The group is the one collection gave it (pytest_collection_modifyitems), not worked out again."""
    if os.environ.get("PYTEST_XDIST_WORKER") and getattr(os, "geteuid", lambda: -1)() == 0:
        os.setpriority(os.PRIO_PROCESS, 0, 0 if _group.get(item.nodeid) in CHAINS else YIELDING)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before nbval starts a notebook's kernel: its worker's priority; under xdist, the
    controller's models; for a notebook that drives a cluster, the cluster, and kubectl pointed
    at it in the environment the kernel inherits (without CI=true: only if one runs)."""
    yield_to_the_chain(item)
    if item.path.suffix == ".ipynb" and os.environ.get("PYTEST_XDIST_WORKER"):
        from tests.conftest import wait_for_the_models

        wait_for_the_models(Path(os.environ[ENV_VAR]))
    if item.path.name in K8S_NOTEBOOKS and item.path.suffix == ".ipynb":
        from tests.conftest import use_k8s_cluster

        reason = use_k8s_cluster()
        if reason and os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so notebook {item.path.name} must drive a cluster, but: {reason}")


_group: dict[str, str] = {}  # test id -> its xdist group
_spent: dict[str, float] = defaultdict(float)  # test id -> seconds of setup, call and teardown
_worker: dict[str, str] = {}  # test id -> the xdist worker that ran it
_clock: dict[str, float] = {}  # "start", "first": the session's start, its first test's (epoch seconds)
_span: dict[str, tuple[float, float]] = {}  # test id -> when its setup started, its teardown ended (epoch seconds)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _clock["first"] = min(_clock.get("first", report.start), report.start)
    _spent[report.nodeid] += report.duration
    began, _ = _span.get(report.nodeid, (report.start, report.stop))
    _span[report.nodeid] = (min(began, report.start), report.stop)
    if node := getattr(report, "node", None):  # under xdist, in the controller
        _worker[report.nodeid] = node.gateway.id


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Where the wall time went: until the first test started (collection, the workers' start),
    then each xdist group's tests summed and when the group ran (a group runs in one worker, in
    order: the chains are the floor of the run's wall time), the longest group's slowest tests and
    each worker's busy time. Only under xdist: a run without workers (a release's tests step) ends as pytest ends."""
    if hasattr(config, "workerinput") or not _spent or not getattr(config.option, "numprocesses", None):
        return
    if folder := os.environ.get(GROUPS):
        for found in Path(folder).glob("*.json"):
            _group.update(json.loads(found.read_text(encoding="utf-8")))
    groups: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    workers: dict[str, float] = defaultdict(float)
    for nodeid, seconds in _spent.items():
        groups[_group.get(nodeid, nodeid)][0] += seconds
        groups[_group.get(nodeid, nodeid)][1] += 1
        workers[_worker.get(nodeid, "main")] += seconds
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "where the time went")
    write(f"{_clock['first'] - _clock['start']:7.1f} s  until the first test started (collection, workers' start)")
    for name, (seconds, count) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:12]:
        spans = [span for nodeid, span in _span.items() if _group.get(nodeid, nodeid) == name]
        began, ended = (min(b for b, _ in spans) - _clock["start"], max(e for _, e in spans) - _clock["start"])
        write(f"{seconds:7.1f} s  group {name} ({count} tests), from {began:.0f} s to {ended:.0f} s")
    write(f"{sum(s for s, _ in groups.values()):7.1f} s  all {len(groups)} groups")
    longest = max(groups, key=lambda name: groups[name][0])
    slowest = sorted((n for n in _spent if _group.get(n, n) == longest), key=lambda n: -_spent[n])[:10]
    write("the longest group's ten slowest tests (setup, call and teardown):")
    for nodeid in slowest:
        write(f"{_spent[nodeid]:7.1f} s    {nodeid}")
    write("  ".join(f"{worker} {seconds:.0f} s" for worker, seconds in sorted(workers.items())) + "  (busy per worker)")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist the controller trains the models while its workers start (xdist starts them
    after this hook); the workers' tests and notebooks wait for them (tests/conftest.py)."""
    _clock["start"] = time.time()
    if getattr(session.config.option, "numprocesses", None) and not hasattr(session.config, "workerinput"):
        from tests.conftest import train_for_the_workers

        train_for_the_workers(Path(os.environ[ENV_VAR]))


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

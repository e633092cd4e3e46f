"""The stage table (workshop.stages) is the one home of the stages' facts: the docs, `make help`
and the Makefile's variables either come from it or are checked against it here."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from workshop import room, stages

PORT = re.compile(r"(?<![\d.=])8\d{3}(?!\d)")  # 8000-8999, not a version, not an example after PORT=
CONTAINER_INSIDE = 8000  # the port uvicorn listens on inside the container (and the service's default)
DOCS = (
    "README.md",
    "docker/README.md",
    "docker/compose.yaml",
    "docker/Dockerfile",
    *(f"notebooks/{name}.ipynb" for name in stages.NOTEBOOKS),
)


def doc_lines(path: str) -> list[str]:
    """A markdown file's lines, or a notebook's source lines (its outputs are checked elsewhere)."""
    text = (ROOT / path).read_text(encoding="utf-8")
    if path.endswith(".ipynb"):
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text.splitlines()


def test_the_table_has_every_stage_in_order_with_its_notebooks() -> None:
    assert [stage.name for stage in stages.STAGES] == ["00", "01", "02", "03", "04", "05", "06", "07", "08", "09"]
    assert stages.NOTEBOOKS[0] == "00_big_picture" and stages.NOTEBOOKS[-1] == "09_pipeline"
    assert all(notebook.startswith(stage.name) for stage in stages.STAGES for notebook in stage.notebooks)
    assert stages.PORTS == (5001, 8002, 8003, 8004, 8006, 8443, 8888, 9090)


def test_stage_08s_port_is_the_one_prometheus_publishes_in_the_room() -> None:
    assert stages.port(8) == room.facts().prometheus_port
    assert stages.stage(8).make_target == stages.stage(7).make_target, "`make room-up` starts Prometheus too"


def test_each_stage_server_is_the_make_target_of_its_own_number() -> None:
    """The Makefile's one rule `serve-%` runs `python -m workshop serve %`: the names must agree."""
    servers = [stage for stage in stages.STAGES if stage.service]
    assert [stage.make_target for stage in servers] == ["serve-02", "serve-03", "serve-04"]
    assert len({stage.port for stage in servers}) == len(servers)
    assert stages.stage(5).make_target == "serve-04" and stages.stage(5).port == stages.port(4)


def test_a_stage_is_found_by_number_or_name_and_a_wrong_one_is_named() -> None:
    assert stages.stage(4) is stages.stage("4") is stages.stage("04")
    with pytest.raises(stages.UnknownStage, match="there is no stage '10'"):
        stages.stage("10")
    with pytest.raises(
        stages.UnknownStage, match="stage 06 has no server of its own; the stage servers are 02, 03, 04"
    ):
        stages.service(6)


def test_the_readme_shows_the_generated_tables() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert stages.markdown_table() in readme, "re-print it with: python -m workshop stage-map"
    assert stages.servers_table() in readme, "re-print it with: python -m workshop stage-map --servers"


def test_printed_tables_are_the_generated_ones() -> None:
    for flag, expected in (
        ("", stages.markdown_table()),
        ("--servers", stages.servers_table()),
        ("--make-help", stages.make_help()),
    ):
        command = [sys.executable, "-m", "workshop", "stage-map", *([flag] if flag else [])]
        assert subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout == expected + "\n"


@pytest.mark.parametrize("path", DOCS)
def test_every_port_in_the_docs_is_the_tables(path: str) -> None:
    """A port a doc mentions is a stage's; on a line about a make target, a port of a stage it serves."""
    targets: dict[str, set[int | None]] = {}
    for stage in stages.STAGES:
        targets.setdefault(stage.make_target, set()).add(stage.port)
    for line in doc_lines(path):
        mentioned = {int(port) for port in PORT.findall(line)} - {CONTAINER_INSIDE}
        assert mentioned <= set(stages.PORTS), f"{path}: {line}"
        for target in set(re.findall(r"make ([\w-]+)", line)) & set(targets):
            assert mentioned <= targets[target], f"{path}: {line}"


def test_make_help_lists_the_stage_servers_from_the_table_and_every_target_with_its_port() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    lines = result.stdout.splitlines()
    assert stages.make_help() in result.stdout
    for name, port, what in (
        ("02", 8002, "the pickled scikit-learn pipeline"),
        ("03", 8003, "the bare ONNX model"),
        ("04", 8004, "the wrapper over ONNX"),
    ):
        [line] = [line for line in lines if line.startswith(f"  make serve-{name} ")]
        assert f"127.0.0.1:{port}" in line and what in line
    for stage in stages.STAGES:
        described = [line for line in lines if line.startswith(f"  make {stage.make_target} ")]
        assert described, f"make help does not list {stage.make_target}"
        assert all({int(port) for port in PORT.findall(line)} <= {stage.port} for line in described), described
    assert "  make stop " in result.stdout


def test_the_makefiles_port_variables_are_the_tables() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.findall(r"^DOCKER_PORT\s*\?=\s*(\d+)$", makefile, re.M) == [str(stages.port(6))]
    unchecked = "\n".join(
        line for line in makefile.splitlines() if not line.startswith(("DOCKER_PORT", "lab:", "docker-run:"))
    )
    assert {int(port) for port in PORT.findall(unchecked)} <= {CONTAINER_INSIDE}, (
        "a port outside the lines checked here"
    )


def test_make_serve_nn_runs_the_stage_through_workshop_serve() -> None:
    """One rule for every stage server; PORT and HOST reach the flags that beat every setting."""

    def recipe(*args: str) -> str:
        return subprocess.run(
            ["make", "--no-print-directory", "-n", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=True,
        ).stdout

    assert "-m workshop serve 03 --run-dir .run" in recipe("serve-03")
    assert "-m workshop serve 04 --run-dir .run --port 9004 --host 0.0.0.0" in recipe(
        "serve-04", "PORT=9004", "HOST=0.0.0.0"
    )

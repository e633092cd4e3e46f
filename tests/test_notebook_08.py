"""Notebook 08 as committed: the files its cells write are real, agree with the room, and its
saved outputs prove what its text says.

The notebook writes a service with prometheus_client, a prometheus.yml and a compose file, then
runs them (nbval runs it; it needs an engine). Here, without an engine: the service written in
the notebook is started in a fresh interpreter and must count an answer and a refusal apart; the
scrape target is the compose service; the compose project, container names and ports never
collide with the server room's, and Prometheus is the room's pinned image (one home for its tag);
and the committed counts are what the traffic cell sent.
"""

from __future__ import annotations

import ast
import re

import nbformat
import yaml

from tests.conftest import ROOT, run_python
from workshop import docker

NOTEBOOK = ROOT / "notebooks" / "08_running_it.ipynb"
WRITEFILE = re.compile(r"^%%writefile( -a)? (\S+)\n", re.MULTILINE)


def cells() -> list[nbformat.NotebookNode]:
    return nbformat.read(NOTEBOOK, as_version=4).cells


def written(name: str) -> str:
    """The file as the notebook's %%writefile cells leave it (`-a` appends)."""
    text = ""
    for cell in cells():
        found = WRITEFILE.match(cell.source) if cell.cell_type == "code" else None
        if found and found.group(2) == name:
            body = cell.source[found.end() :] + "\n"
            text = text + body if found.group(1) else body
    assert text, f"notebook 08 writes no {name}"
    return text


def room() -> dict:
    return yaml.safe_load((ROOT / "docker" / "compose.room.yaml").read_text(encoding="utf-8"))


def outputs(cell: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def test_the_service_counts_answers_and_refusals_apart(artifact_dir: object) -> None:
    """The notebook's own file, run as written: one answer, one refusal, both counted, both timed."""
    code = f"""
import types
from fastapi.testclient import TestClient
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD
module = types.ModuleType("metered_service")
exec(compile({written("metered_service.py")!r}, "metered_service.py", "exec"), module.__dict__)
client = TestClient(module.app)
print(client.post("/predict", json=CLEAN_RECORD).status_code, client.post("/predict", json=BAD_RECORD).status_code)
print(client.get("/metrics").text)
"""
    ran = run_python(code)
    assert ran.returncode == 0, ran.stderr
    statuses, _, page = ran.stdout.partition("\n")
    assert statuses == "200 422"
    assert 'penguin_requests_total{path="/predict",status="200"} 1.0' in page
    assert 'penguin_requests_total{path="/predict",status="422"} 1.0' in page
    assert 'penguin_request_seconds_count{path="/predict"} 2.0' in page
    assert "# TYPE penguin_request_seconds histogram" in page


def test_prometheus_scrapes_the_compose_service_on_the_port_it_listens_on() -> None:
    (job,) = yaml.safe_load(written("prometheus.yml"))["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    service = yaml.safe_load(written("compose.metrics.yaml"))["services"][host]
    command = service["command"]
    listens = command[command.index("--port") + 1] if "--port" in command else "8000"  # uvicorn's default
    assert port == listens and service["ports"] == [f"127.0.0.1:8006:{listens}"]
    assert job.get("metrics_path", "/metrics") == "/metrics"


def test_the_compose_file_never_collides_with_the_room() -> None:
    mine, theirs = yaml.safe_load(written("compose.metrics.yaml")), room()
    assert mine["name"] != theirs["name"], "its own project: its own container and network names"
    published = [port for service in mine["services"].values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published), "loopback only"
    rooms = {port.split(":")[1] for service in theirs["services"].values() for port in service.get("ports", [])}
    assert not {port.split(":")[1] for port in published} & rooms
    assert mine["services"]["prometheus"]["image"] == theirs["services"]["prometheus"]["image"]
    assert mine["services"]["service"]["image"] == docker.IMAGE


def test_the_service_is_the_stage_05_size() -> None:
    tree = ast.parse(written("metered_service.py"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert {"Counter", "Histogram", "generate_latest"} <= imported
    lines = [line for line in written("metered_service.py").splitlines() if line.strip()]
    assert len(lines) <= 35, f"{len(lines)} lines: a student-size service, not the package's"


def test_the_saved_counts_are_what_the_traffic_sent() -> None:
    shown = "\n".join(outputs(cell) for cell in cells() if cell.cell_type == "code")
    sent = re.search(r"^sent: \{200: (\d+), 422: (\d+)\}$", shown, re.MULTILINE)
    assert sent, "re-execute notebook 08 (make notebooks): no traffic counts in its outputs"
    answered, refused = sent.groups()
    assert int(answered) == 4 * int(refused), "every fifth record is refused"
    assert f'penguin_requests_total{{path="/predict",status="200"}} {answered}.0' in shown
    assert f'penguin_requests_total{{path="/predict",status="422"}} {refused}.0' in shown
    assert re.search(r"Container penguins-08-\w+-1 +Removed", shown), "the last cells stop what they started"

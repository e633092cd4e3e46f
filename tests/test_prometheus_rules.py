"""The room's Prometheus files checked by Prometheus' own tool, in the room's Prometheus image:
`promtool check config` (prometheus.yml and the rule file it names) and `promtool test rules`
(the alert fires above 10 % server errors after a minute, stays silent at 0 %, 5 % and 4xx);
and every query of the optional Grafana dashboard parses, as a recording rule `promtool check
rules` reads.

Needs an engine and the image; without them locally these skip, under CI=true they must run
(.ci/room-images.sh makes the image without a registry)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, unavailable
from workshop import room

CONFIG = ROOT / "docker" / "prometheus"


@pytest.fixture(scope="module")
def prometheus_image(base_image: str) -> str:
    image = room.facts().prometheus_image
    if os.environ.get("CI") == "true":
        built = subprocess.run(["bash", ".ci/room-images.sh"], capture_output=True, text=True, cwd=ROOT, timeout=900)
        assert built.returncode == 0, built.stdout + built.stderr
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=60).returncode:
        unavailable(f"no {image} image here (docker pull {image})")
    return image


def promtool(image: str, *args: str, folder: Path = CONFIG) -> subprocess.CompletedProcess[str]:
    """promtool in the image, on the room's files (or `folder`) mounted read-only, without any network."""
    command = ["docker", "run", "--rm", "--network", "none", "-v", f"{folder}:/etc/prometheus:ro"]
    command += ["-w", "/etc/prometheus", "--entrypoint", "promtool", image, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_promtool_check_config_passes(prometheus_image: str) -> None:
    result = promtool(prometheus_image, "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rules found" in result.stdout + result.stderr


def test_promtool_test_rules_passes(prometheus_image: str) -> None:
    result = promtool(prometheus_image, "test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_grafana_panel_query_parses(prometheus_image: str, tmp_path: Path) -> None:
    dashboard = json.loads((ROOT / "docker" / "grafana" / "dashboards" / "penguins.json").read_text(encoding="utf-8"))
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    rules = [{"record": f"panel_query_{index}", "expr": query} for index, query in enumerate(queries)]
    (tmp_path / "panels.yml").write_text(json.dumps({"groups": [{"name": "grafana", "rules": rules}]}))
    tmp_path.chmod(0o755)  # read by the image's user, nobody
    (tmp_path / "panels.yml").chmod(0o644)
    result = promtool(prometheus_image, "check", "rules", "panels.yml", folder=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout + result.stderr

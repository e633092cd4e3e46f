"""The room's Prometheus files checked by Prometheus' own tool, in the room's Prometheus image:
`promtool check config` (prometheus.yml and the rule file it names) and `promtool test rules`
(the alert fires above 10 % server errors after a minute, stays silent at 0 %, 5 % and 4xx).

Needs an engine and the image; without them locally these skip, under CI=true they must run
(.ci/room-images.sh makes the image without a registry)."""

from __future__ import annotations

import os
import subprocess

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


def promtool(image: str, *args: str) -> subprocess.CompletedProcess[str]:
    """promtool in the image, on the room's files mounted read-only, without any network."""
    command = ["docker", "run", "--rm", "--network", "none", "-v", f"{CONFIG}:/etc/prometheus:ro"]
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

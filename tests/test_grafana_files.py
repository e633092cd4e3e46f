"""The room's optional Grafana, read as files: it cannot be pulled on every machine, so what can
go wrong in it is checked here without it. The compose service sits behind a profile (so `up
--wait` never needs the image), mounts folders that exist, and finds the provisioned data source,
which points at the room's Prometheus; every panel of the dashboard asks that data source for
metrics the package's service really exposes. Whether each query parses is promtool's job
(tests/test_prometheus_rules.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tests.conftest import ROOT

DOCKER = ROOT / "docker"
GRAFANA = DOCKER / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "penguins.json"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.room.yaml").read_text(encoding="utf-8"))


def datasource() -> dict[str, Any]:
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (only,) = provisioned["datasources"]
    return only


def panel_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def exposed_metrics() -> set[str]:
    """Every series name the package's /metrics can show: each family with its sample suffixes."""
    from penguins.serving.metrics import Metrics

    metrics = Metrics()
    metrics.request("/predict", "POST", 200, 0.001)  # so the labelled families have samples
    metrics.serving("mlp-0123456789ab", "0" * 64, "mlp-onnx")
    return {sample.name for family in metrics.registry.collect() for sample in family.samples}


def test_grafana_is_optional_behind_a_profile() -> None:
    services = compose()["services"]
    grafana = services["grafana"]
    assert grafana["profiles"] == ["grafana"], "without a profile, `up --wait` would need the Grafana image"
    assert grafana["image"].startswith("grafana/grafana:") and not grafana["image"].endswith(":latest")
    assert grafana["ports"] == ["127.0.0.1:3000:3000"], "published on loopback only"
    for volume in grafana["volumes"]:
        host, _inside, mode = volume.split(":")
        assert (DOCKER / host).is_dir() and mode == "ro", volume
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == "/etc/grafana/dashboards/" + DASHBOARD.name


def test_the_dashboards_provider_reads_the_mounted_folder() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "penguins.yml").read_text())
    (only,) = provider["providers"]
    mounted = {inside for volume in compose()["services"]["grafana"]["volumes"] for _, inside, _ in [volume.split(":")]}
    assert provider["apiVersion"] == 1 and only["type"] == "file" and only["options"]["path"] in mounted


def test_the_data_source_is_the_rooms_prometheus() -> None:
    source = datasource()
    prometheus = compose()["services"]["prometheus"]
    inside = int(prometheus["ports"][0].rsplit(":", 1)[1])
    assert source["type"] == "prometheus" and source["url"] == f"http://prometheus:{inside}"
    assert source["access"] == "proxy", "the browser on a laptop cannot resolve the compose name"


def test_every_panel_asks_the_data_source_for_metrics_the_service_exposes() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    uid = datasource()["uid"]
    assert dashboard["panels"] and dashboard["uid"] and dashboard["title"]
    exposed = exposed_metrics()
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            asked = set(re.findall(r"\bpenguins_\w+", target["expr"]))
            assert asked and asked <= exposed, f"{panel['title']}: {sorted(asked - exposed)} is not exposed"
            assert 'job="penguins"' in target["expr"], "the job prometheus.yml names"


def test_the_metric_check_catches_a_misspelt_metric() -> None:
    assert "penguins_request_total" not in exposed_metrics()
    assert {"penguins_requests_total", "penguins_request_seconds_bucket"} <= exposed_metrics()


def test_the_queries_are_plain_promql() -> None:
    """Grafana-only variables ($__rate_interval, $instance) would not parse in promtool."""
    assert all("$" not in query for query in panel_queries())

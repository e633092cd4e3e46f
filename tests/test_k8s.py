"""Kubernetes on paper, honestly: the manifests in k8s/ are valid and describe the image we build.

No cluster can run on this machine, so the manifests are validated offline against the
Kubernetes schemas that the kubernetes-validate package carries, and tied to the facts they
repeat: the port and the user in docker/Dockerfile, the probe paths the app really serves, the
settings the service really reads. A manifest that drifts from the image fails here, not on a
student's kind cluster.
"""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from penguins.serving.api import create_app
from penguins.serving.settings import PREFIX, Settings
from tests.conftest import ROOT

K8S = ROOT / "k8s"
KUBERNETES = "1.37.0"


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((K8S / name).read_text(encoding="utf-8"))
    return document


def _resources() -> list[str]:
    return sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def _container() -> dict[str, Any]:
    (container,) = _load("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    return container


def _dockerfile() -> DockerfileParser:
    parser = DockerfileParser(fileobj=(ROOT / "docker" / "Dockerfile").open("rb"))
    return parser


def _instruction(name: str) -> str:
    values = [item["value"] for item in _dockerfile().structure if item["instruction"] == name]
    assert values, f"docker/Dockerfile has no {name}"
    return str(values[-1])


@pytest.mark.parametrize("name", _resources())
def test_each_manifest_is_valid_kubernetes(name: str) -> None:
    kubernetes_validate.validate(_load(name), KUBERNETES, strict=True)


def test_a_wrong_field_is_caught_and_named() -> None:
    deployment = _load("deployment.yaml")
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError, match="three"):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_kustomize_applies_every_manifest() -> None:
    assert sorted(_load("kustomization.yaml")["resources"]) == _resources()


def test_the_deployment_rolls_out_without_losing_capacity() -> None:
    spec = _load("deployment.yaml")["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert _load("hpa.yaml")["spec"]["minReplicas"] == spec["replicas"]


def test_port_and_user_are_the_images() -> None:
    container = _container()
    (port,) = container["ports"]
    assert str(port["containerPort"]) == _instruction("EXPOSE")
    uid = _instruction("USER").split(":")[0]
    pod = _load("deployment.yaml")["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and str(pod["runAsUser"]) == uid
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service_port = _load("service.yaml")["spec"]["ports"][0]
    assert service_port["targetPort"] == port["name"]


def test_probes_ask_routes_the_app_serves() -> None:
    served = {route.path for route in create_app(Settings()).routes if "GET" in getattr(route, "methods", ())}
    container = _container()
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {"/ready", "/health"} <= served


def test_environment_variables_are_settings_the_service_reads() -> None:
    fields = {PREFIX + name.upper() for name in Settings.model_fields}
    names = {variable["name"] for variable in _container().get("env", [])}
    assert names and names <= fields


def test_the_image_is_the_one_make_builds() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    image = re.search(r"^IMAGE\s*\?=\s*(\S+)", makefile, re.MULTILINE)
    assert image, "the Makefile names the image"
    assert _container()["image"].split(":")[0] == image.group(1)
    assert _container()["imagePullPolicy"] == "IfNotPresent"

"""Kubernetes on paper: the manifests in k8s/ are valid and describe the image we build.

The manifests are validated offline against the Kubernetes schemas that the kubernetes-validate
package carries, and tied to the facts they repeat: the port and the user in docker/Dockerfile,
the probe paths the app really serves, the settings the service really reads. The rules live in
workshop.k8s, which exercise 07c's check applies to a student's Deployment too; here they meet
the lecture's files, and each rule is shown to catch the break it is for. The commands of
k8s/README.md are tied to the manifests as well. tests/test_k8s_cluster.py runs the same files
on a real cluster.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from penguins import serve
from penguins.serving.api import create_app
from penguins.serving.settings import Settings
from tests.conftest import ROOT
from workshop import docker, k8s, rollout, room

K8S = ROOT / "k8s"
Mutation = Callable[[dict[str, Any]], None]


def manifest(name: str) -> dict[str, Any]:
    """A file of k8s/ (the other k8s tests read them here too)."""
    document: dict[str, Any] = yaml.safe_load((K8S / name).read_text(encoding="utf-8"))
    return document


def pinned_image() -> str:
    """The image `kubectl apply -k k8s/` runs: the Deployment's, with kustomization.yaml's tag."""
    (pin,) = manifest("kustomization.yaml")["images"]
    return f"{pin['name']}:{pin['newTag']}"


def readme_commands() -> list[str]:
    """The commands of k8s/README.md's shell blocks, one a line as a student types them (a line
    ending in a backslash joined with the next)."""
    text = (K8S / "README.md").read_text(encoding="utf-8")
    joined = "\n".join(re.findall(r"^```bash\n(.*?)^```", text, re.MULTILINE | re.DOTALL)).replace("\\\n", " ")
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip()]


def _resources() -> list[str]:
    return sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("name", _resources())
def test_each_manifest_is_valid_kubernetes(name: str) -> None:
    assert k8s.schema_problem(manifest(name)) is None


def test_a_wrong_field_is_caught_and_named() -> None:
    deployment = manifest("deployment.yaml")
    deployment["spec"]["replicas"] = "three"
    problem = k8s.schema_problem(deployment)
    assert problem is not None and str(problem).startswith("spec.replicas: ") and "found 'three'" in str(problem)


def test_kustomize_applies_every_manifest() -> None:
    assert sorted(manifest("kustomization.yaml")["resources"]) == _resources()


def test_the_deployment_keeps_every_tie() -> None:
    assert k8s.deployment_problems(manifest("deployment.yaml")) == []


def test_the_rules_facts_are_the_images_and_the_apps() -> None:
    """What the rules compare with, read independently: EXPOSE, USER and CMD's graceful-shutdown
    seconds by dockerfile_parse (the last also `penguins.serve`'s), the routes from the app itself,
    the image name from the Makefile."""
    parser = DockerfileParser(fileobj=(ROOT / "docker" / "Dockerfile").open("rb"))
    instructions = {item["instruction"]: item["value"] for item in parser.structure}
    container = _container(manifest("deployment.yaml"))
    assert str(container["ports"][0]["containerPort"]) == instructions["EXPOSE"]
    pod = manifest("deployment.yaml")["spec"]["template"]["spec"]
    assert str(pod["securityContext"]["runAsUser"]) == instructions["USER"].split(":")[0]
    command = json.loads(instructions["CMD"])  # the container's uvicorn, and `python -m penguins.serve`'s own
    graceful = float(command[command.index("--timeout-graceful-shutdown") + 1])
    assert graceful == k8s.graceful_s() == serve.GRACEFUL_SHUTDOWN_S
    paths = create_app(Settings()).openapi()["paths"]  # the app's routes, those of its routers included
    served = {path for path, operations in paths.items() if "get" in operations}
    assert {k8s.READINESS, k8s.LIVENESS} <= served and k8s.READINESS != k8s.LIVENESS
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    image = re.search(r"^IMAGE\s*\?=\s*(\S+)", makefile, re.MULTILINE)
    assert image and image.group(1) == docker.IMAGE


def _set(path: str, value: object) -> Mutation:
    """A change at a dotted path of the Deployment (`c.` = the container); None deletes."""

    def change(deployment: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = deployment
        for part in parents:
            node = _container(deployment) if part == "c" else node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


BREAKS: dict[str, tuple[Mutation, str]] = {
    "one replica": (_set("spec.replicas", 1), "spec.replicas"),
    "recreate": (_set("spec.strategy", {"type": "Recreate"}), "spec.strategy.type"),
    "no strategy": (_set("spec.strategy", None), "spec.strategy.rollingUpdate.maxUnavailable"),
    "no surge": (_set("spec.strategy.rollingUpdate.maxSurge", 0), "spec.strategy.rollingUpdate.maxSurge"),
    "another image": (_set("c.image", "nginx:1.28"), "image"),
    "always pull": (_set("c.imagePullPolicy", "Always"), "imagePullPolicy"),
    "root allowed": (_set("spec.template.spec.securityContext.runAsNonRoot", False), "securityContext.runAsNonRoot"),
    "another user": (_set("spec.template.spec.securityContext.runAsUser", 1000), "securityContext.runAsUser"),
    "writable root": (
        _set("c.securityContext.readOnlyRootFilesystem", False),
        "securityContext.readOnlyRootFilesystem",
    ),
    "unknown setting": (_set("c.env", [{"name": "PORT", "value": "80"}]), "env"),
    "key in the file": (_set("c.env", [{"name": k8s.SECRET_ENV, "value": "hunter2"}]), "env PENGUINS_API_KEY"),
    "slow readiness": (_set("c.readinessProbe.periodSeconds", 60), "readinessProbe.periodSeconds"),
    "two ports": (_set("c.ports", [{"name": "http", "containerPort": 8000}, {"containerPort": 9000}]), "ports"),
    "no preStop": (_set("c.lifecycle", None), "lifecycle.preStop"),
    "a preStop that calls": (
        _set("c.lifecycle.preStop", {"httpGet": {"path": "/health", "port": 8000}}),
        "lifecycle.preStop",
    ),
    "a short pause": (_set("c.lifecycle.preStop.exec.command", ["sh", "-c", "sleep 2"]), "lifecycle.preStop"),
    "a short grace": (_set("spec.template.spec.terminationGracePeriodSeconds", 10), "terminationGracePeriodSeconds"),
}


@pytest.mark.parametrize("name", BREAKS)
def test_each_rule_catches_its_break(name: str) -> None:
    deployment = copy.deepcopy(manifest("deployment.yaml"))
    change, where = BREAKS[name]
    change(deployment)
    problems = k8s.deployment_problems(deployment)
    assert [str(problem).split(": expected ")[0] for problem in problems] == [where], problems
    assert " expected " in str(problems[0]) and "; found " in str(problems[0]) and "Try: " in str(problems[0])


# A preStop hook: what it says (None: a pause long enough) in k8s/'s Deployment, grace period 20 s.
PRE_STOP = [
    ({"exec": {"command": ["sleep", "5"]}}, None),
    ({"exec": {"command": ["/bin/sleep", "3"]}}, None),
    ({"exec": {"command": ["sh", "-c", "sleep 5"]}}, None),
    ({"exec": {"command": ["/bin/sh", "-c", "echo bye; sleep 4.5 && true"]}}, None),
    ({"exec": {"command": ["python", "-c", "import time; time.sleep(6)"]}}, None),
    ({"sleep": {"seconds": 5}}, None),  # the `sleep` action of Kubernetes 1.30 and later
    ({"exec": {"command": ["sleep", "2.5"]}}, "found a pause of 2.5 s"),
    ({"sleep": {"seconds": 0}}, "found a pause of 0 s"),
    ({"exec": {"command": ["sleep", "infinity"]}}, "found exec 'sleep infinity', which does not pause for a set time"),
    ({"exec": {"command": ["sleepy", "5"]}}, "found exec 'sleepy 5', which does not pause"),
    ({"tcpSocket": {"port": 8000}}, "found tcpSocket (no pause)"),
    ({"exec": {"command": ["sleep", "15"]}}, "expected more than the pause (15 s) plus the 5 s"),
    ({"exec": {"command": ["sh", "-c", "sleep 1m"]}}, "expected more than the pause (60 s) plus the 5 s"),
    ({"exec": {"command": ["sleep", "5s"]}}, None),
]


@pytest.mark.parametrize(("hook", "said"), PRE_STOP, ids=lambda value: str(value)[:40])
def test_a_pre_stop_pause_is_read_in_every_style(hook: dict[str, Any], said: str | None) -> None:
    deployment = copy.deepcopy(manifest("deployment.yaml"))
    _container(deployment)["lifecycle"] = {"preStop": hook}
    problems = [str(problem) for problem in k8s.deployment_problems(deployment)]
    assert problems == [] if said is None else len(problems) == 1 and said in problems[0], problems


def test_the_grace_period_defaults_to_30_s() -> None:
    deployment = copy.deepcopy(manifest("deployment.yaml"))
    del deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert k8s.deployment_problems(deployment) == []  # 30 s hold the 5 s pause and the 5 s shutdown
    _container(deployment)["lifecycle"]["preStop"]["exec"]["command"] = ["sleep", "25"]
    (problem,) = k8s.deployment_problems(deployment)
    assert "found 30 s (the default)" in str(problem)


def test_the_replicas_the_service_and_the_autoscaler_agree() -> None:
    deployment = manifest("deployment.yaml")
    assert deployment["spec"]["replicas"] == room.facts().replicas
    assert manifest("hpa.yaml")["spec"]["minReplicas"] == deployment["spec"]["replicas"]
    assert manifest("hpa.yaml")["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    service = manifest("service.yaml")
    assert service["spec"]["ports"][0]["targetPort"] == _container(deployment)["ports"][0]["name"]
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    backend = manifest("ingress.yaml")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]


def test_the_ingress_serves_the_rooms_domain() -> None:
    spec = manifest("ingress.yaml")["spec"]
    assert spec["rules"][0]["host"] == room.facts().domain
    assert spec["tls"][0]["hosts"] == [room.facts().domain]


def test_the_pinned_tag_is_the_model_make_trains(artifact_dir: Path) -> None:
    """`kubectl apply -k k8s/` runs the image `make docker-build` tags for the default model."""
    image, _, tag = pinned_image().partition(":")
    assert image == _container(manifest("deployment.yaml"))["image"].split(":")[0] == docker.IMAGE
    assert tag == rollout.model_of(artifact_dir).model_version


def _commands(start: str) -> list[list[str]]:
    return [shlex.split(line) for line in readme_commands() if line.startswith(start)]


def test_the_kind_commands_are_all_there_in_order() -> None:
    lines = readme_commands()
    needed = [
        "kind create cluster",
        "kind load docker-image",
        "kubectl create secret generic",
        "kubectl apply -k k8s/",
        "kubectl rollout status",
        "kubectl set image",
        "kubectl rollout undo",
    ]
    at = [next(i for i, line in enumerate(lines) if line.startswith(command)) for command in needed]
    assert at == sorted(at), lines
    assert (ROOT / "k8s" / "kustomization.yaml").exists()
    (make,) = _commands("make ")
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    assert set(make[1:]) <= targets


def test_the_kind_commands_name_what_the_manifests_name() -> None:
    deployment, service = manifest("deployment.yaml"), manifest("service.yaml")
    name, container = deployment["metadata"]["name"], _container(deployment)
    image = pinned_image().partition(":")[0]
    for load in _commands("kind load docker-image"):
        assert load[3].partition(":")[0] == image
    for command in _commands("kubectl rollout") + _commands("kubectl set image"):
        assert command[3] == f"deployment/{name}", command
    (set_image,) = _commands("kubectl set image")
    assert set_image[4].partition("=")[0] == container["name"]
    assert set_image[4].partition("=")[2].partition(":")[0] == image
    (forward,) = _commands("kubectl port-forward")
    assert forward[2] == f"service/{service['metadata']['name']}"
    assert forward[3].split(":")[1] == str(service["spec"]["ports"][0]["port"])


def test_the_secrets_are_the_ones_the_deployment_and_ingress_ask_for(tmp_path: Path) -> None:
    """The Secret names and keys match the manifests, and the files are the ones `make room-certs`
    writes (made here into a scratch folder)."""
    (generic,) = _commands("kubectl create secret generic")
    (tls,) = _commands("kubectl create secret tls")
    (variable,) = [item for item in _container(manifest("deployment.yaml"))["env"] if item["name"] == k8s.SECRET_ENV]
    secret, key = variable["valueFrom"]["secretKeyRef"]["name"], variable["valueFrom"]["secretKeyRef"]["key"]
    source = generic[5].removeprefix("--from-file=")
    assert generic[4] == secret and source.partition("=")[0] == key
    assert tls[4] == manifest("ingress.yaml")["spec"]["tls"][0]["secretName"]
    files = [source.partition("=")[2], tls[5].removeprefix("--cert="), tls[6].removeprefix("--key=")]
    room.make_secrets(tmp_path, domain=room.facts().domain, say=lambda line: None)
    for file in files:
        assert file.startswith(f"{room.SECRETS}/") and (tmp_path / file.removeprefix(f"{room.SECRETS}/")).is_file()
    (curl,) = _commands("curl")
    assert f"{room.API_KEY_HEADER}: $(cat {files[0]})" in curl


def test_the_manifests_apply_to_kubernetes_1_20_and_to_a_current_kind() -> None:
    """One k8s/ for CI's 1.20 and a student's kind: no API newer than 1.20 nor removed since."""
    versions = {manifest(name)["apiVersion"] for name in _resources()}
    assert versions == {"apps/v1", "v1", "networking.k8s.io/v1", "autoscaling/v1"}


def test_the_service_and_the_deployment_keep_each_other_s_rules() -> None:
    assert k8s.service_problems(manifest("service.yaml"), manifest("deployment.yaml")) == []
    deployment = copy.deepcopy(manifest("deployment.yaml"))
    del deployment["spec"]["template"]["spec"]["enableServiceLinks"]
    (problem,) = k8s.service_problems(manifest("service.yaml"), deployment)
    assert "found PENGUINS_PORT" in str(problem)


def test_notebook_07c_deploys_the_pinned_image() -> None:
    """Its student-size Deployment names the model by its version, as kustomization.yaml does."""
    notebook = json.loads((ROOT / "notebooks" / "07c_kubernetes.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    (deployment,) = [source for source in sources if source.startswith("%%writefile deployment.yaml")]
    document = yaml.safe_load(deployment.partition("\n")[2])
    assert document["spec"]["template"]["spec"]["containers"][0]["image"] == pinned_image()
    assert k8s.deployment_problems(document, hardened=False) == []

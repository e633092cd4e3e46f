"""Exercise 07c's check: a Deployment and a Service written from scratch, in one file. On paper
first (workshop.k8s's rules): mistakes whose harm under load depends on timing (no readiness probe,
liveness on /ready, no preStop pause) are refused by name, so a verdict never depends on luck. Then, where kubectl
reaches a cluster: the file applied in a namespace of its own, the Service called, a pod deleted
under a paced load (none may fail) and replaced."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from penguins.client import PenguinClient, ServiceError
from penguins.serving.examples import CLEAN_RECORD
from workshop.checks.common import CheckFailed as CheckFailed  # the name its tests catch
from workshop.checks.common import passed, problem, survives, written, yaml_documents

READY_WITHIN = 180.0  # seconds for every pod to be Ready (a first start on a laptop loads the image)
# A pod that waits for one of these will not become Ready by waiting longer.
STUCK = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CrashLoopBackOff")


def check_kubernetes(manifest_file: Path | str) -> None:
    """Exercise 07c: the Deployment and the Service on paper, then on a cluster where one answers."""
    from workshop import k8s

    path = Path(manifest_file)
    documents = yaml_documents(written(path, "the Deployment and the Service"))
    kinds = [str(d.get("kind")) if isinstance(d, dict) else type(d).__name__ for d in documents]
    if sorted(kinds) != ["Deployment", "Service"]:
        expected = "two documents, a Deployment and a Service, separated by a line `---`"
        raise problem(expected, f"{kinds or 'none'}", "`kind:` names what each document is", "the file")
    deployment, service = sorted(documents, key=lambda document: str(document["kind"]))
    problems = k8s.deployment_problems(deployment, hardened=False) or k8s.service_problems(service, deployment)
    if problems:
        raise problems[0]
    on_paper = f"{path.name}: a valid Deployment and Service (Kubernetes {k8s.KUBERNETES}, strict) that keep the rules"
    if reason := k8s.unreachable():
        passed(f"{on_paper}; not run on a cluster ({reason}): `kind create cluster` makes one (k8s/README.md)")
    else:
        passed(f"{on_paper}; on a cluster: {on_a_cluster(path, deployment, service)}")


def on_a_cluster(path: Path, deployment: dict[str, Any], service: dict[str, Any]) -> str:
    """Apply the file in a namespace of its own, wait, call, delete a pod under load; what happened."""
    from workshop import k8s

    namespace = f"penguins-ex07c-{secrets.token_hex(3)}"
    replicas = deployment["spec"]["replicas"]
    selector = ",".join(f"{key}={value}" for key, value in deployment["spec"]["selector"]["matchLabels"].items())
    k8s.kubectl("create", "namespace", namespace)
    try:
        try:
            k8s.kubectl("apply", "--namespace", namespace, "-f", str(path))
        except k8s.ClusterError as refused:
            raise problem(
                "the cluster to accept the file", str(refused), "the line it names", "kubectl apply"
            ) from None
        started = time.monotonic()
        victim = _ready_pods(namespace, selector, replicas)[0]
        url = k8s.service_url(service["metadata"]["name"], service["spec"]["ports"][0]["port"], namespace)
        try:
            with PenguinClient(url, timeout=k8s.TIMEOUT) as client:
                species = client.predict(CLEAN_RECORD).species
        except ServiceError as error:
            tip = "`kubectl describe service` lists its endpoints, the pods it sends requests to"
            raise problem("an answer to POST /predict through it", f"{error}", tip, "the Service") from None

        def delete() -> str:
            k8s.kubectl("delete", "pod", victim, "--namespace", namespace, "--wait=false")
            return f"deleted {victim}"

        load = survives(
            lambda: k8s.load_client(url),
            CLEAN_RECORD,
            "a pod deleted under load",
            "how many pods are left while one goes, and when does a new pod start getting requests",
            rate=k8s.RATE,
            timeout=k8s.TIMEOUT,
            seconds=6,
            at={1.5: delete},
        )
        replaced = _ready_pods(namespace, selector, replicas, without=victim)
    finally:
        k8s.kubectl("delete", "namespace", namespace, "--wait=false")
    return (
        f"{replicas} pods Ready in {time.monotonic() - started:.0f} s, the Service answered {species}; "
        f"{victim} deleted under {load.sent} requests: 0 failed, {replaced[-1]} took its place"
    )


def _ready_pods(namespace: str, selector: str, replicas: int, without: str = "") -> list[str]:
    """The names of `replicas` Ready pods (not `without`), waited for; a pod stuck on its image or
    crashing fails at once with Kubernetes' reason."""
    from workshop import k8s

    deadline, ready = time.monotonic() + READY_WITHIN, []
    while time.monotonic() < deadline:
        pods = k8s.pods(selector, namespace)
        stuck = [
            f"{pod['metadata']['name']}: {reason} ({status.get('image')})"
            for pod in pods
            for status in pod["status"].get("containerStatuses", [])
            if (reason := (status.get("state", {}).get("waiting") or {}).get("reason")) in STUCK
        ]
        if stuck:
            tip = "the image must be on the cluster's node (make docker-build; on kind also `kind load docker-image`)"
            raise problem("them Ready", stuck[0], f"{tip}, and `kubectl describe pod` says more", "the pods")
        if len(ready := k8s.ready(pods, without)) >= replicas:
            return ready
        time.sleep(0.5)
    found = f"{len(ready)} (Ready: the readiness probe answered)"
    tip = "`kubectl describe pod` shows the probe's failures"
    raise problem(f"{replicas} Ready within {READY_WITHIN:.0f} s", found, tip, "the pods")

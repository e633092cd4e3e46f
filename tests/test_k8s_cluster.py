"""k8s/ on a real Kubernetes cluster: applied as it is, then every promise of k8s/README.md kept.

Under CI=true the session's cluster is .ci/k8s-cluster.sh's (Kubernetes 1.20 built from Debian's
source, on the engine that builds the images); elsewhere these tests skip and say why. The
manifests go on through a CI-only overlay (.ci/k8s/overlay) that only makes the Service a
NodePort on 127.0.0.1, so every load goes through the Service as kube-proxy routes it; the
Secret is made by k8s/README.md's own command. Each load is paced (k8s.RATE requests/s, each
within k8s.TIMEOUT), counts every request, and must lose none.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from penguins import smoke
from penguins.client import PenguinClient
from penguins.serving.examples import CLEAN_RECORD
from tests.conftest import ROOT, stop_k8s_cluster
from tests.test_k8s import manifest, pinned_image, readme_commands
from workshop import k8s, paced_load, rollout, room

NAMESPACE = "penguins-test"
OVERLAY = ROOT / ".ci" / "k8s" / "overlay"
DEPLOYMENT = "deployment/penguins"
CONTAINER = manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["name"]
SELECTOR = "app.kubernetes.io/name=penguins"


@dataclass(frozen=True)
class Deployed:
    """k8s/ running in NAMESPACE: its images, the Service's NodePort URL, the key, what apply said."""

    v1: str
    v2: str
    url: str
    key: str
    applied: str

    def client(self) -> PenguinClient:
        return k8s.load_client(self.url, {room.API_KEY_HEADER: self.key})


def kubectl(*args: str, timeout: float = 180) -> str:
    return k8s.kubectl("--namespace", NAMESPACE, *args, timeout=timeout)


def readme_line(start: str) -> list[str]:
    (line,) = [line for line in readme_commands() if line.startswith(start)]
    return shlex.split(line)


@pytest.fixture(scope="module")
def deployed(k8s_cluster: None, artifact_dir: Path) -> Iterator[Deployed]:
    """v2: the second version notebooks 07b and 07c use (`make room-v2`'s), trained once per checkout."""
    v1, v2 = k8s.model_image(artifact_dir), k8s.model_image(rollout.second_version())
    assert v1 == pinned_image(), "k8s/kustomization.yaml must pin the model this run trains"
    secrets = room.make_secrets(say=lambda line: None)
    subprocess.run(
        ["kubectl", "delete", "namespace", NAMESPACE, "--ignore-not-found"], capture_output=True, timeout=300
    )
    k8s.kubectl("create", "namespace", NAMESPACE)
    subprocess.run([*readme_line("kubectl create secret generic"), "--namespace", NAMESPACE], cwd=ROOT, check=True)
    started = time.monotonic()
    applied = kubectl("apply", "-k", str(OVERLAY))
    kubectl("rollout", "status", DEPLOYMENT, "--timeout=180s")
    print(f"\nk8s/: applied and rolled out in {time.monotonic() - started:.1f} s")
    port = kubectl("get", "service", "penguins", "-o", "jsonpath={.spec.ports[0].nodePort}")
    yield Deployed(v1, v2, f"http://127.0.0.1:{port}", secrets.api_key, applied)
    if not k8s.unreachable():  # this module alone: its last test has stopped the cluster already
        k8s.kubectl("delete", "namespace", NAMESPACE, "--wait=false")  # its pods stop in the background


def ready_pods() -> list[str]:
    return k8s.ready(k8s.pods(SELECTOR, NAMESPACE))


def under_load(
    deployed: Deployed, actions: dict[float, Callable[[], str]], until: Callable[[], bool]
) -> paced_load.Load:
    """A paced load through the Service, `actions` at their times, on until `until()` says so."""
    running = paced_load.start(
        deployed.client,
        "/predict",
        CLEAN_RECORD,
        rate=k8s.RATE,
        timeout=k8s.TIMEOUT,
        answer=lambda response: str(response.json()["model_version"]),
        at=actions,
    )
    while not until():
        time.sleep(0.2)
    return running.stop()


def by_version(load: paced_load.Load) -> dict[str, int]:
    return dict(Counter(shot.answer for shot in load.shots if shot.ok))


def test_the_overlay_applies_every_object_of_k8s(deployed: Deployed) -> None:
    """`kubectl apply -k` (kustomize v2.0.3) says one line per object: every kind of k8s/."""
    applied = sorted(line.split()[0].split("/")[0].split(".")[0] for line in deployed.applied.splitlines())
    kinds = sorted(manifest(name)["kind"].lower() for name in manifest("kustomization.yaml")["resources"])
    assert applied == kinds, deployed.applied


def test_the_pods_are_ready_and_the_service_answers_the_golden_set_with_the_key(deployed: Deployed) -> None:
    assert len(ready_pods()) == manifest("deployment.yaml")["spec"]["replicas"]
    cases = smoke.load_cases(ROOT / "tests" / "golden.json")
    report = smoke.run(
        deployed.url, cases, client=PenguinClient(deployed.url, headers={room.API_KEY_HEADER: deployed.key})
    )
    assert report.ok, report.describe()
    assert report.model["model_version"] == deployed.v1.partition(":")[2]
    without = PenguinClient(deployed.url).session.post(f"{deployed.url}/predict", json=CLEAN_RECORD, timeout=5)
    assert without.status_code == 401 and room.API_KEY_HEADER in without.text


def roll_under_load(deployed: Deployed, change: list[str]) -> tuple[paced_load.Load, float]:
    """`kubectl <change>` 1 s into a paced load, then `kubectl rollout status`; the load goes on
    2 s past it. What the load saw, and the seconds `rollout status` took."""
    started, done = time.monotonic(), []

    def act() -> str:
        kubectl(*change)
        kubectl("rollout", "status", DEPLOYMENT, "--timeout=180s")
        done.append(time.monotonic() - started)
        return " ".join(change[:2])

    load = under_load(deployed, {1.0: act}, lambda: bool(done) and time.monotonic() - started > done[0] + 2)
    return load, done[0] - 1


def test_a_rolling_update_and_its_undo_lose_no_request(deployed: Deployed) -> None:
    """v1 → v2 (`kubectl set image`), then back (`kubectl rollout undo`), each under load."""
    for change, before, after in (
        (["set", "image", DEPLOYMENT, f"{CONTAINER}={deployed.v2}"], deployed.v1, deployed.v2),
        (["rollout", "undo", DEPLOYMENT], deployed.v2, deployed.v1),
    ):
        load, seconds = roll_under_load(deployed, change)
        versions = [image.partition(":")[2] for image in (before, after)]
        per_second = load.answers_per_second()
        print(f"\n{' '.join(change[:2])}: rolled out in {seconds:.1f} s; sent {load.sent}, failed {load.failed}")
        print("second  " + "  ".join(versions))
        for second, counts in per_second:
            print(f"{second:>6}  " + "  ".join(f"{counts[v]:>{len(v)}}" for v in versions))
        assert load.failed == 0, load.table()
        assert set(by_version(load)) == set(versions)
        assert set(per_second[0][1]) == {versions[0]} and set(per_second[-1][1]) == {versions[1]}


def test_a_deleted_pod_loses_no_request_and_is_replaced(deployed: Deployed) -> None:
    before = ready_pods()
    victim = before[0]

    def delete() -> str:
        kubectl("delete", "pod", victim, "--wait=false")
        return f"deleted {victim}"

    def replaced() -> bool:
        now = ready_pods()
        return victim not in now and len(now) == len(before)

    started = time.monotonic()
    load = under_load(deployed, {1.0: delete}, replaced)
    print(
        f"\npod deleted: replaced after {time.monotonic() - started - 1:.1f} s; sent {load.sent}, failed {load.failed}"
    )
    assert load.failed == 0, load.table()
    assert victim not in ready_pods() and len(ready_pods()) == len(before)


def said_at_start(pod: str) -> str:
    """What the pod's container printed before it exited (the one before, once it restarted);
    a container between two starts may have no log to read for a moment, and the kubelet answers
    a removed container's logs with a line of its own (exit 0) instead of the container's."""
    for _ in range(20):
        for previous in ("--previous", "--timestamps=false"):
            result = subprocess.run(
                ["kubectl", "logs", pod, previous, "--namespace", NAMESPACE], capture_output=True, text=True
            )
            gone = result.stdout.startswith("unable to retrieve container logs")
            if result.returncode == 0 and result.stdout.strip() and not gone:
                return result.stdout
        time.sleep(0.5)
    return ""


def test_readiness_holds_back_a_pod_whose_model_is_missing(deployed: Deployed) -> None:
    """A fourth pod with the Service's labels whose model file is missing: the service stops at
    start with its one-line reason, the pod never becomes Ready, and no request reaches it."""
    broken = manifest("deployment.yaml")
    broken["metadata"]["name"] = "penguins-broken"
    broken["spec"]["replicas"] = 1
    for part in (broken["spec"]["selector"]["matchLabels"], broken["spec"]["template"]["metadata"]["labels"]):
        part["test"] = "missing-model"
    (container,) = broken["spec"]["template"]["spec"]["containers"]
    container["image"] = deployed.v1
    container["env"].append({"name": "PENGUINS_MODEL_PATH", "value": "/app/artifacts/missing.onnx"})
    k8s.kubectl("apply", "--namespace", NAMESPACE, "-f", "-", stdin=json.dumps(broken))
    try:
        load = under_load(deployed, {8.0: lambda: "checked"}, lambda: True)
        pod = json.loads(kubectl("get", "pods", "-l", "test=missing-model", "-o", "json"))["items"][0]
        status = pod["status"]["containerStatuses"][0]
        endpoints = json.loads(kubectl("get", "endpoints", "penguins", "-o", "json"))["subsets"][0]
        serving = {address["targetRef"]["name"] for address in endpoints.get("addresses", [])}
        logs = said_at_start(pod["metadata"]["name"])
        restarts = status["restartCount"]
        print(f"\nmissing model: restarts {restarts}, ready {status['ready']}; sent {load.sent}, failed {load.failed}")
        assert status["ready"] is False and pod["metadata"]["name"] not in serving
        assert "missing.onnx" in logs
        assert load.failed == 0, load.table()
    finally:
        kubectl("delete", "deployment", "penguins-broken")


def test_the_pods_run_as_a_user_without_privileges_on_a_read_only_filesystem(deployed: Deployed) -> None:
    """Read from a running pod, not from the manifest."""
    pod = ready_pods()[0]
    probe = "\n".join(
        (
            "import os",
            "try:",
            "    open('/app/x', 'w')",
            "except OSError as e:",
            "    print(os.getuid(), os.getgid(), e.strerror)",
        )
    )
    said = kubectl("exec", pod, "--", "python", "-c", probe).strip().split(maxsplit=2)
    assert said == ["10001", "10001", "Read-only file system"]


def test_stop_leaves_nothing_behind(k8s_cluster: None) -> None:
    """Run last of all (the root conftest.py moves it there): `.ci/k8s-cluster.sh stop` leaves no
    process, pod container, iptables chain, mount, cgroup or changed kernel setting behind."""
    state = Path(k8s.ci_environment()["KUBECONFIG"]).parent
    logs = Path(k8s.ci_environment()["PATH"].split(":")[0]).parents[1] / "logs"
    print(f"\n{stop_k8s_cluster().strip()}")
    assert not k8s.ci_environment() and not state.exists()
    names = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"}
    table = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True, check=True).stdout
    alive = {
        Path(args.split()[0]).name
        for stat, _, args in (line.strip().partition(" ") for line in table.splitlines())
        if args.strip() and not stat.startswith("Z")
    }  # an exited process not yet reaped is gone
    assert not names & alive
    labelled = ["docker", "ps", "-aq", "--filter", "label=io.kubernetes.docker.type"]
    assert subprocess.run(labelled, capture_output=True, text=True, check=True).stdout.split() == []
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            rules = subprocess.run([tool, "-t", table, "-S"], capture_output=True, text=True).stdout
            assert "KUBE-" not in rules, f"{tool} -t {table}:\n{rules}"
    assert str(state) not in Path("/proc/self/mountinfo").read_text()
    assert not list(Path("/sys/fs/cgroup").glob("*/kubepods*"))
    saved = dict(line.split("=", 1) for line in (logs / "sysctls").read_text().split())
    now = {
        name: subprocess.run(["sysctl", "-n", name], capture_output=True, text=True).stdout.strip() for name in saved
    }
    assert now == saved and "net.ipv4.conf.all.route_localnet" in saved

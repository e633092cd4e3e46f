"""Kubernetes for the classroom. On paper (k8s/ in tests/test_k8s.py, a student's file in check
07c): the strict schema, offline, then the ties to the facts a Deployment repeats (the
Dockerfile's port and user, the probe paths, the image, the settings), a rollout that never
loses a ready replica, a key from a Secret. On a cluster (kind on a laptop, .ci/k8s-cluster.sh
in CI) the lesson types kubectl itself; this module builds and loads the images, keeps
`port-forward` and `kubectl proxy` in the background, and counts a paced load.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate

from penguins.client import PenguinClient
from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.settings import PREFIX, Settings
from workshop import docker, paced_load, rollout, room
from workshop.checks.common import CheckFailed, problem
from workshop.server import stop_process

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from matplotlib.figure import Figure

KUBERNETES = "1.37.0"  # the schemas' version: kubernetes-validate 1.37.0 carries them
READINESS = "/ready"  # 200 once the model is loaded: traffic may come
LIVENESS = "/health"  # 200 while the process answers at all, model or not
MAX_READINESS_PERIOD_S = 10  # a replica that stops being ready gets no traffic within seconds
SECRET_ENV = f"{PREFIX}API_KEY"
DOCS = "https://kubernetes.io/docs/"


def schema_problem(document: dict[str, Any]) -> CheckFailed | None:
    """The document against the Kubernetes schema of its kind, strict: unknown fields refused."""
    kind = document.get("kind", "manifest")
    try:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or kind
        tip = "field names are case-sensitive camelCase; `kubectl explain deployment.spec` lists them"
        return problem(f"a valid {kind} (Kubernetes {KUBERNETES}, strict)", error.message, tip, where)
    except kubernetes_validate.SchemaNotFoundError as error:
        return problem("a kind and apiVersion Kubernetes knows", error.message, "apiVersion: apps/v1", "kind")
    return None


def setting_names() -> frozenset[str]:
    """Every environment variable the service reads."""
    return frozenset(PREFIX + name.upper() for name in Settings.model_fields)


def _pod(deployment: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod template's metadata and spec ({} where missing)."""
    template = (deployment.get("spec") or {}).get("template") or {}
    return template.get("metadata") or {}, template.get("spec") or {}


def _selects(where: str, selector: dict[str, Any] | None, deployment: dict[str, Any], so: str) -> Iterator[CheckFailed]:
    """A selector picks the Deployment's pods when their labels include it."""
    labels = _pod(deployment)[0].get("labels") or {}
    if not selector or not selector.items() <= labels.items():
        expected, tip = f"labels of the pod template, so {so}", "the same key: value as its `metadata.labels`"
        yield problem(expected, f"{selector or {}} for pods labelled {labels}", tip, where)


def _port(container: dict[str, Any], port: Any) -> Any:
    """A port as the container listens on it: by number, or by the name of one of its ports."""
    names = {item["name"]: item.get("containerPort") for item in container.get("ports") or [] if "name" in item}
    return names.get(port, port)


def deployment_problems(deployment: dict[str, Any], hardened: bool = True) -> list[CheckFailed]:
    """Everything wrong with a Deployment of the model's image; the schema first (the ties assume
    a valid document). `hardened`: k8s/'s standard (liveness, non-root, read-only, settings, an
    explicit rollout); else what a first Deployment needs to lose no request (exercise 07c)."""
    invalid = schema_problem(deployment)
    if invalid is not None:
        return [invalid]
    spec, pod = deployment.get("spec") or {}, _pod(deployment)[1]
    containers = pod.get("containers") or []
    if len(containers) != 1:
        return [problem("one container, the model's", f"{len(containers)}", "one image per pod here", "containers")]
    selector = (spec.get("selector") or {}).get("matchLabels")
    return [
        *_selects("spec.selector.matchLabels", selector, deployment, "the Deployment finds the pods it makes"),
        *_rollout_problems(spec, hardened),
        *_image_problems(containers[0], hardened),
        *_probe_problems(containers[0], hardened),
        *(_hardened_problems(pod, containers[0]) if hardened else ()),
    ]


def _rollout_problems(spec: dict[str, Any], hardened: bool) -> Iterator[CheckFailed]:
    replicas = spec.get("replicas") or 1  # Kubernetes runs 1 when it is left out (or null)
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    unavailable, surge = rolling.get("maxUnavailable", "25%"), rolling.get("maxSurge", "25%")
    text = str(unavailable)
    if hardened:  # k8s/ states 0 itself: its autoscaler may run 6 replicas, 25 % of which is one
        some_go = text not in ("0", "0%")
    else:  # as Kubernetes reads it: a percentage of the replicas, rounded down
        some_go = (int(text[:-1]) * replicas // 100 if text.endswith("%") else int(text)) > 0
    if replicas < 2:
        expected = "enough replicas that one can go while the others answer"
        yield problem(expected, f"{replicas}", "as many as the room runs (docker/compose.room.yaml)", "spec.replicas")
    guide = f"{DOCS}concepts/workloads/controllers/deployment/"
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        found = f"{strategy['type']}: every old pod is stopped before a new one starts"
        expected = "a rolling update (old pods serve until new ones are ready)"
        yield problem(expected, found, f"the Deployment's strategy in {guide}#strategy", "spec.strategy.type")
    elif some_go:
        found = f"{unavailable!r}{'' if 'maxUnavailable' in rolling else ' (the default)'}: old pods may stop first"
        expected = "no replica taken away before its successor is ready"
        yield problem(expected, found, f"{guide}#max-unavailable", "spec.strategy.rollingUpdate.maxUnavailable")
    elif str(surge) in ("0", "0%"):
        found = f"{surge!r} and no pod may be unavailable: the rollout cannot move"
        expected = "room for at least one new pod beside the old ones"
        yield problem(expected, found, "one extra pod at a time is usual", "spec.strategy.rollingUpdate.maxSurge")


def _image_problems(container: dict[str, Any], hardened: bool) -> Iterator[CheckFailed]:
    image = str(container.get("image", ""))
    name, _, tag = image.partition(":")
    if name != docker.IMAGE:
        expected = f"the image `make docker-build` tags, {docker.IMAGE}"
        yield problem(expected, repr(image), "the Makefile's IMAGE", "image")
    # Without a policy Kubernetes pulls a `latest` (or untagged) image every time, another tag once.
    policy = container.get("imagePullPolicy") or ("Always" if tag in ("", "latest") else "IfNotPresent")
    if policy != "IfNotPresent" and (hardened or policy == "Always"):
        expected = "the image loaded into the cluster used as it is (kind load docker-image)"
        found = repr(container.get("imagePullPolicy", f"the default for {image!r}, {policy}"))
        yield problem(expected, found, "the policy that pulls only when the node lacks the image", "imagePullPolicy")


def _probe_problems(container: dict[str, Any], hardened: bool) -> Iterator[CheckFailed]:
    image_port = docker.Dockerfile.read().port
    if (shown := [port.get("containerPort") for port in container.get("ports") or []]) != [image_port]:
        yield problem(f"the image's one port ({image_port})", f"{shown}", "the Dockerfile's EXPOSE", "ports")
    for probe, path, why in (
        ("readinessProbe", READINESS, "the path that answers 200 only once the model is loaded"),
        ("livenessProbe", LIVENESS, "the path that answers while the process is alive, model or not"),
    ):
        http = (container.get(probe) or {}).get("httpGet")
        if probe not in container and probe == "livenessProbe" and not hardened:
            continue  # a first Deployment may leave restarts to the container's own exit
        if http is None:
            missing = f"no {probe}" if probe not in container else "a probe that is not httpGet"
            tip = f"{DOCS}tasks/configure-pod-container/configure-liveness-readiness-startup-probes/"
            yield problem(f"an HTTP GET probe on {why}", missing, tip, probe)
            continue
        if http.get("path") != path:
            yield problem(why, repr(http.get("path")), "GET /docs lists the paths", f"{probe}.httpGet.path")
        if _port(container, port := http.get("port")) != image_port:
            expected = f"the port the container listens on ({image_port}), by number or by its name"
            yield problem(expected, repr(port), "the container's `ports:`", f"{probe}.httpGet.port")
    period = (container.get("readinessProbe") or {}).get("periodSeconds") or 10  # Kubernetes' default
    if period > MAX_READINESS_PERIOD_S:
        expected = f"at most {MAX_READINESS_PERIOD_S} s, so a replica that stops being ready loses traffic soon"
        yield problem(expected, f"{period} s", "a few seconds", "readinessProbe.periodSeconds")


def _hardened_problems(pod: dict[str, Any], container: dict[str, Any]) -> Iterator[CheckFailed]:
    """The securityContext (the pod's and the container's, the container's winning) and the env."""
    user = docker.Dockerfile.read().last("USER")
    uid = int(user.value.split(":")[0]) if user else None
    context = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
    tip = f"{DOCS}tasks/configure-pod-container/security-context/"
    for field, right, expected in (
        ("runAsNonRoot", context.get("runAsNonRoot") is True, "true: no root inside"),
        ("runAsUser", context.get("runAsUser", uid) == uid, f"the image's USER, {uid}"),
        ("readOnlyRootFilesystem", context.get("readOnlyRootFilesystem") is True, "true, as compose's read_only"),
    ):
        if not right:
            found = str(context[field]).lower() if field in context else "not set"
            yield problem(expected, found, tip, f"securityContext.{field}")
    for variable in container.get("env") or []:
        if (name := variable.get("name")) not in setting_names():
            yield problem("settings the service reads (PENGUINS_*)", repr(name), "penguins.serving.settings", "env")
        elif name == SECRET_ENV and "value" in variable:
            expected = "the key from a Secret (valueFrom), so it never sits in a file in git"
            tip = f"valueFrom.secretKeyRef in {DOCS}concepts/configuration/secret/"
            yield problem(expected, "the key written into the manifest", tip, f"env {SECRET_ENV}")


def service_problems(service: dict[str, Any], deployment: dict[str, Any]) -> list[CheckFailed]:
    """Everything wrong with a Service in front of the Deployment's pods: schema, a selector
    that picks them, no name that clashes with a setting, a port that leads to the container's."""
    invalid = schema_problem(service)
    if invalid is not None:
        return [invalid]
    spec, pod = service.get("spec") or {}, _pod(deployment)[1]
    so = "the Service sends them requests"
    if wrong := list(_selects("the Service's spec.selector", spec.get("selector"), deployment, so)):
        return wrong
    # Kubernetes sets NAME_PORT, NAME_SERVICE_HOST, NAME_SERVICE_PORT in every pod for each Service.
    stem = str(service.get("metadata", {}).get("name", "")).upper().replace("-", "_")
    clash = sorted({f"{stem}_PORT", f"{stem}_SERVICE_HOST", f"{stem}_SERVICE_PORT"} & setting_names())
    if clash and pod.get("enableServiceLinks") is not False:
        expected = "no variable Kubernetes derives from it that the service reads as a setting"
        found = f"{clash[0]}: Kubernetes sets it to tcp://<address>:<port> in the pods; the service refuses it"
        tip = "turn the pods' Service variables off (`enableServiceLinks`, in the pod template's spec), or rename it"
        return [problem(expected, found, tip, "the Service's name")]
    image_port = docker.Dockerfile.read().port
    targets = [port.get("targetPort", port.get("port")) for port in spec.get("ports") or []]
    if image_port in [_port(pod["containers"][0], target) for target in targets]:
        return []
    expected = f"a targetPort that is the container's port ({image_port}), by number or by its name"
    tip = f"{DOCS}concepts/services-networking/service/#defining-a-service"
    return [problem(expected, f"targetPort {targets} (without one, its `port`)", tip, "the Service's ports")]


# ---------------------------------------------------------------- a cluster, through kubectl

CI_CLUSTER = ".ci/k8s-cluster.sh"  # CI's own cluster; `env` says where its kubectl and KUBECONFIG are
SECOND_SEED = 7  # the second model version's seed, as `make room-v2` trains it
RATE = 50.0  # requests/s of a paced load while a rollout runs
TIMEOUT = 3.0  # seconds each of those requests may take
NO_CLUSTER = "no cluster: not run (step 1 says how to make one)"
_background: list[subprocess.Popen[str]] = []
_proxy: list[str] = []  # the address `kubectl proxy` serves on, once it runs


class ClusterError(RuntimeError):
    """kubectl failed; the message is what it said."""


def kubectl(*args: str, timeout: float = 180, stdin: str | None = None) -> str:
    """kubectl with these arguments against the current context; what it printed."""
    result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)}: {(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


def pods(selector: str, namespace: str) -> list[dict[str, Any]]:
    """The pods the label selector picks, as `kubectl get pods -o json` lists them."""
    listed: list[dict[str, Any]] = json.loads(kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json"))[
        "items"
    ]
    return listed


def ready(listed: list[dict[str, Any]], without: str = "") -> list[str]:
    """The names of the Ready pods (the readiness probe answers) not being deleted, nor `without`."""
    return sorted(
        pod["metadata"]["name"]
        for pod in listed
        if pod["metadata"]["name"] != without and "deletionTimestamp" not in pod["metadata"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
    )


def unreachable() -> str:
    """Why no cluster answers kubectl here, or "" when one does."""
    if shutil.which("kubectl") is None:
        return "no kubectl here"
    try:
        kubectl("get", "--raw", "/readyz", timeout=20)
    except (ClusterError, subprocess.TimeoutExpired) as error:
        return str(error).strip().splitlines()[-1]
    return ""


def ci_environment() -> dict[str, str]:
    """PATH (its kubectl first) and KUBECONFIG of the cluster .ci/k8s-cluster.sh runs here, or {}."""
    result = subprocess.run(["bash", str(room.root() / CI_CLUSTER), "env"], capture_output=True, text=True, timeout=30)
    return dict(line.split("=", 1) for line in result.stdout.split()) if result.returncode == 0 else {}


def model_image(folder: Path | None = None) -> str:
    """The image of the model in `folder` (default: the artifacts), built (cached when nothing
    changed) and on the cluster's node: kind's node keeps its own images (`kind load docker-image`)."""
    from penguins.training import build

    folder = folder or build.ensure(say=lambda line: None)
    tag = rollout.image_tag(folder)
    if not docker.engine().running:
        return tag
    rollout.build_version(folder)
    context = subprocess.run(["kubectl", "config", "current-context"], capture_output=True, text=True).stdout.strip()
    if context.startswith("kind-"):
        kind = ["kind", "load", "docker-image", tag, "--name", context.removeprefix("kind-")]
        subprocess.run(kind, check=True, capture_output=True, timeout=600)
    return tag


def images(say: Callable[[str], None] = print) -> tuple[str, str]:
    """The images of the model and of its second version (trained as `make room-v2` does when
    missing), on the cluster's node; the API key in .room/; whether a cluster answers, in words."""
    from penguins.training import build

    second = room.root() / "artifacts-v2"
    if not (second / rollout.MODEL_FILE).exists():
        build.train(second, seed=SECOND_SEED, say=lambda line: None)
        build.export(second, say=lambda line: None)
    tags = model_image(), model_image(second)
    room.make_secrets(say=lambda line: None)  # the API key k8s/ hands in as a Secret, in .room/
    if reason := unreachable():
        say(f"No cluster answers kubectl ({reason}): `make k8s-up` makes one with kind (k8s/README.md)")
    else:
        say(f"kubectl reaches a cluster; on its node: {tags[0]} (v1) and {tags[1]} (v2)")
    return tags


def _in_background(*args: str) -> str:
    """kubectl in the background until this process exits; the first line it printed. Its later
    lines (port-forward prints one per connection) are read and dropped, so it never blocks."""
    process = subprocess.Popen(["kubectl", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _background.append(process)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if process.poll() is not None or not line:
        raise ClusterError(f"kubectl {' '.join(args)}: {line}{process.stdout.read().strip()}")
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return line


@atexit.register
def stop_background() -> None:
    """End the port-forwards and the proxy this process started."""
    while _background:
        stop_process(_background.pop())
    _proxy.clear()


def port_forward(target: str, port: int) -> str | None:
    """`kubectl port-forward <target> :<port>` in the background, shown with the line it prints; the
    local URL (None without a cluster). It pins one pod: when that pod goes, it breaks."""
    if unreachable():
        print(NO_CLUSTER)
        return None
    line = _in_background("port-forward", target, f":{port}")  # "Forwarding from 127.0.0.1:40411 -> 8000"
    print(f"$ kubectl port-forward {target} :{port}\n{line}")
    return f"http://{line.split()[2]}"


def golden(url: str | None, headers: dict[str, str] | None = None, table: bool = True) -> list[tuple[str, str]]:
    """The golden set through `url` against the model here (`penguins smoke`), its table (or last
    line) printed; each record's expected and served answer ([] without a cluster)."""
    from penguins import smoke

    if url is None:
        print(NO_CLUSTER)
        return []
    cases = smoke.load_cases(room.root() / "tests" / "golden.json")
    report = smoke.run(url, cases, client=PenguinClient(url, headers=headers))
    print(report.describe() if table else report.describe().splitlines()[-1])
    return [(result.case.expect, str(result.over_http)) for result in report.results]


def service_url(service: str, port: int, namespace: str = "default") -> str:
    """The Service through the API server's proxy (`kubectl proxy`, started once): it sends each
    request to one of the Service's ready pods, so a load through it survives a pod going."""
    if not _proxy:
        _proxy.append(_in_background("proxy", "--port=0").rsplit(" ", 1)[1])  # "Starting to serve on 127.0.0.1:41233"
    return f"http://{_proxy[0]}/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy"


def load_client(url: str, headers: dict[str, str] | None = None) -> PenguinClient:
    """A client for a paced load through a Service: no retries (each failure counts against the
    cluster) and a connection per request, as a proxy spreads them: kube-proxy balances
    connections, so a kept-alive one stays with a pod that may close it as it stops."""
    return PenguinClient(url, headers={"Connection": "close", **(headers or {})}, retries=0)


def paced(service: str = "penguins", port: int = 8000) -> paced_load.Running:
    """A paced load (RATE requests/s, each within TIMEOUT) on the Service through the API server's
    proxy while the cell runs kubectl, each answer read for its model version; it runs a second
    before the cell goes on and after stop(), so a plot shows both sides. No cluster: no load."""
    url = "" if unreachable() else service_url(service, port)
    return paced_load.start(
        lambda: load_client(url),
        "/predict",
        CLEAN_RECORD,
        rate=RATE,
        seconds=float("inf") if url else 0.0,
        timeout=TIMEOUT,
        answer=lambda response: str(response.json()["model_version"]),
        linger=1.0 if url else 0.0,
    )


def replica_figures(bench_json: Path | str) -> tuple[float, float]:
    """One replica's figures as `make bench` measured them (bench/results/bench.json: the served
    /predict, one uvicorn process, at 10 connections): CPU seconds per request, p99 in ms."""
    rows = json.loads(Path(bench_json).read_text(encoding="utf-8"))["rows"]
    (row,) = [r for r in rows if r["name"] == "served /predict (ONNX)" and r["case"] == "10 connections"]
    return row["details"]["cpu_us_per_request"] / 1e6, row["details"]["p99_ms"]


def plot(seen: paced_load.Load, title: str) -> Figure | None:
    """Answers per second stacked by model version (first blue, next green), failures red."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not seen.shots:
        print(NO_CLUSTER)
        return None
    per_second = seen.answers_per_second()
    versions = dict.fromkeys(shot.answer for shot in seen.shots if shot.ok)  # first to answer first
    figure, axes = plt.subplots(figsize=(9, 2.4))
    bottom = [0] * len(per_second)
    for version, colour in [*zip(versions, ("tab:blue", "tab:green"), strict=False), ("failed", "tab:red")]:
        counts = [counts[version] for _, counts in per_second]
        axes.bar([second for second, _ in per_second], counts, bottom=bottom, color=colour, label=version)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    by_version = ", ".join(f"{v}: {sum(counts[v] for _, counts in per_second)}" for v in versions)
    said = f"sent {seen.sent} in {seen.shots[-1].at:.0f} s, failed {seen.failed}; answers by version: {by_version}"
    axes.set(title=f"{title}: {said}", xlabel="second", ylabel="answers")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.title.set_fontsize(9)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    plt.close(figure)
    return figure


def main(action: str) -> int:
    """`make k8s-up` / `k8s-down`: a kind cluster (named `kind`, as k8s/README.md's) with the
    model's image on its node, or gone; under CI=true .ci/k8s-cluster.sh's (kind needs a registry)."""
    if os.environ.get("CI") == "true":
        return subprocess.call(["bash", str(room.root() / CI_CLUSTER), "start" if action == "up" else "stop"])
    if shutil.which("kind") is None:
        print("no kind here: install kind and kubectl (https://kind.sigs.k8s.io/docs/user/quick-start/)")
        return 1
    there = "kind" in subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True).stdout.split()
    if action == "down":
        return subprocess.call(["kind", "delete", "cluster", "--name", "kind"]) if there else 0
    if not there and subprocess.call(["kind", "create", "cluster", "--name", "kind"]) != 0:
        return 1
    print(f"$ kind load docker-image {model_image()}: kubectl now talks to kind-kind")
    return 0

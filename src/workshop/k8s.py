"""Kubernetes for the classroom. On paper (k8s/ in tests, a student's file in check 07c): the strict
schema, then the facts a Deployment repeats (port, user, probes, image, settings, Secret). On a
cluster the lesson types kubectl; this module loads the images, runs `port-forward`/`proxy`, paces a load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate

from penguins.client import PenguinClient
from penguins.ports import free_port
from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.settings import PREFIX, Settings
from workshop import docker, paced_load, rollout, room
from workshop.checks.common import CheckFailed, problem
from workshop.server import start

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from matplotlib.figure import Figure

KUBERNETES = "1.37.0"  # the schemas' version: kubernetes-validate 1.37.0 carries them
READINESS = "/ready"  # 200 once the model is loaded: traffic may come
LIVENESS = "/health"  # 200 while the process answers at all, model or not
MAX_READINESS_PERIOD_S = 10  # a replica that stops being ready gets no traffic within seconds
# A deleted pod's endpoint removal travels controller → API server → kube-proxy's iptables and the API
# server's proxy: about a second on a busy node. A preStop pause of 3 s lets it arrive before SIGTERM.
MIN_PAUSE_S = 3
_SLEEP = re.compile(r"(?:^|[\s/;&|.(])sleep[\s(]+['\"]?(\d+(?:\.\d+)?)([smh]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}  # sleep 5, /bin/sleep 1m, time.sleep(5): GNU sleep's suffixes
SECRET_ENV = f"{PREFIX}API_KEY"
DOCS = "https://kubernetes.io/docs/"
SETTINGS = frozenset(PREFIX + name.upper() for name in Settings.model_fields)  # every variable the service reads


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
    """Everything wrong with a Deployment of the model's image, the schema first. `hardened`: k8s/'s
    standard; else what a first Deployment needs to lose no request (exercise 07c)."""
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
        *_stop_problems(pod, containers[0]),
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


def _stop_problems(pod: dict[str, Any], container: dict[str, Any]) -> Iterator[CheckFailed]:
    """SIGTERM and the endpoint removal start together: a preStop pause keeps the pod listening until
    no proxy routes to it; the grace period must hold that pause and the service's own shutdown."""
    hook = (container.get("lifecycle") or {}).get("preStop") or {}
    command = " ".join(map(str, (hook.get("exec") or {}).get("command") or []))
    sleeps = _SLEEP.search(command)  # else the `sleep` action (Kubernetes 1.30 and later; 1.20 refuses it)
    pause = float(sleeps[1]) * _SECONDS[sleeps[2]] if sleeps else (hook.get("sleep") or {}).get("seconds")
    grace = pod.get("terminationGracePeriodSeconds")
    if pause is None or pause < MIN_PAUSE_S:
        how = f"exec {command!r}, which does not pause for a set time" if command else f"{', '.join(hook)} (no pause)"
        found = f"a pause of {pause:g} s" if pause is not None else how if hook else "no preStop hook"
        expected = f"a pause of {MIN_PAUSE_S} s or more before SIGTERM, so a stopping pod leaves the Service first"
        tip = f"a container lifecycle hook that waits, {DOCS}concepts/containers/container-lifecycle-hooks/"
        yield problem(expected, found, tip, "lifecycle.preStop")
    elif (seconds := 30 if grace is None else grace) <= pause + (graceful := graceful_s()):  # 30: Kubernetes' default
        expected = f"more than the pause ({pause:g} s) plus the {graceful:g} s the service takes to finish its requests"
        tip = f"the pod's grace period, {DOCS}concepts/workloads/pods/pod-lifecycle/#pod-termination"
        found = f"{seconds} s" + " (the default)" * (grace is None)
        yield problem(expected, found, tip, "terminationGracePeriodSeconds")


def graceful_s() -> float:
    """The image's CMD's `--timeout-graceful-shutdown` (docker/Dockerfile): uvicorn's seconds from SIGTERM to exit."""
    command = getattr(docker.Dockerfile.read().last("CMD"), "exec_form", None) or []
    return float(command[command.index("--timeout-graceful-shutdown") + 1])


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
        if (name := variable.get("name")) not in SETTINGS:
            yield problem("settings the service reads (PENGUINS_*)", repr(name), "penguins.serving.settings", "env")
        elif name == SECRET_ENV and "value" in variable:
            expected = "the key from a Secret (valueFrom), so it never sits in a file in git"
            tip = f"valueFrom.secretKeyRef in {DOCS}concepts/configuration/secret/"
            yield problem(expected, "the key written into the manifest", tip, f"env {SECRET_ENV}")


def service_problems(service: dict[str, Any], deployment: dict[str, Any]) -> list[CheckFailed]:
    """Everything wrong with a Service in front of the Deployment's pods."""
    invalid = schema_problem(service)
    if invalid is not None:
        return [invalid]
    spec, pod = service.get("spec") or {}, _pod(deployment)[1]
    so = "the Service sends them requests"
    if wrong := list(_selects("the Service's spec.selector", spec.get("selector"), deployment, so)):
        return wrong
    # Kubernetes sets NAME_PORT, NAME_SERVICE_HOST, NAME_SERVICE_PORT in every pod for each Service.
    stem = str(service.get("metadata", {}).get("name", "")).upper().replace("-", "_")
    clash = sorted({f"{stem}_PORT", f"{stem}_SERVICE_HOST", f"{stem}_SERVICE_PORT"} & SETTINGS)
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
RATE = 50.0  # requests/s of a paced load while a rollout runs
TIMEOUT = 3.0  # seconds each of those requests may take
NO_CLUSTER = "no cluster: not run (step 1 says how to make one)"


class ClusterError(RuntimeError):
    """kubectl failed; the message is what it said."""


def kubectl(*args: str, timeout: float = 180, stdin: str | None = None) -> str:
    result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)}: {(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


def pods(selector: str, namespace: str) -> list[dict[str, Any]]:
    return list(json.loads(kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json"))["items"])


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
    """The model's image (default: the artifacts'), built and on the node: kind's keeps its own images."""
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
    """The images of v1 and v2 (trained as `make room-v2` does) on the node, the key in .room/, in words."""
    tags = model_image(), model_image(rollout.second_version())
    room.make_secrets(say=lambda line: None)  # the API key k8s/ hands in as a Secret, in .room/
    if reason := unreachable():
        say(f"No cluster answers kubectl ({reason}): `make k8s-up` makes one with kind (k8s/README.md)")
    else:
        say(f"kubectl reaches a cluster; on its node: {tags[0]} (v1) and {tags[1]} (v2)")
    return tags


def _background(*args: str, ready: str) -> str:
    """`kubectl ARGS` ({} in them: a free loopback port) until this process exits, once `ready`
    answers 200 there (server.start: one wait, one stop); its URL."""
    local = free_port()
    return start(["kubectl", *(arg.format(local) for arg in args)], port=local, ready_path=ready, echo=False).url


def port_forward(target: str, port: int) -> str | None:
    """`kubectl port-forward` in the background; its URL (None without a cluster). It pins one pod."""
    if unreachable():
        print(NO_CLUSTER)
        return None
    url = _background("port-forward", target, "{}:" + str(port), ready="/health")
    print(f"$ kubectl port-forward {target} {url.rsplit(':', 1)[1]}:{port}")
    return url


def golden(url: str | None, headers: dict[str, str] | None = None, table: bool = True) -> list[tuple[str, str]]:
    """`penguins smoke` through `url`, its table (or last line) printed; each record's expected and served answer."""
    from penguins import smoke

    if url is None:
        print(NO_CLUSTER)
        return []
    cases = smoke.load_cases(room.root() / "tests" / "golden.json")
    report = smoke.run(url, cases, client=PenguinClient(url, headers=headers))
    print(report.describe() if table else report.describe().splitlines()[-1])
    return [(result.case.expect, str(result.over_http)) for result in report.results]


@cache
def _proxy() -> str:
    return _background("proxy", "--port={}", ready="/readyz")


def service_url(service: str, port: int, namespace: str = "default") -> str:
    """The Service through `kubectl proxy`: each request to a ready pod, so a load survives a pod going."""
    return f"{_proxy()}/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy"


def load_client(url: str, headers: dict[str, str] | None = None) -> PenguinClient:
    """No retries (each failure counts) and a connection per request: kube-proxy balances connections,
    so a kept-alive one stays with a pod that may close it as it stops."""
    return PenguinClient(url, headers={"Connection": "close", **(headers or {})}, retries=0)


def paced(service: str = "penguins", port: int = 8000) -> paced_load.Running:
    """A paced load on the Service through `kubectl proxy` while the cell types kubectl, each answer's
    model version read, a second before and after (a plot shows both sides). No cluster: no load."""
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
    """One replica's CPU seconds per request and p99 (ms) at 10 connections, as `make bench` measured."""
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
    """`make k8s-up|k8s-down`: kind's cluster `kind` with the model's image, or gone; CI: .ci/k8s-cluster.sh."""
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

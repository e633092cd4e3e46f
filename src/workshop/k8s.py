"""Kubernetes for the classroom: the manifests' rules, and kubectl against a real cluster.

A Deployment is judged on paper first, here once for tests/test_k8s.py (the lecture's
k8s/deployment.yaml) and exercise 07c's check (a student's):
1. the Kubernetes schema, strict (kubernetes-validate carries the schemas: nothing downloads),
   so a misspelt field or a wrong type is refused as the API server would refuse it;
2. the ties to the facts it repeats: the port and the user of docker/Dockerfile, the probe
   paths the app serves (readiness on /ready, liveness on /health), the image `make
   docker-build` tags, settings the service reads, a rollout that never loses a ready replica,
   and a key that comes from a Secret, never written into the file.
Each problem says what was expected, what was found and one thing to try.

Then on a cluster, whichever the current kubectl context names (kind on a laptop, the cluster
of .ci/k8s-cluster.sh in CI): the lesson's steps are kubectl commands in plain view; this module
only builds and loads the images, keeps `port-forward` and `kubectl proxy` running in the
background, and counts a paced load's answers while a rollout runs.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import yaml

from penguins.client import PenguinClient
from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.settings import PREFIX, Settings
from workshop import docker, paced_load, rollout, room
from workshop.server import stop_process

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FOLDER = "k8s"
KUBERNETES = "1.37.0"  # the schemas' version: kubernetes-validate 1.37.0 carries them
# The probes' paths (tests/test_k8s.py checks that the app serves them).
READINESS = "/ready"  # 200 once the model is loaded: traffic may come
LIVENESS = "/health"  # 200 while the process answers at all, model or not
MAX_READINESS_PERIOD_S = 10  # a replica that stops being ready gets no traffic within seconds
SECRET_ENV = f"{PREFIX}API_KEY"
DOCS = "https://kubernetes.io/docs/"


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: as the checks of the exercises word it."""

    where: str
    expected: str
    found: str
    tip: str

    def __str__(self) -> str:
        return f"{self.where}: expected {self.expected}; found {self.found}. Try: {self.tip}"


def load(path: Path | str) -> dict[str, Any]:
    """One manifest file as a dict (an empty or non-mapping file as an empty one)."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return document if isinstance(document, dict) else {}


def manifest(name: str) -> dict[str, Any]:
    """A file of the project's k8s/ folder."""
    return load(room.root() / FOLDER / name)


def schema_problem(document: dict[str, Any]) -> Problem | None:
    """The document against the Kubernetes schema of its kind, strict: unknown fields refused."""
    try:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or document.get("kind", "the document")
        return Problem(
            where,
            f"a valid {document.get('kind', 'manifest')} (Kubernetes {KUBERNETES}, strict)",
            error.message,
            "field names are case-sensitive camelCase; `kubectl explain deployment.spec` lists them",
        )
    except kubernetes_validate.SchemaNotFoundError as error:
        return Problem("kind", "a kind and apiVersion Kubernetes knows", error.message, "apiVersion: apps/v1")
    return None


def setting_names() -> frozenset[str]:
    """Every environment variable the service reads."""
    return frozenset(PREFIX + name.upper() for name in Settings.model_fields)


def deployment_problems(deployment: dict[str, Any], hardened: bool = True) -> list[Problem]:
    """Everything wrong with a Deployment of the model's image, schema first (the ties assume
    a valid document), an empty list when it is right. `hardened`: held to k8s/deployment.yaml's
    standard (liveness, a non-root read-only container, settings, an explicit rollout); else
    to what a first Deployment needs to serve without losing a request (exercise 07c)."""
    invalid = schema_problem(deployment)
    if invalid is not None:
        return [invalid]
    spec = deployment.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = pod.get("containers") or []
    if len(containers) != 1:
        return [Problem("containers", "one container, the model's", f"{len(containers)}", "one image per pod here")]
    container = containers[0]
    return [
        *_selector_problems(spec),
        *_rollout_problems(spec, hardened),
        *_image_problems(container, hardened),
        *_probe_problems(container, hardened),
        *(_user_problems(pod, container) + _env_problems(container) if hardened else []),
    ]


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
    return labels or {}


def _selector_problems(spec: dict[str, Any]) -> list[Problem]:
    wanted = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if wanted and wanted.items() <= labels.items():
        return []
    return [
        Problem(
            "spec.selector.matchLabels",
            "labels the pod template carries, so the Deployment finds the pods it makes",
            f"{wanted} for pods labelled {labels}",
            "the same key and value under `selector.matchLabels` and `template.metadata.labels`",
        )
    ]


def _unavailable(value: int | str, replicas: int) -> int:
    """How many pods a rollout may take away: maxUnavailable as Kubernetes reads it (a
    percentage of the replicas, rounded down)."""
    text = str(value)
    return int(text[:-1]) * replicas // 100 if text.endswith("%") else int(text)


def _rollout_problems(spec: dict[str, Any], hardened: bool) -> list[Problem]:
    found: list[Problem] = []
    replicas = spec.get("replicas") or 1  # Kubernetes runs 1 when it is left out (or null)
    if replicas < 2:
        found.append(
            Problem(
                "spec.replicas",
                "enough replicas that one can go while the others answer",
                f"{replicas}",
                "as many as the room runs (docker/compose.room.yaml)",
            )
        )
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type", "RollingUpdate")
    rolling = strategy.get("rollingUpdate") or {}
    unavailable, surge = rolling.get("maxUnavailable", "25%"), rolling.get("maxSurge", "25%")
    # The lecture's Deployment states 0 itself: its autoscaler may run 6 replicas, 25 % of which is one.
    some_go = str(unavailable) not in ("0", "0%") if hardened else _unavailable(unavailable, replicas) > 0
    if kind != "RollingUpdate":
        found.append(
            Problem(
                "spec.strategy.type",
                "a rolling update (old pods serve until new ones are ready)",
                f"{kind}: every old pod is stopped before a new one starts",
                f"the Deployment's strategy in {DOCS}concepts/workloads/controllers/deployment/#strategy",
            )
        )
    elif some_go:
        found.append(
            Problem(
                "spec.strategy.rollingUpdate.maxUnavailable",
                "no replica taken away before its successor is ready",
                f"{unavailable!r}{'' if 'maxUnavailable' in rolling else ' (the default)'}: "
                "the Deployment may stop old pods first and serve with fewer",
                f"maxUnavailable in {DOCS}concepts/workloads/controllers/deployment/#max-unavailable",
            )
        )
    elif str(surge) in ("0", "0%"):
        found.append(
            Problem(
                "spec.strategy.rollingUpdate.maxSurge",
                "room for at least one new pod beside the old ones",
                f"{surge!r} with no pod allowed to be unavailable: the rollout cannot move",
                "one extra pod at a time is usual",
            )
        )
    return found


def _image_problems(container: dict[str, Any], hardened: bool) -> list[Problem]:
    found: list[Problem] = []
    image = str(container.get("image", ""))
    name, _, tag = image.partition(":")
    if name != docker.IMAGE:
        expected = f"the image `make docker-build` tags, {docker.IMAGE}"
        found.append(Problem("image", expected, repr(image), "the Makefile's IMAGE"))
    # Without a policy Kubernetes pulls a `latest` (or untagged) image every time, another tag once.
    policy = container.get("imagePullPolicy") or ("Always" if tag in ("", "latest") else "IfNotPresent")
    if policy != "IfNotPresent" and (hardened or policy == "Always"):
        found.append(
            Problem(
                "imagePullPolicy",
                "the image loaded into the cluster to be used as it is (kind load docker-image)",
                repr(container.get("imagePullPolicy", f"the default for {image!r}, {policy}")),
                "the policy that pulls only when the node lacks the image",
            )
        )
    return found


def _probe_problems(container: dict[str, Any], hardened: bool) -> list[Problem]:
    image_port = docker.Dockerfile.read().port
    ports = container.get("ports") or []
    found: list[Problem] = []
    if [port.get("containerPort") for port in ports] != [image_port]:
        shown = [port.get("containerPort") for port in ports]
        found.append(Problem("ports", f"the image's one port ({image_port})", f"{shown}", "the Dockerfile's EXPOSE"))
    names = {port["name"]: port.get("containerPort") for port in ports if "name" in port}
    for probe, path, why in (
        ("readinessProbe", READINESS, "the path that answers 200 only once the model is loaded"),
        ("livenessProbe", LIVENESS, "the path that answers while the process is alive, model or not"),
    ):
        if probe not in container and probe == "livenessProbe" and not hardened:
            continue  # a first Deployment may leave restarts to the container's own exit
        http = (container.get(probe) or {}).get("httpGet")
        if http is None:
            found.append(
                Problem(
                    probe,
                    f"an HTTP GET probe on {why}",
                    f"no {probe}" if probe not in container else "a probe that is not httpGet",
                    f"{DOCS}tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
                )
            )
            continue
        if http.get("path") != path:
            found.append(Problem(f"{probe}.httpGet.path", why, repr(http.get("path")), "GET /docs lists the paths"))
        port = http.get("port")
        if names.get(port, port) != image_port:
            found.append(
                Problem(
                    f"{probe}.httpGet.port",
                    f"the port the container listens on ({image_port}), by number or by its name",
                    f"{port!r}" + (f", the name of port {names[port]}" if port in names else ""),
                    "the container's `ports:`",
                )
            )
    period = (container.get("readinessProbe") or {}).get("periodSeconds") or 10  # Kubernetes' default
    if period > MAX_READINESS_PERIOD_S:
        found.append(
            Problem(
                "readinessProbe.periodSeconds",
                f"at most {MAX_READINESS_PERIOD_S} s, so a replica that stops being ready loses traffic soon",
                f"{period} s",
                "a few seconds",
            )
        )
    return found


def service_problems(service: dict[str, Any], deployment: dict[str, Any]) -> list[Problem]:
    """Everything wrong with a Service in front of the Deployment's pods: schema, a selector
    that picks them, a port that leads to the container's."""
    invalid = schema_problem(service)
    if invalid is not None:
        return [invalid]
    spec = service.get("spec") or {}
    selector, labels = spec.get("selector") or {}, pod_labels(deployment)
    if not selector or not selector.items() <= labels.items():
        return [
            Problem(
                "the Service's spec.selector",
                "labels the Deployment's pods carry, so the Service sends them requests",
                f"{selector} for pods labelled {labels}",
                "the labels under the Deployment's `template.metadata.labels`",
            )
        ]
    pod = deployment["spec"]["template"]["spec"]
    # Kubernetes sets NAME_PORT, NAME_SERVICE_HOST, NAME_SERVICE_PORT in every pod for each Service.
    stem = str(service.get("metadata", {}).get("name", "")).upper().replace("-", "_")
    clash = sorted({f"{stem}_PORT", f"{stem}_SERVICE_HOST", f"{stem}_SERVICE_PORT"} & setting_names())
    if clash and pod.get("enableServiceLinks") is not False:
        return [
            Problem(
                "the Service's name",
                "no variable Kubernetes derives from it that the service reads as a setting",
                f"{clash[0]}: Kubernetes sets it to tcp://<address>:<port> in the pods, and the service "
                "refuses to start on it",
                "turn the pods' Service variables off (`enableServiceLinks`, in the pod template's spec), "
                "or give the Service another name",
            )
        ]
    (container,) = pod["containers"]
    names = {port.get("name"): port.get("containerPort") for port in container.get("ports") or []}
    image_port = docker.Dockerfile.read().port
    targets = [port.get("targetPort", port.get("port")) for port in spec.get("ports") or []]
    if image_port in [names.get(target, target) for target in targets]:
        return []
    return [
        Problem(
            "the Service's ports",
            f"a targetPort that is the container's port ({image_port}), by number or by its name",
            f"targetPort {targets} (without one, the Service's own `port`)",
            f"{DOCS}concepts/services-networking/service/#defining-a-service",
        )
    ]


def _user_problems(pod: dict[str, Any], container: dict[str, Any]) -> list[Problem]:
    """The pod's and the container's securityContext together (the container's wins)."""
    user = docker.Dockerfile.read().last("USER")
    uid = int(user.value.split(":")[0]) if user else None
    context = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
    tip = f"{DOCS}tasks/configure-pod-container/security-context/"
    found: list[Problem] = []
    if context.get("runAsNonRoot") is not True:
        found.append(
            Problem("securityContext.runAsNonRoot", "true: no root inside", _shown(context, "runAsNonRoot"), tip)
        )
    if "runAsUser" in context and context["runAsUser"] != uid:
        found.append(Problem("securityContext.runAsUser", f"the image's USER, {uid}", f"{context['runAsUser']}", tip))
    if context.get("readOnlyRootFilesystem") is not True:
        found.append(
            Problem(
                "securityContext.readOnlyRootFilesystem",
                "true, as compose's read_only",
                _shown(context, "readOnlyRootFilesystem"),
                tip,
            )
        )
    return found


def _shown(context: dict[str, Any], field: str) -> str:
    return str(context[field]).lower() if field in context else "not set"


def _env_problems(container: dict[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    for variable in container.get("env") or []:
        name = variable.get("name")
        if name not in setting_names():
            found.append(
                Problem("env", "settings the service reads (PENGUINS_*)", repr(name), "penguins.serving.settings")
            )
        elif name == SECRET_ENV and "value" in variable:
            found.append(
                Problem(
                    f"env {SECRET_ENV}",
                    "the key from a Secret (valueFrom), so it never sits in a file in git",
                    "the key written into the manifest",
                    f"valueFrom.secretKeyRef in {DOCS}concepts/configuration/secret/",
                )
            )
    return found


def secret_reference(deployment: dict[str, Any]) -> tuple[str, str]:
    """(Secret name, key) the Deployment takes the API key from."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (variable,) = [item for item in container.get("env", []) if item["name"] == SECRET_ENV]
    reference = variable["valueFrom"]["secretKeyRef"]
    return str(reference["name"]), str(reference["key"])


def readme_commands() -> list[str]:
    """The commands of k8s/README.md's shell blocks, one per line, as a student types them
    (a line ending in a backslash joined with the next)."""
    text = (room.root() / FOLDER / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    joined = "\n".join(blocks).replace("\\\n", " ")
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip()]


def pinned_image() -> str:
    """The image `kubectl apply -k k8s/` runs: the Deployment's, with kustomization.yaml's tag."""
    (pin,) = manifest("kustomization.yaml")["images"]
    return f"{pin['name']}:{pin['newTag']}"


# ---------------------------------------------------------------- a cluster, through kubectl

KUBECTL = "kubectl"
CI_CLUSTER = ".ci/k8s-cluster.sh"  # CI's own cluster; `env` says where its kubectl and KUBECONFIG are
SECOND = "artifacts-v2"  # the second model version, as `make room-v2` trains it
SECOND_SEED = 7
RATE = 50.0  # requests/s of a paced load while a rollout runs
TIMEOUT = 3.0  # seconds each of those requests may take
# Each of those requests on a connection of its own, as a proxy in front of the Service spreads
# them: kube-proxy balances connections, not requests, so a kept-alive connection stays with one
# pod, and a request sent just as that pod stops and closes its idle connections is lost.
NEW_CONNECTION = {"Connection": "close"}
_background: list[subprocess.Popen[str]] = []
_proxy: list[str] = []  # the address `kubectl proxy` serves on, once it runs


class ClusterError(RuntimeError):
    """kubectl failed; the message is what it said."""


def kubectl(*args: str, timeout: float = 180, stdin: str | None = None) -> str:
    """kubectl with these arguments against the current context; what it printed."""
    result = subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)}: {(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


def unreachable() -> str:
    """Why no cluster answers kubectl here, or "" when one does."""
    if shutil.which(KUBECTL) is None:
        return "no kubectl here"
    try:
        kubectl("get", "--raw", "/readyz", timeout=20)
    except (ClusterError, subprocess.TimeoutExpired) as error:
        return str(error).strip().splitlines()[-1]
    return ""


def ci_environment() -> dict[str, str]:
    """PATH (its kubectl first) and KUBECONFIG of the cluster .ci/k8s-cluster.sh runs on this
    machine, or {} when none runs."""
    script = room.root() / CI_CLUSTER
    result = subprocess.run(["bash", str(script), "env"], capture_output=True, text=True, timeout=30)
    return dict(line.split("=", 1) for line in result.stdout.split()) if result.returncode == 0 else {}


def model_image(folder: Path | None = None) -> str:
    """The image of the model in `folder` (default: the artifacts), built (Docker's cache makes
    it quick when nothing changed) and on the cluster's node: kind's node keeps images of its
    own, so it is loaded there (`kind load docker-image`)."""
    from penguins.training import build

    if folder is None:
        folder = build.ensure(say=lambda line: None)
    tag = rollout.image_tag(folder)
    if not docker.engine().running:
        return tag
    rollout.build_version(folder)
    context = subprocess.run([KUBECTL, "config", "current-context"], capture_output=True, text=True).stdout.strip()
    if context.startswith("kind-"):
        kind = ["kind", "load", "docker-image", tag, "--name", context.removeprefix("kind-")]
        subprocess.run(kind, check=True, capture_output=True, timeout=600)
    return tag


def images(say: Callable[[str], None] = print) -> tuple[str, str]:
    """The images of the model and of its second version (trained as `make room-v2` does when
    missing), on the cluster's node; the API key in .room/; whether a cluster answers, in words."""
    from penguins.training import build

    second = room.root() / SECOND
    if not (second / rollout.MODEL_FILE).exists():
        build.train(second, seed=SECOND_SEED, say=lambda line: None)
        build.export(second, say=lambda line: None)
    tags = model_image(), model_image(second)
    room.make_secrets(say=lambda line: None)  # the API key k8s/ hands in as a Secret, in .room/
    reason = unreachable()
    if reason:
        say(f"No cluster answers kubectl ({reason}). Create one with kind: `kind create cluster` or `make k8s-up`")
        say("(k8s/README.md). Until then the kubectl cells print kubectl's own error; their saved outputs")
        say("show what they print on a cluster.")
    else:
        say(f"kubectl reaches a cluster; on its node: {tags[0]} (v1) and {tags[1]} (v2)")
    return tags


def _in_background(*args: str) -> str:
    """kubectl in the background until this process exits; the first line it printed. Its later
    lines (port-forward prints one per connection) are read and dropped, so it never blocks."""
    process = subprocess.Popen([KUBECTL, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


NO_CLUSTER = "no cluster: not run (step 1 says how to make one)"


def port_forward(target: str, port: int, namespace: str = "") -> str | None:
    """`kubectl port-forward <target> :<port>` (any free local port) in the background, shown
    with the line it prints; the local URL (None without a cluster). It pins one pod: when that
    pod goes, it breaks."""
    if unreachable():
        print(NO_CLUSTER)
        return None
    args = ("port-forward", target, f":{port}", *(("-n", namespace) if namespace else ()))
    line = _in_background(*args)  # "Forwarding from 127.0.0.1:40411 -> 8000"
    print(f"$ kubectl {' '.join(args)}\n{line}")
    return f"http://{line.split()[2]}"


def golden(url: str | None, headers: dict[str, str] | None = None, table: bool = True) -> list[tuple[str, str]]:
    """The golden set through `url`, compared with the model in this process (`penguins smoke`),
    its table (or its last line) printed; what answered each record: species and probability, or
    the refusal. [] without a cluster."""
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
    """A client for a paced load through a Service: a connection per request (NEW_CONNECTION) and
    no retries, so every failed request counts against the cluster, not hidden by the client."""
    return PenguinClient(url, headers={**NEW_CONNECTION, **(headers or {})}, retries=0)


class Paced:
    """A paced load (RATE requests/s, each within TIMEOUT) on a URL in the background, while the
    cell runs kubectl; each answer is read for its model version. It runs `wait` seconds before
    the cell goes on, and as long again after stop() is called, so a plot shows both sides.
    Without a URL (no cluster) it sends nothing."""

    def __init__(self, url: str | None, headers: dict[str, str] | None = None, wait: float = 1.0) -> None:
        self._wait = wait if url else 0.0
        self._running = (
            paced_load.start(
                lambda: load_client(str(url), headers),
                "/predict",
                CLEAN_RECORD,
                rate=RATE,
                timeout=TIMEOUT,
                answer=lambda response: str(response.json()["model_version"]),
            )
            if url
            else None
        )
        time.sleep(self._wait)

    def stop(self) -> paced_load.Load:
        """End the load (`wait` seconds from now); what it saw."""
        time.sleep(self._wait)
        return self._running.stop() if self._running else paced_load.Load()


def paced(service: str = "penguins", port: int = 8000, namespace: str = "default") -> Paced:
    """A paced load on the Service, through the API server's proxy (none without a cluster)."""
    return Paced(None if unreachable() else service_url(service, port, namespace))


def answers(seen: paced_load.Load) -> str:
    """What a load saw, in one line: sent, failed, the answers of each model version."""
    versions = Counter(shot.answer for shot in seen.shots if shot.ok)
    by_version = ", ".join(f"{version}: {count}" for version, count in versions.items())  # first to answer first
    return f"sent {seen.sent} in {seen.shots[-1].at:.0f} s, failed {seen.failed}; answers by version: {by_version}"


def replica_figures(bench_json: Path | str) -> tuple[float, float]:
    """One replica's figures as `make bench` measured them (bench/results/bench.json: the served
    /predict, one uvicorn process, at 10 connections): CPU seconds per request, p99 in ms."""
    rows = json.loads(Path(bench_json).read_text(encoding="utf-8"))["rows"]
    (row,) = [r for r in rows if r["name"] == "served /predict (ONNX)" and r["case"] == "10 connections"]
    return row["details"]["cpu_us_per_request"] / 1e6, row["details"]["p99_ms"]


def plot(seen: paced_load.Load, title: str) -> Figure | None:
    """Answers per second, stacked by model version (the first to answer in blue, the next in
    green), failed requests in red; without a load (no cluster) a line saying so."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not seen.shots:
        print(NO_CLUSTER)
        return None
    per_second = seen.answers_per_second()
    seconds = [second for second, _ in per_second]
    versions = list(dict.fromkeys(shot.answer for shot in seen.shots if shot.ok))
    figure, axes = plt.subplots(figsize=(9, 2.4))
    bottom = [0] * len(seconds)
    for version, colour in zip(versions, ("tab:blue", "tab:green"), strict=False):
        counts = [counts[version] for _, counts in per_second]
        axes.bar(seconds, counts, bottom=bottom, color=colour, label=version)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.bar(seconds, [bad for _, _, bad in seen.per_second()], bottom=bottom, color="tab:red", label="failed")
    axes.set(title=f"{title}: {answers(seen)}", xlabel="second", ylabel="answers")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.title.set_fontsize(9)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    plt.close(figure)
    return figure


KIND_CLUSTER = "kind"  # `kind create cluster`'s default name, as k8s/README.md uses it


def main(action: str) -> int:
    """`make k8s-up` / `k8s-down`: a kind cluster with the model's image on its node, or gone;
    under CI=true the cluster of .ci/k8s-cluster.sh (kind needs a registry that CI has not)."""
    if os.environ.get("CI") == "true":
        return subprocess.call(["bash", str(room.root() / CI_CLUSTER), "start" if action == "up" else "stop"])
    if shutil.which("kind") is None:
        print("no kind here: install kind and kubectl (https://kind.sigs.k8s.io/docs/user/quick-start/)")
        return 1
    there = KIND_CLUSTER in subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True).stdout.split()
    if action == "down":
        return subprocess.call(["kind", "delete", "cluster", "--name", KIND_CLUSTER]) if there else 0
    if not there and subprocess.call(["kind", "create", "cluster", "--name", KIND_CLUSTER]) != 0:
        return 1
    print(f"$ kind load docker-image {model_image()}: kubectl now talks to kind-{KIND_CLUSTER}")
    return 0

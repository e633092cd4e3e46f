"""The Kubernetes manifests (k8s/): validated offline and tied to the image they run.

No cluster can run on this machine, so a Deployment is judged in two ways, here once for both
tests/test_k8s.py (the lecture's k8s/deployment.yaml) and exercise 07's check (a student's):
1. the Kubernetes schema, strict (kubernetes-validate carries the schemas: nothing downloads),
   so a misspelt field or a wrong type is refused as the API server would refuse it;
2. the ties to the facts it repeats: the port and the user of docker/Dockerfile, the probe
   paths the app serves (readiness on /ready, liveness on /health), the image `make
   docker-build` tags, settings the service reads, a rollout that never loses a ready replica,
   and a key that comes from a Secret, never written into the file.
Each problem says what was expected, what was found and one thing to try.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from penguins.serving.settings import PREFIX, Settings
from workshop import docker, room

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


def deployment_problems(deployment: dict[str, Any]) -> list[Problem]:
    """Everything wrong with a Deployment of the model's image, schema first (the ties assume
    a valid document), an empty list when it is right."""
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
        *_rollout_problems(spec),
        *_image_problems(container),
        *_probe_problems(container),
        *_user_problems(pod, container),
        *_env_problems(container),
    ]


def _rollout_problems(spec: dict[str, Any]) -> list[Problem]:
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
    if kind != "RollingUpdate":
        found.append(
            Problem(
                "spec.strategy.type",
                "a rolling update (old pods serve until new ones are ready)",
                f"{kind}: every old pod is stopped before a new one starts",
                f"the Deployment's strategy in {DOCS}concepts/workloads/controllers/deployment/#strategy",
            )
        )
    elif str(unavailable) not in ("0", "0%"):
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


def _image_problems(container: dict[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    image = str(container.get("image", ""))
    if image.rsplit(":", 1)[0] != docker.IMAGE:
        expected = f"the image `make docker-build` tags, {docker.IMAGE}"
        found.append(Problem("image", expected, repr(image), "the Makefile's IMAGE"))
    if container.get("imagePullPolicy") != "IfNotPresent":
        found.append(
            Problem(
                "imagePullPolicy",
                "the image loaded into the cluster to be used as it is (kind load docker-image)",
                repr(container.get("imagePullPolicy", "the default")),
                "the policy that pulls only when the node lacks the image",
            )
        )
    return found


def _probe_problems(container: dict[str, Any]) -> list[Problem]:
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

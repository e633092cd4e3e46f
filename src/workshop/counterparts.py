"""Stage 07's ideas in the server room and on Kubernetes, side by side (notebook 07c).

Each side is read from the file that holds it (docker/compose.room.yaml, the Makefile, k8s/*),
never retyped: an excerpt is the line that starts with a key, plus the lines under it that are
indented deeper (a Makefile rule: its tab-indented recipe). A renamed key fails loudly here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from workshop import room


@dataclass(frozen=True)
class Excerpt:
    """The block of `file` that starts with a line beginning with `key`, found after `after`."""

    file: str
    key: str
    after: str = ""

    def text(self) -> str:
        lines = (room.root() / self.file).read_text(encoding="utf-8").splitlines()
        start = next((i for i, line in enumerate(lines) if self.after in line), None) if self.after else 0
        first = next((i for i in range(start or 0, len(lines)) if lines[i].lstrip().startswith(self.key)), None)
        if start is None or first is None:
            raise ValueError(f"{self.file} has no line starting with {self.key!r} after {self.after!r}")
        indent = len(lines[first]) - len(lines[first].lstrip())
        end = first + 1
        while end < len(lines) and lines[end].strip() and _deeper(lines[end], indent):
            end += 1
        return "\n".join(line[indent:] for line in lines[first:end])


def _deeper(line: str, indent: int) -> bool:
    return line.startswith("\t") or len(line) - len(line.lstrip()) > indent


@dataclass(frozen=True)
class Pair:
    idea: str
    room: tuple[Excerpt, ...]
    kubernetes: tuple[Excerpt, ...]


COMPOSE, DEPLOYMENT = room.COMPOSE_FILE, "k8s/deployment.yaml"
PAIRS: tuple[Pair, ...] = (
    Pair(
        "replicas ↔ a Deployment",
        (Excerpt(COMPOSE, "deploy:", "penguins-blue:"),),
        (Excerpt(DEPLOYMENT, "replicas:"),),
    ),
    Pair(
        "compose's DNS name ↔ a Service",
        (Excerpt(COMPOSE, "networks:", "x-model:"),),
        (Excerpt("k8s/service.yaml", "spec:"),),
    ),
    Pair(
        "the proxy at the domain ↔ an Ingress",
        (Excerpt(COMPOSE, "ports:", "  proxy:"),),
        (Excerpt("k8s/ingress.yaml", "spec:"),),
    ),
    Pair(
        "the healthcheck ↔ probes",
        (Excerpt(COMPOSE, "healthcheck:", "x-model:"),),
        (Excerpt(DEPLOYMENT, "readinessProbe:"), Excerpt(DEPLOYMENT, "livenessProbe:")),
    ),
    Pair(
        "blue/green ↔ a rolling update",
        (Excerpt(COMPOSE, "penguins-green:"), Excerpt("Makefile", "room-rollout:")),
        (Excerpt(DEPLOYMENT, "strategy:"),),
    ),
    Pair(
        "`make room-rollback` ↔ `kubectl rollout undo`",
        (Excerpt("Makefile", "room-rollback:"),),
        (Excerpt("k8s/README.md", "kubectl rollout undo"),),
    ),
    Pair(
        "the API key's file ↔ a Secret",
        (Excerpt(COMPOSE, "- ../.room:"), Excerpt(room.NGINX_CONF, "location = /predict {")),
        (Excerpt(DEPLOYMENT, "- name: PENGUINS_API_KEY"),),
    ),
)


def html_table(pairs: tuple[Pair, ...] = PAIRS) -> str:
    """The pairs as an HTML table of two code columns, each block headed by its file."""

    def column(excerpts: tuple[Excerpt, ...]) -> str:
        return "".join(
            f"<b>{html.escape(e.file)}</b><pre style='text-align:left'>{html.escape(e.text())}</pre>" for e in excerpts
        )

    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(p.idea)}</td>"
        f"<td style='text-align:left'>{column(p.room)}</td><td style='text-align:left'>{column(p.kubernetes)}</td></tr>"
        for p in pairs
    )
    head = "<tr><th>idea</th><th>the server room (one machine)</th><th>Kubernetes (a cluster)</th></tr>"
    return f"<table>{head}{rows}</table>"

"""Exercise 07c's check: a Deployment and a Service written from scratch, judged on paper first
(the Kubernetes schema, strict, and the rules k8s/ is held to: workshop.k8s, the one home of both).

check_deployment is exercise 07's former task 3 (a Deployment's probes and strategy, on paper),
moved here with the Kubernetes material.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from workshop.checks.common import CheckFailed, passed

TODO = "# TODO"


def _read(path: Path, what: str) -> str:
    if not path.exists():
        raise CheckFailed(f"no file {path.name}: run the %%writefile {path.name} cell first")
    text = path.read_text(encoding="utf-8")
    if any(line.strip() == TODO for line in text.splitlines()):
        raise CheckFailed(
            f"not done yet: write {what} in place of the line {TODO} in the %%writefile {path.name} "
            "cell, then run that cell and this one"
        )
    return text


def check_deployment(deployment_file: Path | str) -> None:
    """A Deployment's probes and rolling-update strategy, on paper."""
    from workshop import k8s  # the Kubernetes schemas load only for this task

    path = Path(deployment_file)
    text = _read(path, "the strategy and the probes")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CheckFailed(
            "the YAML: expected a file PyYAML can read; found "
            f"{' '.join(str(error).split())[:300]}. Try: indent with spaces only, each level two deeper "
            "than the key above it"
        ) from None
    problems = k8s.deployment_problems(document if isinstance(document, dict) else {})
    if problems:
        raise CheckFailed(str(problems[0]))
    passed(
        f"{path.name} is a valid Deployment (Kubernetes {k8s.KUBERNETES}, strict) and keeps the ties of "
        f"k8s/deployment.yaml: readiness on {k8s.READINESS}, liveness on {k8s.LIVENESS}, the image's port, "
        "a rollout that never loses a ready replica"
    )

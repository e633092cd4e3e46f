"""The release workflow of a student's fork (.github/workflows/release.yml) runs on GitHub, not here.

What it would run is tested here all the same: its steps call this repository's make targets,
which the rest of the suite tests, and this file ties the two together (every push: the fast
tests; a tag: the image, named by its model version, pushed to the fork's registry; every make
with CI unset, since CI=true means "start engines" here). `make lint` checks the file against
GitHub's workflow schema (check-jsonschema); the last test proves that check fails on a broken file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
CHECK = [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema", "vendor.github-workflows"]
UNSET_CI = "env -u CI "


def workflow() -> dict[Any, Any]:
    found: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return found


def runs(job: str) -> list[str]:
    """The shell lines a job runs, in order."""
    steps = workflow()["jobs"][job]["steps"]
    return [line.strip() for step in steps if "run" in step for line in step["run"].strip().splitlines()]


def make_calls(job: str) -> list[str]:
    return [line for line in runs(job) if re.search(r"\bmake\b", line)]


def test_every_push_runs_the_fast_tests_with_ci_unset() -> None:
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"] == {"branches": ["**"], "tags": ["*"]}
    assert "if" not in workflow()["jobs"]["test"]
    assert make_calls("test") == [f"{UNSET_CI}make setup", f"{UNSET_CI}make test-fast"]


def test_a_tag_pushes_the_image_named_by_its_model_version_after_the_tests() -> None:
    image = workflow()["jobs"]["image"]
    assert image["needs"] == "test" and image["if"] == "github.ref_type == 'tag'"
    assert image["permissions"]["packages"] == "write"
    assert make_calls("image") == [f"{UNSET_CI}make setup", f"{UNSET_CI}make docker-build"]
    script = "\n".join(runs("image"))
    assert 'version="$(.venv/bin/python -m workshop room version)"' in script
    assert 'image="ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/penguins-to-production:$version"' in script
    order = [script.index(step) for step in ("make docker-build", "docker login ghcr.io", 'docker push "$image"')]
    assert order == sorted(order)


def test_every_make_target_it_calls_exists_here() -> None:
    calls = make_calls("test") + make_calls("image")
    assert all(line.startswith(UNSET_CI) for line in calls)
    for line in calls:
        target = line.removeprefix(UNSET_CI).split()[1]
        dry = subprocess.run(["make", "--dry-run", target], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert dry.returncode == 0, f"make {target}: {dry.stderr}"


def test_the_schema_check_of_make_lint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    lint = re.search(r"^lint:.*\n((?:\t.*\n)*)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert lint and "check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/release.yml" in lint[1]
    broken = tmp_path / "release.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "run-on:", 1), encoding="utf-8")
    result = subprocess.run([*CHECK, str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "run-on" in result.stdout, result.stdout

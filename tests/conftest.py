"""Shared fixtures: one set of artifacts per test session, the golden set, a fresh-process runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "golden.json").read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """Train and export once per run into the private folder the root conftest.py made
    ($PENGUINS_ARTIFACTS, shared with the notebooks); tests never touch ./artifacts."""
    from penguins import build
    from penguins.paths import artifacts_dir

    return build.ensure(artifacts_dir(), say=lambda line: None)


@pytest.fixture(scope="session")
def golden() -> list[dict]:
    """Raw messy records from the data set, each with its true species from the data."""
    return GOLDEN


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter of this environment (nothing imported yet)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )

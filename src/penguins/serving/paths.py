"""Where artifacts live, the same answer from a notebook, a terminal or a test.

Notebooks run with `notebooks/` as their working directory and the CLI from the project
root; both must find the same `artifacts/`. In a container there is no project root, and
the location comes from the environment instead.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PENGUINS_ARTIFACTS"


def project_root() -> Path | None:
    """The checkout this package was installed from (editable install), if any."""
    candidate = Path(__file__).resolve().parents[3]
    return candidate if (candidate / "pyproject.toml").exists() else None


def artifacts_dir() -> Path:
    """$PENGUINS_ARTIFACTS, else `<project root>/artifacts`, else `./artifacts`."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    root = project_root()
    return (root if root else Path.cwd()) / "artifacts"

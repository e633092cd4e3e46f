"""Exercise 06's own build context: a folder holding everything the image needs, and nothing else.

prepare() writes it beside the notebook: the service (my_service.py, in exercise 05's shape),
the wrapper it imports (the penguins package's serving part), the model with its sidecar, the
serving requirements pinned (no torch), and a .dockerignore of its own. `docker build` sends
the daemon this folder alone, so the student's files are in the build and nothing else is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from penguins.serving.paths import artifacts_dir, project_root

SERVICE = Path(__file__).with_name("my_service.py")
MODEL_FILES = ("mlp.onnx", "mlp.onnx.json")
SERVE_REQUIREMENTS = "requirements/serve.txt"
CACHE = "__pycache__"
REQUIREMENTS_HEADER = "# What the service needs (the project's requirements/serve.txt): no torch, no scikit-learn"
DOCKERIGNORE = """\
# What `docker build` may send from this folder: only what the service needs. The Dockerfile,
# notes, caches and anything else you put here stay out, so `COPY . .` copies just these.
*
!my_service.py
!penguins
!artifacts/mlp.onnx
!artifacts/mlp.onnx.json
!requirements.txt
**/__pycache__
"""


def prepare(folder: str | Path = "06_context", artifacts: Path | None = None) -> Path:
    """Write the build context into `folder` (its Dockerfile, if any, is kept) and list it."""
    root = project_root()
    if root is None:
        raise RuntimeError("no project checkout found: the context is made from its files")
    context, model = Path(folder), Path(artifacts or artifacts_dir())
    for made in ("penguins", "artifacts"):
        shutil.rmtree(context / made, ignore_errors=True)
    (context / "artifacts").mkdir(parents=True)
    shutil.copy2(SERVICE, context / "my_service.py")
    (context / "penguins").mkdir()
    shutil.copy2(root / "src/penguins/__init__.py", context / "penguins/__init__.py")
    shutil.copytree(root / "src/penguins/serving", context / "penguins/serving", ignore=shutil.ignore_patterns(CACHE))
    for name in MODEL_FILES:
        shutil.copy2(model / name, context / "artifacts" / name)
    (context / "requirements.txt").write_text(requirements(root), encoding="utf-8")
    (context / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
    return context


def requirements(root: Path | None = None) -> str:
    """The context's requirements.txt: the project's requirements/serve.txt as it is (every package
    the service needs, pinned with its hashes by pip-compile) under a line that says so. The
    capstone writes the same text, so its image reuses the layer that installs them."""
    text = ((root or project_root() or Path.cwd()) / SERVE_REQUIREMENTS).read_text(encoding="utf-8")
    return f"{REQUIREMENTS_HEADER}\n{text}"


def summary(context: Path) -> str:
    """What the build will see of the folder, one line per group of files."""
    from workshop import docker

    sent = docker.sent_to_build(context)
    package = [path for path in sent if path.startswith("penguins/")]
    others = [path for path in sent if not path.startswith("penguins/")]
    lines = [f"{context.as_posix()}/ (what docker build sends from it, after its .dockerignore):"]
    lines += [f"  {path:<24} {(context / path).stat().st_size / 1e3:>6,.1f} kB" for path in others]
    lines.append(f"  penguins/ ({len(package)} files: the wrapper and what it imports)")
    return "\n".join(lines)

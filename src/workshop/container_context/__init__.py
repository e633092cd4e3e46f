"""The build context of notebook 06 and exercise 06: what the image needs and nothing else (`docker
build` sends the engine this folder alone): the serving package, the model, the pins, my_service.py."""

from __future__ import annotations

import shutil
from pathlib import Path

from penguins.serving.paths import artifacts_dir, project_root

SERVICE = Path(__file__).with_name("my_service.py")
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


def prepare(folder: str | Path = "06_context", artifacts: Path | None = None, service: bool = True) -> Path:
    """Write the build context into `folder` (its Dockerfile, if any, is kept); `service`: with my_service.py."""
    root = project_root()
    if root is None:
        raise RuntimeError("no project checkout found: the context is made from its files")
    context, model = Path(folder), Path(artifacts or artifacts_dir())
    for made in ("penguins", "artifacts"):
        shutil.rmtree(context / made, ignore_errors=True)
    shutil.copytree(
        root / "src/penguins/serving", context / "penguins/serving", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(root / "src/penguins/__init__.py", context / "penguins")
    (context / "artifacts").mkdir()
    for name in ("mlp.onnx", "mlp.onnx.json"):
        shutil.copy2(model / name, context / "artifacts")
    if service:
        shutil.copy2(SERVICE, context)
    (context / "requirements.txt").write_text(requirements(root), encoding="utf-8")
    ignored = DOCKERIGNORE if service else DOCKERIGNORE.replace("!my_service.py\n", "")
    (context / ".dockerignore").write_text(ignored, encoding="utf-8")
    return context


def requirements(root: Path | None = None) -> str:
    """requirements/serve.txt under a line that says so (the capstone's too: its image reuses the layer)."""
    text = ((root or project_root() or Path.cwd()) / "requirements/serve.txt").read_text(encoding="utf-8")
    return f"# What the service needs (the project's requirements/serve.txt): no torch, no scikit-learn\n{text}"


def summary(context: Path) -> str:
    """What the build gets, one line per file, the package as one (the Dockerfile is read, not copied)."""
    files = [p for p in sorted(context.rglob("*")) if p.is_file() and p.name != "Dockerfile"]
    package = [p for p in files if p.parts[len(context.parts)] == "penguins" and "__pycache__" not in p.parts]
    lines = [f"{context.as_posix()}/:"]
    for p in files:
        if p.parts[len(context.parts)] != "penguins":
            lines.append(f"  {p.relative_to(context).as_posix():<24} {p.stat().st_size / 1e3:>6,.1f} kB")
    return "\n".join([*lines, f"  penguins/ ({len(package)} files: the wrapper, the service and what they import)"])

"""`python -m workshop <command>`: classroom tools (serve, demo, doctor, lab, slides, ...).

Each command imports its module only when it runs, so `serve` and `stage-map` start quickly.
"""

from __future__ import annotations

import argparse
from importlib import import_module
from pathlib import Path
from typing import Any

from penguins.serving.paths import project_root


def tool(name: str) -> Any:
    """The workshop module `name`, imported now."""
    return import_module(f"workshop.{name}")


def call(module: str, function: str = "main") -> Any:
    """A command that calls workshop.<module>.<function> with the command's options."""
    return lambda **options: getattr(tool(module), function)(**options)


def said(error: Exception) -> bool:
    """Whether an error is one our code raises for a person (a RuntimeError of workshop or penguins,
    the engine's refusal): a command prints it and exits 1; any other is a bug and its traceback."""
    module = type(error).__module__.split(".")[0]
    return module == "docker" or (isinstance(error, RuntimeError) and module in ("workshop", "penguins"))


def root() -> Path:
    return project_root() or Path.cwd()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, run: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(run=run)
        return sub

    def prep(steps: list[str]) -> int:
        known = tool("prep").STEPS
        if unknown := sorted(set(steps) - set(known)):
            parser.error(f"unknown prep step(s) {', '.join(unknown)}: the steps are {', '.join(known)}")
        return int(tool("prep").run(tuple(steps) or known))

    command("demo", "the main job: raw messy records through every backend, then over HTTP", call("demo"))
    serve = command("serve", "a stage's server in the foreground (make serve-04), or an app", call("server", "run"))
    serve.add_argument(
        "target", help='a stage ("04": its backend, mode and port from the stage table) or an app ("module:attribute")'
    )
    serve.add_argument("--host", help="overrides PENGUINS_HOST (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    serve.add_argument("--port", type=int, help="overrides PENGUINS_PORT and the stage's port")
    serve.add_argument("--artifacts", help="artifacts folder (default: ./artifacts)")
    serve.add_argument("--run-dir", help="record the pid here so that `python -m penguins stop` can stop it")
    serve.add_argument("--parent", type=int, help="stop once this process is gone (a notebook's kernel)")
    serve.add_argument("--app-dir", default=".", help="where an app's module lives")
    command("doctor", "check this laptop before class", call("doctor", "run"))
    prep_steps = command("prep", "before class, on good Wi-Fi: environments, images, then doctor", prep)
    prep_steps.add_argument("steps", nargs="*", help="some of: serve-env node-env images kind doctor (default: all)")
    stage_map = command("stage-map", "print the stage map as a markdown table", stage_tables)
    stage_map.add_argument("--servers", action="store_true", help="the stage servers' table (README, Serving)")
    stage_map.add_argument("--make-help", action="store_true", help="the stage servers' lines of make help")
    lab = command("lab", "JupyterLab on the notebooks with the project's kernel", call("lab"))
    slides = command("slides", "present one lecture notebook as slides (RISE in JupyterLab)", call("lab"))
    slides.add_argument("notebook", help="the notebook, e.g. 04_wrapper_class")
    for jupyter in (lab, slides):
        jupyter.add_argument("--port", type=int, default=None)
        jupyter.add_argument("--token", default=None, help="login token (default: JupyterLab makes one)")
    command("serve-env", "build .venv-serve: the serving-only environment, no torch", call("serve_env", "ensure"))
    room = command("room", "stage 07's server room: docker/compose.room.yaml", room_command)
    room.add_argument(
        "action", choices=["certs", "up", "down", "ps", "rollout", "rollback", "rolling", "labels", "version", "build"]
    )
    room.add_argument(
        "target",
        nargs="?",
        help="rollout, rolling: the image of the new version; labels, version, build: an artifacts folder",
    )
    cluster = command("k8s", "notebook 07c's cluster: kind (under CI=true .ci/k8s-cluster.sh)", call("k8s"))
    cluster.add_argument("action", choices=["up", "down"])
    registry = command("registry", "stage 06's registry on 127.0.0.1: registry:2", call("registry"))
    registry.add_argument("action", choices=["up", "down", "push"], help="push: the serving image, by model version")
    release = command("release", "stage 09: tests, build, push, switch, smoke, keep or switch back", call("release"))
    release.add_argument("model", nargs="?", default="artifacts", help="the model's folder (default: artifacts)")
    release.add_argument("--tests", help="the tests step's command (default: make test-fast)")
    command("exercises", "regenerate exercises/ from solutions/ (instructors)", regenerate_exercises)
    command("my-exercises", "copy the exercises into my-exercises/; never overwrites your work", copy_exercises)
    check = command("check-exercises", "run a folder's exercises: ✓ / not done / failing per task", check_exercises)
    check.add_argument("folder", nargs="?", help="the notebooks' folder (default: my-exercises/)")
    options = vars(parser.parse_args())
    del options["command"]
    try:
        code = options.pop("run")(**options)
    except Exception as error:
        if not said(error):
            raise
        print(error)
        return 1
    return code if isinstance(code, int) else 0  # the tools that return what they made succeeded


def stage_tables(servers: bool, make_help: bool) -> None:
    stages = tool("stages")
    print(stages.make_help() if make_help else stages.servers_table() if servers else stages.markdown_table())


def room_command(action: str, target: str | None) -> Any:
    rollout = tool("rollout")
    return rollout.main(action, target) if action in rollout.ACTIONS else tool("room").main(action)


def check_exercises(folder: str | None) -> None:
    tool("progress").check_folder(Path(folder) if folder else root() / "my-exercises")


def copy_exercises() -> None:
    """A student's own copies of the exercises; never overwrites their work."""
    tool("exercises").copy_for_student(root() / "exercises", root() / "my-exercises")
    kernel = '"Python (penguins-to-production)"'
    print(f"work there: `python -m jupyterlab my-exercises` (from .venv) or VS Code, with the kernel {kernel}")


def regenerate_exercises() -> None:
    changed = tool("exercises").stale(root() / "solutions", root() / "exercises", write=True)
    for path in changed:
        print(f"{'wrote' if path.exists() else 'removed'} {path.relative_to(root())}")
    if not changed:
        print("exercises/ is up to date")


raise SystemExit(main())

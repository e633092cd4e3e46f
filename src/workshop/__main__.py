"""`python -m workshop <command>`: classroom tools (serve, demo, doctor, lab, slides, notebooks, ...)."""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="the main job: raw messy records through every backend, then over HTTP")
    serve = commands.add_parser("serve", help="a stage's server in the foreground (make serve-04), or an app")
    serve.add_argument(
        "target", help='a stage ("04": its backend, mode and port from the stage table) or an app ("module:attribute")'
    )
    serve.add_argument("--host", help="overrides PENGUINS_HOST (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    serve.add_argument("--port", type=int, help="overrides PENGUINS_PORT and the stage's port")
    serve.add_argument("--artifacts", help="artifacts folder (default: ./artifacts)")
    serve.add_argument("--run-dir", help="record the pid here so that `python -m penguins stop` can stop it")
    serve.add_argument("--parent", type=int, help="stop once this process is gone (a notebook's kernel)")
    serve.add_argument("--app-dir", default=".", help="where an app's module lives")
    commands.add_parser("doctor", help="check this laptop before class")
    prep_steps = commands.add_parser("prep", help="before class, on good Wi-Fi: environments, images, then doctor")
    prep_steps.add_argument("steps", nargs="*", help="some of: serve-env node-env images kind doctor (default: all)")
    stage_map = commands.add_parser("stage-map", help="print the stage map as a markdown table")
    stage_map.add_argument("--servers", action="store_true", help="the stage servers' table (README, Serving)")
    stage_map.add_argument("--make-help", action="store_true", help="the stage servers' lines of make help")
    glossary = commands.add_parser("glossary", help="print the Polish-English glossary as a markdown table")
    glossary.add_argument("--notebooks", action="store_true", help="rewrite its copies in notebooks/ instead")
    lab = commands.add_parser("lab", help="JupyterLab on the notebooks with the project's kernel")
    lab.add_argument("--port", type=int, default=None)
    lab.add_argument("--token", default=None, help="login token (default: JupyterLab makes one)")
    slides = commands.add_parser("slides", help="present one lecture notebook as slides (RISE in JupyterLab)")
    slides.add_argument("notebook", help="the notebook, e.g. 04_wrapper_class")
    slides.add_argument("--port", type=int, default=None)
    slides.add_argument("--token", default=None, help="login token (default: JupyterLab makes one)")
    run = commands.add_parser("notebooks", help="execute the lecture notebooks, save their outputs")
    run.add_argument("names", nargs="*", help="notebook file names (default: all lecture notebooks)")
    commands.add_parser("serve-env", help="build .venv-serve: the serving-only environment, no torch")
    commands.add_parser("guide", help="write the minutes of notebooks/INSTRUCTOR.md and the README from the notebooks")
    room = commands.add_parser("room", help="stage 07's server room: docker/compose.room.yaml")
    room.add_argument(
        "action", choices=["certs", "up", "down", "ps", "rollout", "rollback", "rolling", "labels", "version", "build"]
    )
    room.add_argument(
        "target",
        nargs="?",
        help="rollout, rolling: the image of the new version; labels, version, build: an artifacts folder",
    )
    cluster = commands.add_parser("k8s", help="notebook 07c's cluster: kind (under CI=true .ci/k8s-cluster.sh)")
    cluster.add_argument("action", choices=["up", "down"])
    registry = commands.add_parser("registry", help="stage 06's registry on 127.0.0.1: registry:2")
    registry.add_argument("action", choices=["up", "down", "push"], help="push: the serving image, by model version")
    release = commands.add_parser("release", help="stage 09: tests, build, push, switch, smoke, keep or switch back")
    release.add_argument("model", nargs="?", default="artifacts", help="the model's folder (default: artifacts)")
    release.add_argument("--tests", help="the tests step's command (default: make test-fast)")
    commands.add_parser("exercises", help="regenerate exercises/ from solutions/ (instructors)")
    commands.add_parser("my-exercises", help="copy the exercises into my-exercises/; never overwrites your work")
    check = commands.add_parser("check-exercises", help="run a folder's exercises: ✓ / not done / failing per task")
    check.add_argument("folder", nargs="?", help="the notebooks' folder (default: my-exercises/)")
    args = parser.parse_args()
    if args.command in ("exercises", "my-exercises"):
        return _exercises_command(args.command)
    if args.command == "guide":
        from penguins.serving.paths import project_root
        from workshop import guide

        return guide.main(project_root() or Path.cwd())
    if args.command == "check-exercises":
        from penguins.serving.paths import project_root
        from workshop import progress

        progress.check_folder(Path(args.folder) if args.folder else (project_root() or Path.cwd()) / "my-exercises")
        return 0
    if args.command in ("glossary", "lab", "slides", "notebooks", "serve-env"):
        return _notebook_command(args)
    if args.command == "serve":
        from workshop import server

        return server.run(
            args.target,
            host=args.host,
            port=args.port,
            artifacts=args.artifacts,
            run_dir=args.run_dir,
            parent=args.parent,
            app_dir=args.app_dir,
        )
    if args.command == "room":
        from workshop import rollout
        from workshop import room as server_room

        if args.action in rollout.ACTIONS:
            return rollout.main(args.action, args.target)
        return server_room.main(args.action)
    if args.command == "k8s":
        from workshop import k8s

        return k8s.main(args.action)
    if args.command == "registry":
        from workshop import registry as stage_06_registry

        return stage_06_registry.main(args.action)
    if args.command == "release":
        from workshop import release as pipeline

        return pipeline.main(args.model, args.tests)
    if args.command == "demo":
        from workshop import demo

        return demo.main()
    if args.command == "doctor":
        from workshop import doctor

        return doctor.run()
    if args.command == "prep":
        from workshop import prep

        if unknown := sorted(set(args.steps) - set(prep.STEPS)):
            parser.error(f"unknown prep step(s) {', '.join(unknown)}: the steps are {', '.join(prep.STEPS)}")
        return prep.run(tuple(args.steps) or prep.STEPS)
    from workshop import stages

    print(stages.make_help() if args.make_help else stages.servers_table() if args.servers else stages.markdown_table())
    return 0


def _notebook_command(args: argparse.Namespace) -> int:
    """The notebook tools: glossary, lab, slides, notebooks, serve-env."""
    if args.command == "glossary":
        from penguins.serving.paths import project_root
        from workshop import glossary

        if args.notebooks:
            for path in glossary.write_notebooks((project_root() or Path.cwd()) / "notebooks"):
                print(f"wrote {path.name}")
            return 0
        print(glossary.markdown_table())
        return 0
    if args.command == "lab":
        from workshop import lab

        return lab.main(args.port or lab.DEFAULT_PORT, args.token)
    if args.command == "slides":
        from workshop import lab

        return lab.main(args.port or lab.DEFAULT_PORT, args.token, slides=args.notebook)
    if args.command == "notebooks":
        from workshop import execute

        return execute.main(args.names)
    from workshop import serve_env

    if serve_env.is_ready():
        print(f"{serve_env.FOLDER}/ is up to date")
    else:
        serve_env.create()
    return 0


def _exercises_command(command: str) -> int:
    """`exercises` regenerates the generated folder; `my-exercises` gives a student their copies."""
    from penguins.serving.paths import project_root
    from workshop import exercises

    root = project_root() or Path.cwd()
    if command == "my-exercises":
        exercises.copy_for_student(root / "exercises", root / "my-exercises")
        print(
            "work there: `python -m jupyterlab my-exercises` (from .venv) or VS Code, "
            'with the kernel "Python (penguins-to-production)"'
        )
        return 0
    changed = exercises.write_all(root / "solutions", root / "exercises")
    for path in changed:
        print(f"{'wrote' if path.exists() else 'removed'} {path.relative_to(root)}")
    if not changed:
        print("exercises/ is up to date")
    return 0


raise SystemExit(main())

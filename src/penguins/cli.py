"""The command line: `python -m penguins <command>`. Every make target calls one of these,
so every stage also runs where make is missing (Windows)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from penguins.artifacts import ArtifactError


def cmd_train(args: argparse.Namespace) -> int:
    from penguins import build

    build.train(args.artifacts, seed=args.seed)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from penguins import build

    if any(name in build.TRAINED for name in build.missing(args.artifacts)):
        build.train(args.artifacts)
    build.export(args.artifacts)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from penguins import build

    folder = build.ensure(args.artifacts)
    print(f"artifacts ready in {folder}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict for records given as JSON (a list or one object), from a file or stdin."""
    from penguins.predictor import BACKEND_FILES, PenguinPredictor

    text = open(args.file, encoding="utf-8").read() if args.file else sys.stdin.read()
    records = json.loads(text)
    path = Path(args.artifacts) / BACKEND_FILES[args.backend] if args.artifacts else None
    predictor = PenguinPredictor.load(args.backend, path)
    for prediction in predictor.predict(records):
        print(json.dumps(prediction.__dict__))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from penguins import demo

    results = demo.predict_all()
    print("\nthe same raw records through every backend:")
    print(demo.table(results))
    if not demo.agree(results):
        print("the backends disagree: see the table above", file=sys.stderr)
        return 1
    print("all backends agree")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m penguins", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--artifacts", default=None, help="artifacts folder (default: ./artifacts)")
        sub.set_defaults(func=func)
        return sub

    add("train", cmd_train, "train both models and save pickle, skops and torch files").add_argument(
        "--seed", type=int, default=42
    )
    add("export", cmd_export, "export both models to ONNX (trains first if needed)")
    add("build", cmd_build, "build whatever artifact is missing")
    predict = add("predict", cmd_predict, "predict for raw JSON records (file or stdin)")
    predict.add_argument("file", nargs="?", help="JSON file; stdin when left out")
    predict.add_argument("--backend", default="mlp-onnx", choices=["sklearn-pickle", "sklearn-onnx", "mlp-onnx"])
    add("demo", cmd_demo, "raw messy records through every backend, side by side")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ArtifactError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

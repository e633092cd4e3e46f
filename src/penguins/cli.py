"""The command line: `python -m penguins <command>`. Every make target calls one of these,
so every stage also runs where make is missing (Windows)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from penguins.serving.artifacts import ArtifactError
from penguins.serving.contract import BACKENDS, DEFAULT_BACKEND


def cmd_train(args: argparse.Namespace) -> int:
    from penguins.training import build

    build.train(args.artifacts, seed=args.seed)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from penguins.training import build

    if any(name in build.TRAINED for name in build.missing(args.artifacts)):
        build.train(args.artifacts)
    try:
        build.export(args.artifacts)
    except ArtifactError as err:
        print(f"{err}\ntraining again from the data instead")
        build.train(args.artifacts)
        build.export(args.artifacts)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from penguins.training import build

    folder = build.ensure(args.artifacts)
    print(f"artifacts ready in {folder}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict for records given as JSON (a list or one object), from a file or stdin: one JSON
    line per record, {species, probabilities, model_version, warnings}, as the service answers.
    A record the wrapper will not answer: every problem on stderr with its code, exit 1."""
    from dataclasses import asdict

    from penguins.serving.cleaning import CleaningError, read_json
    from penguins.serving.contract import BACKEND_FILES
    from penguins.training.pickles import load_predictor

    text = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
    records = read_json(text)
    path = Path(args.artifacts) / BACKEND_FILES[args.backend] if args.artifacts else None
    predictor = load_predictor(args.backend, path)
    try:
        predictions = [predictor.predict_one(records)] if isinstance(records, dict) else predictor.predict(records)
    except CleaningError as err:
        for problem in err.problems:
            print(f"refused [{problem.code}] {problem}", file=sys.stderr)
        return 1
    for prediction in predictions:
        print(json.dumps(asdict(prediction)))
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    """Recent raw records (JSON Lines, as the station keeps them) against the training data the
    model's sidecar describes: one line per feature; exit 1 when a feature drifted, 0 when none."""
    from penguins.monitoring import drift
    from penguins.serving.artifacts import read_metadata
    from penguins.serving.contract import BACKEND_FILES
    from penguins.serving.paths import artifacts_dir

    folder = Path(args.artifacts) if args.artifacts else artifacts_dir()
    reference = read_metadata(folder / BACKEND_FILES[args.backend]).reference
    if reference is None:
        print(
            f"error: the sidecar of {folder / BACKEND_FILES[args.backend]} has no reference: train again",
            file=sys.stderr,
        )
        return 2
    try:
        records = drift.read_records(args.file)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report = drift.check_records(reference, records)
    print(report.describe())
    return 1 if report.drifted else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from penguins import serve

    return serve.main(args.host, args.port, args.artifacts, args.run_dir)


def cmd_stop(args: argparse.Namespace) -> int:
    from penguins import serve

    return serve.stop_all(Path(args.run_dir))


def cmd_smoke(args: argparse.Namespace) -> int:
    """Golden records through a running service, checked against the truth and the model here.
    Behind a proxy (stage 07's room): its CA, its API key, and the domain resolved as curl does."""
    from penguins import smoke
    from penguins.client import PenguinClient, ServiceError
    from penguins.serving.api.deps import API_KEY_HEADER

    host, _, address = (args.resolve or "").rpartition(":")
    key = Path(args.api_key_file).read_text(encoding="utf-8").strip() if args.api_key_file else None
    client = PenguinClient(
        args.url,
        verify=args.cacert or True,
        resolve={host: address} if host else None,
        headers={API_KEY_HEADER: key} if key else None,
    )
    try:
        report = smoke.run(args.url, smoke.load_cases(args.file), args.artifacts, client=client)
    except ServiceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(report.describe())
    return 0 if report.ok else 1


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
    predict.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKENDS)
    drift = add("drift", cmd_drift, "which features of recent records drifted from the training data")
    drift.add_argument("file", help="recent raw records, one JSON object per line (the station's recent.jsonl)")
    drift.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKENDS, help="whose sidecar has the reference")
    serve = add(
        "serve",
        cmd_serve,
        "serve the model the PENGUINS_* settings name over HTTP (FastAPI + uvicorn), "
        "in the foreground; a stage's server: python -m workshop serve 04",
    )
    serve.add_argument("--port", type=int, help="overrides PENGUINS_PORT (default 8000)")
    serve.add_argument("--host", help="overrides PENGUINS_HOST (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    serve.add_argument("--run-dir", help="record the pid here so that `python -m penguins stop` can stop it")
    stop = commands.add_parser("stop", help="stop the servers recorded in a run folder (make stop)")
    stop.add_argument("--run-dir", default=".run", help="the folder the servers recorded their pids in (.run)")
    stop.set_defaults(func=cmd_stop)
    smoke = add("smoke", cmd_smoke, "golden records through a running service (e.g. the container) over HTTP")
    smoke.add_argument("file", help='golden JSON file: {"cases": [{"record": ..., "species": ...}]}')
    smoke.add_argument("--url", required=True, help="the service, e.g. the container: make docker-smoke")
    smoke.add_argument("--cacert", help="check the service's certificate against this CA file (the room's)")
    smoke.add_argument("--api-key-file", help="send the key in this file as X-API-Key (the room's .room/api-key)")
    smoke.add_argument("--resolve", metavar="HOST:IP", help="connect to IP for HOST (curl --resolve without the port)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ArtifactError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

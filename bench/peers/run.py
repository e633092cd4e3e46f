"""`make bench-peers`: the served `/predict` against MLServer, BentoML, LitServe and Ray Serve,
same model, same run.

The ONNX file is served by all five (MLServer through a custom runtime, BentoML through ONNX
Runtime in its service, LitServe and Ray Serve through penguins' own PenguinPredictor, so the
same cleaning); the pickled scikit-learn pipeline by the first three.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import cold_start, http_load, load, machine, specs, targets
from bench.budget import Budget
from bench.peers import envs, same_client
from bench.peers import specs as peer_specs
from bench.report import Report
from bench.run import generator_name
from bench.servers import ROOT
from penguins.training import build

BASELINES = {
    http_load.SECTION: [(specs.SERVED_ONNX, "vs served ONNX"), (specs.SERVED_PICKLE, "vs served pickle")],
    cold_start.SECTION: [(specs.SERVED_ONNX, "vs served ONNX")],
}


def run(budget: Budget, artifacts: Path | None = None, use_wrk: bool = True, say=print) -> Report:
    here = machine.describe()
    folder = build.ensure(artifacts, say=lambda line: None).resolve()
    say(f"bench peers ({budget.name}): {here}")
    say("1/4 the peers' environments")
    for peer in envs.PEERS:
        envs.ensure(peer, say)
    wrk = load.ensure_wrk() if use_wrk else None
    servers = [
        specs.served(folder),
        peer_specs.mlserver(folder, "onnx"),
        peer_specs.bentoml(folder, "onnx"),
        peer_specs.litserve(folder),
        peer_specs.ray_serve(folder),
        specs.served(folder, "02"),
        peer_specs.mlserver(folder, "sklearn"),
        peer_specs.bentoml(folder, "sklearn"),
    ]
    log_dir = envs.PEERS_DIR / "logs"
    say(f"2/4 HTTP load with {generator_name(wrk)}")
    starts: dict[str, list[float]] = {}
    rows = http_load.measure(servers, budget, wrk, log_dir, starts)
    say("3/4 cold starts")
    rows += cold_start.measure(servers, budget, log_dir, starts)
    say("4/4 one client for any server: Triton's client asks MLServer")
    golden = json.loads((ROOT / "tests" / "golden.json").read_text())["cases"]
    records = [case["record"] for case in golden if case["expect"] == "answer"]
    same = same_client.check(folder, records, log_dir, say)
    notes = [
        "MLServer 1.7.1 (custom ONNX runtime, bench/peers/mlserver_onnx.py; mlserver-sklearn for the pickle) and "
        "BentoML 1.4 (bench/peers/bentoml_service.py), LitServe 0.2.19 (bench/peers/litserve_service.py) and "
        "Ray Serve 2.60 (bench/peers/ray_service.py), each with its defaults and one worker or replica, pinned in "
        "bench/peers/requirements-*.txt.",
        "MLServer and BentoML get the clean record as typed features (they have no cleaning); LitServe and Ray Serve "
        "get the raw record and clean it with penguins' own PenguinPredictor, as the served /predict does.",
        same + ".",
    ]
    measured = [verdict for verdict in targets.check(rows) if verdict.met is not None]
    return Report("Benchmarks: the peers", here, budget, generator_name(wrk), rows, measured, BASELINES, notes)

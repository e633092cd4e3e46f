"""`python -m bench.profile`: where a served /predict request's CPU goes, layer by layer.

The served `/predict` (as `make bench` starts it) is loaded by wrk at 10 connections while
py-spy (a sampling profiler, in its own pinned environment under bench/.peers/) samples the
server; each sample is charged to the layer of its innermost frame. Written to
bench/results/profile.md: the explanation, where a target cannot be met on 2 cores, of what
one request costs and whose code spends it.
"""

from __future__ import annotations

import collections
import subprocess
import threading
from pathlib import Path

from bench import load, machine, specs
from bench.peers import envs
from bench.run import RESULTS
from bench.servers import RunningServer
from penguins.training import build

SECONDS = 10
# Innermost frame's file → layer, first match wins.
LAYERS = [
    ("penguins/serving/cleaning", "cleaning (penguins.serving.cleaning)"),
    ("onnxruntime", "the model (ONNX Runtime)"),
    ("penguins/serving/predictor", "the wrapper's answer (penguins.serving.predictor)"),
    ("penguins/serving/api", "the HTTP layer (penguins.serving.api)"),
    ("penguins/serving/metrics", "metrics (penguins.serving.metrics, prometheus_client)"),
    ("prometheus_client", "metrics (penguins.serving.metrics, prometheus_client)"),
    ("logging", "the request's log line (logging)"),
    ("pydantic", "response validation and JSON (pydantic)"),
    ("fastapi", "routing, dependencies, responses (FastAPI, Starlette)"),
    ("starlette", "routing, dependencies, responses (FastAPI, Starlette)"),
    ("uvicorn", "HTTP parsing and the connection (uvicorn, httptools, asyncio)"),
    ("httptools", "HTTP parsing and the connection (uvicorn, httptools, asyncio)"),
    ("asyncio", "HTTP parsing and the connection (uvicorn, httptools, asyncio)"),
    ("numpy", "numpy"),
    ("json", "JSON parsing (json)"),
]


def layer(stack: str) -> str:
    innermost = stack.split(";")[-1]
    return next((name for key, name in LAYERS if key in innermost), "other (Python itself, selectors, ...)")


def main() -> int:
    folder = build.ensure(None, say=lambda line: None)
    py_spy = envs.ensure("py-spy") / "py-spy"
    wrk = load.ensure_wrk()
    out = Path(RESULTS) / "profile.md"
    raw = envs.PEERS_DIR / "profile.txt"
    with RunningServer(specs.served(folder), envs.PEERS_DIR / "logs") as server:
        server.check_predict()
        loading = threading.Thread(
            target=load.run, args=(server.url("/predict"), server.spec.body, 10, SECONDS + 2, 10**7, wrk)
        )
        loading.start()
        record = [str(py_spy), "record", "--pid", str(server.server.pid), "--duration", str(SECONDS)]
        subprocess.run([*record, "--rate", "250", "--format", "raw", "--output", str(raw)], check=True)
        loading.join()
    samples: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples[layer(stack)] += int(count)
    total = sum(samples.values())
    stack = sum(count for name, count in samples.items() if "uvicorn" in name or "FastAPI" in name)
    lines = [
        "# Where a served /predict request's CPU goes",
        "",
        f"{machine.describe()}. The served /predict (`python -m workshop serve 04`) under wrk at 10 connections "
        f"for {SECONDS} s, sampled by py-spy 0.4.3 at 250 Hz ({total:,} samples of the server's busy time), each "
        "sample charged to the layer of its innermost frame (`python -m bench.profile`).",
        "",
        "| layer | share of the server's CPU |",
        "| --- | ---: |",
        *[f"| {name} | {count / total:.1%} |" for name, count in samples.most_common()],
        "",
        f"The stack the bare endpoint runs too (uvicorn, FastAPI, Starlette) takes {stack / total:.0%} of it: with "
        "the model path beside it (ONNX, cleaning, the wrapper), the floor of served/bare CPU per request.",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

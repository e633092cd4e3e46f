"""`python -m bench.profile`: where a served /predict request's CPU goes, layer by layer.

The served `/predict` (as `make bench` starts it) is loaded by wrk at 10 connections while
py-spy (a sampling profiler, in its own pinned environment under bench/.peers/) samples the
server; each sample is charged to the layer of its innermost frame. Each layer's share is
turned into µs with the CPU per request measured before sampling (py-spy pauses the server to
read it), beside the bare endpoint's of the same run. Written to bench/results/profile.md: the
explanation, where a target cannot be met on 2 cores, of what one request costs and whose code
spends it: the stack both servers run plus the model path is the floor no code of ours can cut.
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
from bench.targets import BARE_CPU as TARGET
from bench.targets import BARE_RATE as RATE_TARGET
from penguins.training import build

SECONDS = 10
CONNECTIONS = 10
# The stack the bare endpoint runs too, and the model path no service of this model can skip.
STACK = ("HTTP parsing and the connection", "routing, dependencies, responses")
MODEL_PATH = ("the model (ONNX Runtime)", "cleaning (", "the wrapper's answer", "numpy")
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


def cpu_per_request(server: RunningServer, wrk: str, seconds: float = 5) -> float:
    """The server's CPU µs per answered request under wrk at CONNECTIONS connections."""
    before = server.cpu_seconds()
    result = load.run(server.url("/predict"), server.spec.body, CONNECTIONS, seconds, 10**7, wrk)
    return (server.cpu_seconds() - before) / result.requests * 1e6


def sample(server: RunningServer, wrk: str, py_spy: Path) -> collections.Counter[str]:
    """py-spy's samples of the server under load, counted by layer."""
    raw = envs.PEERS_DIR / "profile.txt"
    args = (server.url("/predict"), server.spec.body, CONNECTIONS, SECONDS + 2, 10**7, wrk)
    loading = threading.Thread(target=load.run, args=args)
    loading.start()
    record = [str(py_spy), "record", "--pid", str(server.server.pid), "--duration", str(SECONDS)]
    subprocess.run([*record, "--rate", "250", "--format", "raw", "--output", str(raw)], check=True)
    loading.join()
    samples: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples[layer(stack)] += int(count)
    return samples


def floor(samples: collections.Counter[str], served_us: float, bare_us: float) -> list[str]:
    """The lines that weigh the target against what the stack and the model path cost."""
    total = sum(samples.values())

    def us(prefixes: tuple[str, ...]) -> float:
        return served_us * sum(n for name, n in samples.items() if name.startswith(prefixes)) / total

    stack, model = us(STACK), us(MODEL_PATH)
    return [
        f"CPU per request at {CONNECTIONS} connections, measured before sampling: served {served_us:,.0f} µs, "
        f"bare endpoint {bare_us:,.0f} µs ({served_us / bare_us:.2f}×); the target is ≤ {TARGET}× "
        f"({TARGET * bare_us:,.0f} µs).",
        "",
        f"- The stack both run (uvicorn, httptools, asyncio, FastAPI, Starlette) takes {stack:,.0f} µs of a served "
        f"request, whose body it reads (the bare endpoint's whole request, body unread: {bare_us:,.0f} µs).",
        f"- The model path, which no service of this model can skip (cleaning, ONNX Runtime, the wrapper's answer, "
        f"numpy), takes {model:,.0f} µs.",
        f"- Those two alone are {stack + model:,.0f} µs, {(stack + model) / bare_us:.2f}× the bare endpoint's, "
        "before the request's log line, its count, JSON and the HTTP layer of ours: "
        + (
            f"the {TARGET}× target cannot be met by this stack on this machine."
            if stack + model > TARGET * bare_us
            else f"within the {TARGET}× target, which our own layers then exceed."
        ),
        f"- One worker at {CONNECTIONS} connections is CPU-bound, so its req/s is about 1 s / CPU per request: "
        f"≥ {RATE_TARGET * 100:.0f} % of the bare endpoint's req/s asks ≤ {1 / RATE_TARGET:.2f}× its CPU per request, "
        "and the p99 of a full queue grows with the CPU per request too.",
    ]


def main() -> int:
    folder = build.ensure(None, say=lambda line: None)
    py_spy = envs.ensure("py-spy") / "py-spy"
    wrk = load.ensure_wrk()
    if wrk is None:
        raise SystemExit("wrk is missing: install Debian's wrk (make bench installs it as root)")
    with RunningServer(specs.bare(), envs.PEERS_DIR / "logs") as bare:
        bare.check_predict()
        bare_us = cpu_per_request(bare, wrk)
    with RunningServer(specs.served(folder), envs.PEERS_DIR / "logs") as server:
        server.check_predict()
        served_us = cpu_per_request(server, wrk)
        samples = sample(server, wrk, py_spy)
    total = sum(samples.values())
    lines = [
        "# Where a served /predict request's CPU goes",
        "",
        f"{machine.describe()}. The served /predict (`python -m workshop serve 04`) under wrk at {CONNECTIONS} "
        f"connections for {SECONDS} s, sampled by py-spy 0.4.3 at 250 Hz ({total:,} samples of the server's busy "
        "time), each sample charged to the layer of its innermost frame (`python -m bench.profile`).",
        "",
        "| layer | share of the server's CPU | µs per request |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {n / total:.1%} | {served_us * n / total:,.0f} |" for name, n in samples.most_common()],
        "",
        *floor(samples, served_us, bare_us),
        "",
    ]
    out = Path(RESULTS) / "profile.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

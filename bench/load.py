"""Load generators: Debian's `wrk` when it is installed, else a small asyncio client.

Both hold a fixed number of keep-alive connections, each sending its next request as soon
as the previous answer arrives (a closed loop), and both report requests/s and the p50 and
p99 latency. wrk is written in C and leaves the server most of the CPU on a 2-core machine;
the Python client costs a core itself, so its figures are lower and only comparable within
one run. wrk bounds a run in time, in whole seconds (counting responses in Lua halved its rate
here); the Python client stops at the time limit or the request limit, whichever comes first.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")


@dataclass(frozen=True)
class Load:
    """What one load test measured."""

    requests: int
    seconds: float
    errors: int  # non-2xx answers and socket errors
    p50_ms: float
    p99_ms: float
    server_cpu_s: float | None = None  # the server's CPU seconds meanwhile, where its process is ours to read

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        """The server's CPU time per answered request, in µs: unlike req/s, it hardly moves when
        a neighbour takes a core, so it can resolve an A/B of a few per cent."""
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6


def ensure_wrk(install: bool = True) -> str | None:
    """The path of wrk; as root with apt-get, install Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(command, env=env, capture_output=True, timeout=600).returncode != 0:
            return None
    return shutil.which("wrk")


def run(
    url: str,
    body: bytes,
    connections: int,
    seconds: float,
    max_requests: int,
    wrk: str | None,
    headers: dict[str, str] | None = None,
) -> Load:
    """One closed-loop load test of POST url with `body` on `connections` connections;
    `headers` are sent with every request (the server room's Host and API key)."""
    if wrk:
        return wrk_load(wrk, url, body, connections, seconds, headers or {})
    return asyncio.run(python_load(url, body, connections, seconds, max_requests, headers or {}))


def wrk_load(
    wrk: str, url: str, body: bytes, connections: int, seconds: float, headers: dict[str, str] | None = None
) -> Load:
    """wrk with one thread (the server has the other core) and our Lua script's JSON summary.

    wrk takes whole seconds only, so a run lasts at least one second.
    """
    extra = [part for name, value in (headers or {}).items() for part in ("-H", f"{name}: {value}")]
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(WRK_SCRIPT),
        *extra,
        url,
    ]
    env = {**os.environ, "BENCH_BODY": body.decode()}
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 30, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=figures["non_2xx"] + figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1e3,
        p99_ms=figures["p99_us"] / 1e3,
    )


async def python_load(
    url: str, body: bytes, connections: int, seconds: float, max_requests: int, headers: dict[str, str] | None = None
) -> Load:
    """The fallback generator: asyncio streams speaking just enough HTTP/1.1 keep-alive.

    An https URL is spoken over TLS without checking the certificate, as wrk does: the load
    goes to 127.0.0.1 only, and what is measured is the cost of the encryption, not trust.
    """
    parts = urlsplit(url)
    fields = {"Host": parts.netloc, "Content-Type": "application/json", **(headers or {})}
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    request = f"POST {parts.path} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    tls = None
    if parts.scheme == "https":
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    latencies: list[float] = []
    errors = [0]
    budget = [max_requests]
    start = time.perf_counter()
    deadline = start + seconds

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=tls)
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                sent = time.perf_counter()
                writer.write(request)
                if not await _read_response(reader):
                    errors[0] += 1
                latencies.append(time.perf_counter() - sent)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies) or [0.0]
    return Load(
        requests=len(latencies),
        seconds=elapsed,
        errors=errors[0],
        p50_ms=ordered[len(ordered) // 2] * 1e3,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
    )


async def _read_response(reader: asyncio.StreamReader) -> bool:
    """Read one response (status line, headers, Content-Length body); True when it was 2xx."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return 200 <= status < 300

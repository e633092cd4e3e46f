"""`async def` or `def`: why the service's endpoints are written the way they are (stage 05).

FastAPI runs an `async def` endpoint on the event loop: one thread for every request, which
moves on to another request only where the code awaits. A plain `def` endpoint runs in a
thread pool, so while it works the loop keeps serving everyone else. penguins.serving.api uses
`async def` because the ONNX model answers in tens of microseconds, less than the hop to a
thread costs; a slow model (the pickled pipeline takes milliseconds, a big network far more)
written that way would make every other request wait for each prediction.

This app makes the difference visible: the same slow "model" (a sleep standing in for a
long computation) behind both styles. together() sends a few requests at once and measures
how long they took in all. A notebook starts the app with workshop.server:

    server = start("workshop.endpoint_style:app")
    together(server.url + "/async-def")   # ~ calls x SLOW_SECONDS: one after another
    together(server.url + "/def")         # ~ SLOW_SECONDS: side by side in the thread pool
    per_second(server.url + "/fast/def")  # a microsecond "model": the hop to a thread shows

No `from __future__ import annotations`: FastAPI reads the endpoints' annotations.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from fastapi import FastAPI

SLOW_SECONDS = 0.2  # one prediction of the pretend slow model
CALLS = 4

app = FastAPI(title="async def or def")


def _slow_model() -> dict[str, str]:
    """Blocks its thread, as a computation does: time.sleep never gives the event loop back."""
    time.sleep(SLOW_SECONDS)
    return {"species": "Adelie"}


@app.get("/async-def")
async def on_the_event_loop() -> dict[str, str]:
    return _slow_model()


@app.get("/def")
def in_the_thread_pool() -> dict[str, str]:
    return _slow_model()


def _fast_model() -> dict[str, str]:
    """A few microseconds of work, as the ONNX model takes: here the thread hop is the cost."""
    return {"species": max(("Adelie", "Chinstrap", "Gentoo"), key=len)}


@app.get("/fast/async-def")
async def fast_on_the_event_loop() -> dict[str, str]:
    return _fast_model()


@app.get("/fast/def")
def fast_in_the_thread_pool() -> dict[str, str]:
    return _fast_model()


def together(url: str, calls: int = CALLS, timeout: float = 30.0) -> float:
    """Seconds until `calls` simultaneous GET requests to `url` have all been answered."""

    def call(_: int) -> None:
        requests.get(url, timeout=timeout).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        list(pool.map(call, range(calls)))
    return time.perf_counter() - started


def per_second(url: str, calls: int = 600, clients: int = CALLS, timeout: float = 30.0) -> float:
    """Requests answered per second when `clients` keep-alive sessions send `calls` GETs in all."""

    def client(_: int) -> None:
        with requests.Session() as session:
            for _ in range(calls // clients):
                session.get(url, timeout=timeout).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return calls // clients * clients / (time.perf_counter() - started)

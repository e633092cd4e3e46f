"""`async def` or `def` (notebook 05b): the same pretend model behind both, to measure that a blocking
model on the event loop makes requests queue while in the thread pool they overlap."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations.

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from fastapi import FastAPI

SLOW_SECONDS = 0.2  # one prediction of the pretend slow model

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


@app.get("/fast/async-def")  # a microsecond "model": here the hop to a thread is the cost
async def fast_on_the_event_loop() -> dict[str, str]:
    return {"species": "Adelie"}


@app.get("/fast/def")
def fast_in_the_thread_pool() -> dict[str, str]:
    return {"species": "Adelie"}


def together(url: str, calls: int = 4, each: int = 1) -> float:
    """Seconds until `calls` clients at once, each sending `each` GETs on one keep-alive session, are answered."""

    def client(_: int) -> None:
        with requests.Session() as session:
            for _ in range(each):
                session.get(url, timeout=30).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        list(pool.map(client, range(calls)))
    return time.perf_counter() - started

"""The station: another service in the server room that needs the model's answers.

A field station sends its penguin observations here; the station asks the model by its name
in the room (http://penguins:8000, Docker's DNS spreads the calls over the replicas) with
penguins.client, and answers with the species. When the model cannot be reached it says so
with the status a proxy would use: 502 when nothing answers, 504 when the answer is too late.

Every request has an id (X-Request-ID): the caller's when it is a safe token, by the model's own
rule, else a new one. The station passes it on to the model, answers with it, and writes it in
its log line, so one search for the id finds the call in the station's log and in the model's.
The raw records the model answered are kept, one JSON line each with the time and the request's
id, in RECORDS_FILE (when set): the recent traffic a drift check compares with the training data
(`python -m penguins drift recent.jsonl`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel

from penguins.client import PenguinClient, RequestRejected, ServerError, ServiceTimeout, ServiceUnreachable
from penguins.serving import logs
from penguins.serving.api import REQUEST_ID

MODEL_URL = os.environ.get("MODEL_URL", "http://penguins:8000")
TIMEOUT = float(os.environ.get("MODEL_TIMEOUT", "2"))  # seconds; the station's callers wait too
RECORDS_FILE = os.environ.get("RECORDS_FILE", "")  # where the answered records go; empty: nowhere
HEADER = "X-Request-ID"

logs.configure("info", "json" if os.environ.get("PENGUINS_LOG_FORMAT", "").lower() == "json" else "text")
log = logging.getLogger("penguins.station")
app = FastAPI(title="station", summary="penguin observations in, species out")
_writing = threading.Lock()  # requests run in a thread pool: one writer at a time keeps lines whole


class Observations(BaseModel):
    records: list[dict[str, Any]]


@app.middleware("http")
async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """The request's id (kept or made), on the response and in one log line per request."""
    sent = request.headers.get(HEADER, "")
    request.state.request_id = sent if REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    start = time.perf_counter()
    response = await call_next(request)
    response.headers[HEADER] = request.state.request_id
    fields = {
        "method": request.method,
        "path": request.url.path,
        "status": response.status_code,
        "ms": round((time.perf_counter() - start) * 1000, 1),
        "request_id": request.state.request_id,
    }
    log.info("%s %s %d %.1f ms %s", *fields.values(), extra=fields)
    return response


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/observations")
def observations(body: Observations, request: Request) -> dict[str, list[dict[str, Any]]]:
    """The species of each record, from the model; a refused record comes back as the model's 4xx."""
    request_id: str = request.state.request_id
    with PenguinClient(MODEL_URL, timeout=TIMEOUT, request_id=request_id) as model:
        try:
            answers = model.predict_batch(body.records)
        except ServiceTimeout as err:
            raise HTTPException(504, f"the model did not answer in time: {err}") from None
        except (ServiceUnreachable, ServerError) as err:
            raise HTTPException(502, f"the model cannot be reached: {err}") from None
        except RequestRejected as err:  # the records themselves were wrong: pass the model's verdict on
            raise HTTPException(err.status, err.detail) from None
    keep(body.records, request_id)
    return {
        "observations": [
            {"species": a.species, "model_version": a.model_version, "warnings": a.warnings} for a in answers
        ]
    }


def keep(records: list[dict[str, Any]], request_id: str) -> None:
    """Append the records the model answered to RECORDS_FILE: {"time", "request_id", "record"} per line."""
    if not RECORDS_FILE:
        return
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = "".join(
        json.dumps({"time": now, "request_id": request_id, "record": record}, ensure_ascii=False) + "\n"
        for record in records
    )
    with _writing, open(RECORDS_FILE, "a", encoding="utf-8") as out:
        out.write(lines)

"""The station: another service in the server room that needs the model's answers.

A field station sends its penguin observations here; the station asks the model by its name
in the room (http://penguins:8000, Docker's DNS spreads the calls over the replicas) with
penguins.client, and answers with the species. When the model cannot be reached it says so
with the status a proxy would use: 502 when nothing answers, 504 when the answer is too late.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from penguins.client import PenguinClient, RequestRejected, ServerError, ServiceTimeout, ServiceUnreachable

MODEL_URL = os.environ.get("MODEL_URL", "http://penguins:8000")
TIMEOUT = float(os.environ.get("MODEL_TIMEOUT", "2"))  # seconds; the station's callers wait too

app = FastAPI(title="station", summary="penguin observations in, species out")


class Observations(BaseModel):
    records: list[dict[str, Any]]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/observations")
def observations(body: Observations) -> dict[str, list[dict[str, Any]]]:
    """The species of each record, from the model; a refused record comes back as the model's 4xx."""
    with PenguinClient(MODEL_URL, timeout=TIMEOUT) as model:
        try:
            answers = model.predict_batch(body.records)
        except ServiceTimeout as err:
            raise HTTPException(504, f"the model did not answer in time: {err}") from None
        except (ServiceUnreachable, ServerError) as err:
            raise HTTPException(502, f"the model cannot be reached: {err}") from None
        except RequestRejected as err:  # the records themselves were wrong: pass the model's verdict on
            raise HTTPException(err.status, err.detail) from None
    return {
        "observations": [
            {"species": a.species, "model_version": a.model_version, "warnings": a.warnings} for a in answers
        ]
    }

"""The floor of the stack: FastAPI + uvicorn answering a constant, no model, no parsing.

Whatever the served `/predict` costs beyond this is ours (validation, cleaning, the model,
serialisation); what this costs is the framework's and the server's, and no code of ours
can make `/predict` faster than this.
"""

from __future__ import annotations

from fastapi import FastAPI

ANSWER = {"species": "Adelie"}

app = FastAPI()


@app.get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/predict")
async def predict() -> dict[str, str]:
    """The request body is not read: this is the cost of the stack alone."""
    return ANSWER

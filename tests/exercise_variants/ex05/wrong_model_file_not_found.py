# fails with: to start a server, but it stopped before it answered; its log ends: FileNotFoundError: [Errno 2]
"""Loads the pickle by a path relative to wherever the server happens to start: it is not there."""

import pickle
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app):
    with open("penguin_model.pkl", "rb") as file:
        app.state.model = pickle.load(file)
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(record: dict):
    return {"species": str(app.state.model.predict([record])[0])}

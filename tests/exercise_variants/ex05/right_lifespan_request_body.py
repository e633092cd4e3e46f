"""The model loaded in a lifespan; the body read from the Request; a 422 shaped like FastAPI's own."""

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from penguins import PenguinPredictor
from penguins.serving.cleaning import CleaningError


@asynccontextmanager
async def lifespan(app):
    app.state.predictor = PenguinPredictor.load()
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/predict")
async def predict(request: Request):
    record = await request.json()
    try:
        prediction = request.app.state.predictor.predict_one(record)
    except CleaningError as error:
        detail = [{"loc": ["body", p.field], "msg": p.reason} for p in error.problems]
        return JSONResponse({"detail": detail}, status_code=422)
    return {"species": prediction.species}

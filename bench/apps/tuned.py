"""The A/B of plain idioms: the workshop's service with its former micro-optimisations put back.

api.py uses FastAPI's and logging's ordinary ways. Before, it carried four micro-optimisations;
this app applies them from outside to the very same create_app(), so `make bench` measures,
in the same run, what they buy in /predict's CPU per request, req/s beside it (the house rule:
an optimisation earns its place with a same-run A/B, more than 10 %):
1. a log handler writing `LEVEL:     message` straight from the record, instead of a Formatter;
2. /predict answered with pre-serialised bytes (a Response), bypassing the response model;
3. its two dependencies (a JSON body, a loaded model) merged into one;
4. the API's routes sorted before the pages' (/docs, /openapi.json, ...).
Since issue 24's A/B (bench/results/ab.md) the service itself does 2. and the prediction routes
look the model up without a dependency, so this row now measures 1. and 4. (and a route of its own).
It is started like `python -m penguins serve --stage 04` (same uvicorn settings, one worker,
no access log; the app's own request log line on), and nothing imports it.
Run: python -m bench.apps.tuned --port 8099 --artifacts artifacts
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from pydantic_core import to_json

from penguins.serving.api import create_app
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """1. The line written straight from the record, skipping the Formatter's general machinery."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.stack_info:
            super().emit(record)
            return
        try:
            self.stream.write(f"{record.levelname}:     {record.getMessage()}\n")
            self.flush()
        except Exception:
            self.handleError(record)


async def json_and_loaded(request: Request) -> PenguinPredictor:
    """3. One dependency for what the service's two check."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise HTTPException(415, "send the records as JSON with the header Content-Type: application/json")
    predictor: PenguinPredictor | None = request.app.state.predictor
    if predictor is None:
        raise HTTPException(503, "the model is not loaded yet: try again in a moment")
    return predictor


def tuned(app: FastAPI) -> FastAPI:
    """The service's app with 2., 3. and 4. applied (1. is set up before create_app runs)."""

    @app.post("/predict", include_in_schema=False)
    async def predict(
        record: Annotated[dict[str, Any], Body()], predictor: Annotated[PenguinPredictor, Depends(json_and_loaded)]
    ) -> Response:
        """2. The answer serialised once, as bytes: FastAPI sends a Response as it is."""
        answer = asdict(predictor.predict_one(record))
        return Response(to_json(answer), media_type="application/json")

    routes = app.router.routes
    mine = routes.pop()
    routes.insert(0, mine)  # this /predict before the service's own
    routes.sort(key=lambda route: not (route is mine or getattr(route, "include_in_schema", False)))  # 4.
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--artifacts", type=Path, required=True)
    args = parser.parse_args()
    logging.getLogger("penguins").addHandler(LineHandler())
    settings = Settings(model_path=args.artifacts / BACKEND_FILES["mlp-onnx"], backend="mlp-onnx")
    app = tuned(create_app(settings, PenguinPredictor.load("mlp-onnx", settings.model_path)))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()

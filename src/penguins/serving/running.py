"""Where the model runs for a request, and the model a request may use: shared by the routes
of /predict (penguins.serving.api) and of the Open Inference Protocol (penguins.serving.v2)."""

from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from penguins.serving.predictor import PenguinPredictor

T = TypeVar("T")


async def loaded(request: Request) -> PenguinPredictor:
    """The app's predictor; a 503 while it is not loaded."""
    predictor: PenguinPredictor | None = request.app.state.predictor
    if predictor is None:
        raise HTTPException(503, "the model is not loaded yet: try again in a moment")
    return predictor


# Where the model runs. The endpoints are `async def`, so FastAPI calls them on the event loop,
# the one thread that serves every request. The ONNX backends answer in microseconds, less than
# a hop to another thread costs, so they run right there. The pickled scikit-learn pipeline
# takes milliseconds a call: on the loop it would stall every other request meanwhile, so it
# runs in FastAPI's thread pool, as a plain `def` endpoint would, and the loop keeps serving.
IN_THREAD_POOL = frozenset({"sklearn-pickle"})


async def run(predictor: PenguinPredictor, call: Callable[[], T]) -> T:
    """`call()`, where this backend costs least (see above)."""
    if predictor.backend_name in IN_THREAD_POOL:
        return await run_in_threadpool(call)
    return call()

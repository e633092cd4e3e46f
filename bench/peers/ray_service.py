"""The Ray Serve peer: the same mlp.onnx behind the same cleaning (penguins' PenguinPredictor,
put on its PYTHONPATH), one deployment with one replica, Ray Serve's defaults otherwise
(its HTTP proxy actor in front of the replica actor).

Run inside Ray's environment (bench/.peers/ray): `python ray_service.py`, the port from
PEERS_PORT, the model from PEERS_MODEL. GET /predict answers once the replica is up.
"""

import os
import signal
import threading
from dataclasses import asdict

import ray
from ray import serve
from starlette.requests import Request

from penguins.serving.predictor import PenguinPredictor


@serve.deployment(num_replicas=1)
class Penguins:
    def __init__(self) -> None:
        self.predictor = PenguinPredictor.load("mlp-onnx", os.environ["PEERS_MODEL"])

    async def __call__(self, request: Request) -> dict:
        if request.method == "GET":
            return {"status": "ready"}
        return asdict(self.predictor.predict_one(await request.json()))


if __name__ == "__main__":
    ray.init(include_dashboard=False)
    serve.start(http_options={"host": os.environ["PEERS_HOST"], "port": int(os.environ["PEERS_PORT"])})
    serve.run(Penguins.bind(), route_prefix="/predict")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    ray.shutdown()  # stops the raylet, and with it the actors (serve.shutdown would wait on them)

"""The LitServe peer: the same mlp.onnx behind the same cleaning (penguins' PenguinPredictor,
put on its PYTHONPATH), in LitServe's four hooks, with its defaults and one worker.

Run inside LitServe's environment (bench/.peers/litserve): `python litserve_service.py`, the
port from PEERS_PORT, the model from PEERS_MODEL. LitServe answers /health once the worker
has run setup, and serves the API at /predict.
"""

import os
from dataclasses import asdict

import litserve as ls

from penguins.serving.predictor import PenguinPredictor


class PenguinAPI(ls.LitAPI):
    def setup(self, device: str) -> None:
        self.predictor = PenguinPredictor.load("mlp-onnx", os.environ["PEERS_MODEL"])

    def decode_request(self, request: dict) -> dict:
        return request

    def predict(self, record: dict) -> dict:
        return asdict(self.predictor.predict_one(record))

    def encode_response(self, output: dict) -> dict:
        return output


if __name__ == "__main__":
    server = ls.LitServer(PenguinAPI(), accelerator="cpu", workers_per_device=1)
    server.run(host=os.environ["PEERS_HOST"], port=int(os.environ["PEERS_PORT"]), generate_client_file=False)

"""The BentoML services: the same ONNX file and the same pickled pipeline, BentoML's defaults.

Run inside BentoML's environment (bench/.peers/bentoml), not ours: nothing from `penguins`.
The model file comes from PEERS_MODEL; BentoML's model store (`bentoml.models.create`; there
is no `bentoml.sklearn` in 1.4) would only copy it into a folder first, which changes nothing
per request. Endpoints are plain `def`, as BentoML's examples write them.
"""

import os
import pickle

import bentoml
import numpy as np

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


def answer(probabilities: np.ndarray) -> dict:
    return {
        "species": CLASSES[int(probabilities.argmax())],
        "probabilities": dict(zip(CLASSES, probabilities.tolist(), strict=True)),
    }


@bentoml.service(workers=1)
class PenguinOnnx:
    def __init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(os.environ["PEERS_MODEL"], options, providers=["CPUExecutionProvider"])

    @bentoml.api
    def predict(
        self,
        island: str,
        bill_length_mm: float,
        bill_depth_mm: float,
        flipper_length_mm: float,
        body_mass_g: float,
        sex: str,
    ) -> dict:
        text = {"island": island, "sex": sex}
        numbers = {
            "bill_length_mm": bill_length_mm,
            "bill_depth_mm": bill_depth_mm,
            "flipper_length_mm": flipper_length_mm,
            "body_mass_g": body_mass_g,
        }
        feeds = {name: np.array([[value]], dtype=object) for name, value in text.items()}
        feeds |= {name: np.array([[value]], dtype=np.float32) for name, value in numbers.items()}
        return answer(self.session.run(["probabilities"], feeds)[0][0])


@bentoml.service(workers=1)
class PenguinSklearn:
    def __init__(self) -> None:
        with open(os.environ["PEERS_MODEL"], "rb") as file:
            self.model = pickle.load(file)

    @bentoml.api
    def predict(
        self,
        island: str,
        bill_length_mm: float,
        bill_depth_mm: float,
        flipper_length_mm: float,
        body_mass_g: float,
        sex: str,
    ) -> dict:
        import pandas as pd

        frame = pd.DataFrame(
            [
                {
                    "island": island,
                    "bill_length_mm": bill_length_mm,
                    "bill_depth_mm": bill_depth_mm,
                    "flipper_length_mm": flipper_length_mm,
                    "body_mass_g": body_mass_g,
                    "sex": sex,
                }
            ]
        )
        return answer(self.model.predict_proba(frame)[0])

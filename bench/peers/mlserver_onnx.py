"""A custom MLServer runtime for an ONNX file: MLServer ships none (its ONNX runtime was dropped).

Open Inference Protocol in, ONNX Runtime, probabilities out: the ~20 lines a user writes.
It runs inside MLServer's environment, not ours, so it imports nothing from `penguins`.
"""

import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse, RequestInput
from mlserver.utils import get_model_uri


def as_array(request_input: RequestInput) -> np.ndarray:
    """FP32 inputs as float32 arrays; BYTES inputs as the str objects ONNX Runtime takes."""
    if request_input.datatype == "BYTES":
        values = [v.decode() if isinstance(v, bytes) else v for v in request_input.data]
        return np.array(values, dtype=object).reshape(request_input.shape)
    return NumpyCodec.decode_input(request_input).astype(np.float32)


class OnnxModel(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # as the served model has: one worker, one thread
        path = await get_model_uri(self._settings)
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        feeds = {request_input.name: as_array(request_input) for request_input in payload.inputs}
        probabilities = self.session.run(["probabilities"], feeds)[0]
        output = NumpyCodec.encode_output("probabilities", probabilities)
        return InferenceResponse(model_name=self.name, outputs=[output])

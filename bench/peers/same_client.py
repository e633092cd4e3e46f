"""One client for any server: the Open Inference Protocol's promise, checked against a peer.

Triton's own client (`tritonclient[http]`, in a fresh process of the project's environment, as
tests/test_v2_tritonclient.py runs it against the served V2 routes) sends the golden set's
cleaned features to the MLServer peer, which serves the same ONNX file; the species its
probabilities name must be the ones the wrapper gives in process. The peer gets cleaned
features because it has no cleaning: that is the wrapper's job.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from bench.peers import specs as peer_specs
from bench.servers import ROOT, RunningServer
from penguins.serving.cleaning import DEFAULT_CLEANER
from penguins.serving.contract import CLASSES, FEATURES, NUMERIC_FEATURES
from penguins.serving.predictor import PenguinPredictor

CLIENT = """
import json, sys
import numpy as np
import tritonclient.http as http

url, tensors = sys.argv[1], json.loads(sys.stdin.read())
client = http.InferenceServerClient(url=url)
inputs = []
for name, (datatype, values) in tensors.items():
    tensor = http.InferInput(name, [len(values), 1], datatype)
    array = np.array(values, dtype=object if datatype == "BYTES" else np.float32).reshape(-1, 1)
    tensor.set_data_from_numpy(array, binary_data=False)
    inputs.append(tensor)
result = client.infer("penguins", inputs, outputs=[http.InferRequestedOutput("probabilities", binary_data=False)])
ready = client.is_model_ready("penguins")
print(json.dumps({"ready": ready, "probabilities": result.as_numpy("probabilities").tolist()}))
"""


def tensors(records: Sequence[Mapping[str, object]]) -> dict[str, tuple[str, list[object]]]:
    """The records cleaned as the wrapper cleans them: per feature, its V2 datatype and values."""
    batch = DEFAULT_CLEANER.prepare(records).batch
    return {
        name: ("FP32", [float(v) for v in batch[name]]) if name in NUMERIC_FEATURES else ("BYTES", list(batch[name]))
        for name in FEATURES
    }


def complete(records: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """The records whose measurements are all there: NaN has no place in a JSON tensor."""
    batch = DEFAULT_CLEANER.prepare(records).batch
    finite = np.all([np.isfinite(batch[name]) for name in NUMERIC_FEATURES], axis=0)
    return [record for record, keep in zip(records, finite, strict=True) if keep]


def check(artifacts: Path, records: Sequence[Mapping[str, object]], log_dir: Path, say: Callable[[str], None]) -> str:
    """Start the MLServer ONNX peer, ask it with tritonclient, compare species; one line for the report."""
    records = complete(records)
    expected = PenguinPredictor.load("mlp-onnx", artifacts / "mlp.onnx").predict(records).species
    with RunningServer(peer_specs.mlserver(artifacts, "onnx"), log_dir) as server:
        run = subprocess.run(
            [sys.executable, "-c", CLIENT, server.url("").removeprefix("http://")],
            input=json.dumps(tensors(records)),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    if run.returncode != 0:
        raise RuntimeError(f"tritonclient against MLServer failed: {run.stderr.strip().splitlines()[-1:]}")
    answer = json.loads(run.stdout)
    species = [CLASSES[int(np.argmax(row))] for row in answer["probabilities"]]
    same = sum(a == b for a, b in zip(species, expected, strict=True))
    line = (
        f"tritonclient[http] against MLServer (ONNX), the golden set's {len(records)} complete penguins as cleaned "
        f"features: {same} of {len(records)} species the same as the wrapper's in process"
    )
    say(f"    {line}")
    if same != len(records):
        raise RuntimeError(line)
    return line

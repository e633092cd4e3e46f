"""The V2 routes proven with a client nobody here wrote: Triton's `tritonclient[http]`, in a
fresh process of the project's environment, against a live service (`python -m workshop serve
04`): live, ready, the model's metadata, and `infer` on the golden set, whose answers must be the
wrapper's in process. Tensors go as JSON (binary_data=False): the binary extension is Triton's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from penguins.serving.contract import FEATURES
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT
from tests.live import live_server
from tests.test_v2 import as_text
from workshop.server import Server

pytestmark = pytest.mark.slow

CLIENT = """
import json, sys
import numpy as np
import tritonclient.http as http

url, columns = sys.argv[1], json.loads(sys.stdin.read())
client = http.InferenceServerClient(url=url)
inputs = []
for name, values in columns.items():
    tensor = http.InferInput(name, [len(values), 1], "BYTES")
    tensor.set_data_from_numpy(np.array(values, dtype=object).reshape(-1, 1), binary_data=False)
    inputs.append(tensor)
outputs = [http.InferRequestedOutput(name, binary_data=False) for name in ("probabilities", "species")]
result = client.infer("penguins", inputs, outputs=outputs, request_id="triton-1")
print(json.dumps({
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready("penguins"),
    "metadata": client.get_model_metadata("penguins"),
    "id": result.get_response()["id"],
    "probabilities": result.as_numpy("probabilities").tolist(),
    "species": [s.decode() if isinstance(s, bytes) else s for s in result.as_numpy("species").tolist()],
    "warnings": json.loads(result.get_response()["parameters"]["warnings"]),
}))
"""


@pytest.fixture(scope="module")
def server(artifact_dir: Path) -> Iterator[Server]:
    with live_server("04", "--artifacts", str(artifact_dir)) as live:
        yield live


def test_tritonclient_gets_the_wrappers_answers(server: Server, artifact_dir: Path, golden: list[dict]) -> None:
    records = [case["record"] for case in golden if case["expect"] == "answer"]
    columns = {name: [as_text(record.get(name)) for record in records] for name in FEATURES}
    url = server.url.removeprefix("http://")
    run = subprocess.run(
        [sys.executable, "-c", CLIENT, url],
        input=json.dumps(columns),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    print(run.stdout)  # the client's own view, for the record (pytest -s shows it)
    got = json.loads(run.stdout)
    expected = PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx").predict(records)
    assert (got["live"], got["ready"], got["model_ready"]) == (True, True, True)
    assert got["metadata"]["name"] == "penguins" and got["metadata"]["versions"] == [expected.model_version]
    assert [i["name"] for i in got["metadata"]["inputs"]] == list(FEATURES)
    assert got["id"] == "triton-1"
    assert got["species"] == expected.species == [case["species"] for case in golden if case["expect"] == "answer"]
    assert got["probabilities"] == expected.probabilities.tolist()  # float32 both ways: exact
    assert [(w["record"], w["code"], w["field"]) for w in got["warnings"]] == [
        (index, w.code, w.field) for index, notes in enumerate(expected.warnings) for w in notes
    ]

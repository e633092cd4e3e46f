"""The peers as servers: MLServer and BentoML, each serving the ONNX file or the pickle, and
LitServe and Ray Serve serving the ONNX file through penguins' own cleaning and wrapper.

Each runs with its own defaults (MLServer: one inference worker, its access log; BentoML:
one worker, its request log; LitServe: one worker, its access log; Ray Serve: one replica
behind its proxy), on the same loopback, with the same record as the served `/predict`: the
Open Inference Protocol's tensors for MLServer, BentoML's JSON fields, the raw record as
/predict takes it for LitServe and Ray Serve.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.peers import envs
from bench.servers import ROOT, ServerSpec
from bench.specs import BENTOML_ONNX, BENTOML_PICKLE, LITSERVE_ONNX, MLSERVER_ONNX, MLSERVER_PICKLE, RAY_ONNX, body
from penguins.ports import free_port
from penguins.serving.contract import FEATURES, NUMERIC_FEATURES
from penguins.serving.examples import CLEAN_RECORD

MODEL = "penguins"


def inference_request(content_type: str | None, shape: list[int]) -> dict[str, object]:
    """The clean record as an Open Inference Protocol request: one named tensor per feature."""
    inputs = []
    for name in FEATURES:
        text = name not in NUMERIC_FEATURES
        tensor = {"name": name, "shape": shape, "datatype": "BYTES" if text else "FP32", "data": [CLEAN_RECORD[name]]}
        if text and content_type:
            tensor["parameters"] = {"content_type": "str"}
        inputs.append(tensor)
    request: dict[str, object] = {"inputs": inputs}
    if content_type:
        request["parameters"] = {"content_type": content_type}
        request["outputs"] = [{"name": "predict_proba"}]
    return request


def mlserver_repository(kind: str, model_file: Path) -> Path:
    """A model repository folder with one model, as `mlserver start` takes it."""
    implementation = "mlserver_onnx.OnnxModel" if kind == "onnx" else "mlserver_sklearn.SKLearnModel"
    folder = envs.PEERS_DIR / f"mlserver-{kind}"
    (folder / MODEL).mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text("{}\n")
    settings = {"name": MODEL, "implementation": implementation, "parameters": {"uri": str(model_file)}}
    (folder / MODEL / "model-settings.json").write_text(json.dumps(settings, indent=1) + "\n")
    return folder


def mlserver(artifacts: Path, kind: str) -> ServerSpec:
    """MLServer on `{port}`; its gRPC and metrics servers get free ports of their own."""
    bin_dir = envs.venv("mlserver") / "bin"
    onnx = kind == "onnx"
    repository = mlserver_repository(kind, artifacts / ("mlp.onnx" if onnx else "pipeline.pkl"))
    env = {
        "MLSERVER_HOST": "{host}",
        "MLSERVER_HTTP_PORT": "{port}",
        "MLSERVER_GRPC_PORT": str(free_port()),
        "MLSERVER_METRICS_PORT": str(free_port()),
        "PYTHONPATH": str(envs.HERE),
        # its Prometheus files would otherwise land in ./.metrics of the project root
        "MLSERVER_METRICS_DIR": str(envs.PEERS_DIR / "mlserver-metrics"),
    }
    request = inference_request(None, [1, 1]) if onnx else inference_request("pd", [1])
    return ServerSpec(
        MLSERVER_ONNX if onnx else MLSERVER_PICKLE,
        (str(bin_dir / "mlserver"), "start", str(repository)),
        body(request),
        env=env,
        predict_path=f"/v2/models/{MODEL}/infer",
        ready_path=f"/v2/models/{MODEL}/ready",
    )


def bentoml(artifacts: Path, kind: str) -> ServerSpec:
    bin_dir = envs.venv("bentoml") / "bin"
    onnx = kind == "onnx"
    service = "bentoml_service:PenguinOnnx" if onnx else "bentoml_service:PenguinSklearn"
    env = {
        "BENTOML_DO_NOT_TRACK": "true",
        "BENTOML_HOME": str(envs.PEERS_DIR / "bentoml-home"),
        "PEERS_MODEL": str(artifacts / ("mlp.onnx" if onnx else "pipeline.pkl")),
    }
    argv = (
        str(bin_dir / "bentoml"),
        "serve",
        service,
        "--working-dir",
        str(envs.HERE),
        "--host",
        "{host}",
        "--port",
        "{port}",
    )
    return ServerSpec(BENTOML_ONNX if onnx else BENTOML_PICKLE, argv, body(CLEAN_RECORD), env=env, ready_path="/readyz")


def with_our_cleaning(peer: str, name: str, script: str, artifacts: Path, ready_path: str) -> ServerSpec:
    """A peer that serves mlp.onnx through PenguinPredictor (penguins' src/ on its PYTHONPATH:
    the serving package needs only numpy and onnxruntime, which its environment has)."""
    env = {
        "PEERS_HOST": "{host}",
        "PEERS_PORT": "{port}",
        "PEERS_MODEL": str(artifacts / "mlp.onnx"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    argv = (str(envs.venv(peer) / "bin" / "python"), str(envs.HERE / script))
    return ServerSpec(name, argv, body(CLEAN_RECORD), env=env, ready_path=ready_path)


def litserve(artifacts: Path) -> ServerSpec:
    return with_our_cleaning("litserve", LITSERVE_ONNX, "litserve_service.py", artifacts, "/health")


def ray_serve(artifacts: Path) -> ServerSpec:
    """GET /predict answers once the replica is up (its proxy answers /-/healthz before that)."""
    return with_our_cleaning("ray", RAY_ONNX, "ray_service.py", artifacts, "/predict")

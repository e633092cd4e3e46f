# ruff: noqa: F821  (net, folder: the starter cell defines them)
"""The older TorchScript exporter (dynamo=False) with dynamic_axes, a str path, opset 17."""

import torch

onnx_path = str(folder / "mlp.onnx")
torch.onnx.export(
    net,
    (torch.zeros(3, 4),),
    onnx_path,
    dynamo=False,
    input_names=["x"],
    output_names=["scores"],
    dynamic_axes={"x": {0: "n"}, "scores": {0: "n"}},
    opset_version=17,
)

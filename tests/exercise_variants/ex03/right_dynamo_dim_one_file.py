# ruff: noqa: F821  (net, folder: the starter cell defines them)
"""The dynamo exporter with a named torch.export.Dim, weights kept inside the one file."""

import torch

batch = torch.export.Dim("batch")
onnx_path = folder / "mlp.onnx"
torch.onnx.export(
    net,
    (torch.randn(5, 4),),
    onnx_path,
    input_names=["measurements"],
    output_names=["logits"],
    dynamic_shapes={"input": {0: batch}},
    external_data=False,
    verbose=False,
)

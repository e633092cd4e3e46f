# ruff: noqa: F821  (net, folder: the starter cell defines them)
# fails with: found its input 'x' fixed at [1, 4] (ONNX Runtime refused 7 rows)
"""One example row and no dynamic axis: the file takes batches of exactly one."""

import torch

onnx_path = folder / "mlp.onnx"
torch.onnx.export(net, (torch.zeros(1, 4),), onnx_path, dynamo=False, input_names=["x"], output_names=["y"])

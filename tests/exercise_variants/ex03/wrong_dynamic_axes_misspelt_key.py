# ruff: noqa: F821  (net, folder: the starter cell defines them)
# fails with: found its input 'features' fixed at [2, 4]
"""The batch axis declared dynamic, but under "feature" while the input is named "features":
the exporter ignores the key, and the file keeps the example's 2 rows."""

import warnings

import torch

onnx_path = folder / "mlp.onnx"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch.onnx.export(
        net.eval(),
        torch.zeros(2, 4),
        str(onnx_path),
        dynamo=False,
        input_names=["features"],
        output_names=["logits"],
        dynamic_axes={"feature": {0: "rows"}, "logits": {0: "rows"}},
    )

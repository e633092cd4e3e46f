"""A look inside an ONNX file: named, typed inputs, a list of operators, named outputs.

Stage 03's point is that an ONNX file is data, not code: a graph of standard operators that
any ONNX runtime knows. describe() prints just enough of it to see that, in a few lines
instead of the thousands that `print(model.graph)` gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import onnx


def _shape(value: onnx.ValueInfoProto) -> str:
    dims = value.type.tensor_type.shape.dim
    return "[" + ", ".join(d.dim_param or str(d.dim_value) if (d.dim_param or d.dim_value) else "?" for d in dims) + "]"


def _values(values: Iterable[onnx.ValueInfoProto]) -> list[str]:
    """`name: type[shape]` for each graph input or output."""
    described = []
    for value in values:
        kind = onnx.TensorProto.DataType.Name(value.type.tensor_type.elem_type).lower()
        described.append(f"{value.name}: {kind}{_shape(value)}")
    return described


def operators(model: onnx.ModelProto) -> Counter[str]:
    """How often each operator occurs in the main graph."""
    return Counter(node.op_type for node in model.graph.node)


def describe(model: onnx.ModelProto) -> str:
    """Inputs, operators (with counts), outputs and opsets, one group per line."""
    counts = operators(model)
    ops = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counts.items())
    opsets = ", ".join(dict.fromkeys(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import))
    return "\n".join(
        [
            "inputs:    " + ", ".join(_values(model.graph.input)),
            f"operators: {sum(counts.values())} nodes: {ops}",
            "outputs:   " + ", ".join(_values(model.graph.output)),
            f"opsets:    {opsets}; weights stored inside: {len(model.graph.initializer)} tensors",
        ]
    )

"""Stage 03: an ONNX file is data, not code, a graph of standard operators any ONNX runtime knows.
describe() shows that in four lines instead of the thousands `print(model.graph)` gives."""

from __future__ import annotations

from collections import Counter

import onnx


def _values(values: list[onnx.ValueInfoProto]) -> str:
    """`name: type[shape]` for each graph input or output."""
    described = []
    for value in values:
        tensor = value.type.tensor_type
        shape = ", ".join(d.dim_param or (str(d.dim_value) if d.dim_value else "?") for d in tensor.shape.dim)
        described.append(f"{value.name}: {onnx.TensorProto.DataType.Name(tensor.elem_type).lower()}[{shape}]")
    return ", ".join(described)


def describe(model: onnx.ModelProto) -> str:
    """Inputs, operators (with counts), outputs and opsets, one group per line."""
    counts = Counter(node.op_type for node in model.graph.node)
    ops = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counts.items())
    opsets = ", ".join(dict.fromkeys(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import))
    return (
        f"inputs:    {_values(model.graph.input)}\n"
        f"operators: {sum(counts.values())} nodes: {ops}\n"
        f"outputs:   {_values(model.graph.output)}\n"
        f"opsets:    {opsets}; weights stored inside: {len(model.graph.initializer)} tensors"
    )

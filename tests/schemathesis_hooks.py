"""What the Open Inference Protocol asks of a request that JSON Schema cannot state, taught to
schemathesis (its documented hooks): the tensors of one request agree, each shape [n] or [n, 1]
saying its data's length n, every input holding the same n records. The service's schema
states everything else (penguins.serving.api.v2.request_schema), so a schema-valid request
that agrees is answered.

The in-process test (tests/test_schemathesis.py) imports this module; against a served
instance: `SCHEMATHESIS_HOOKS=tests.schemathesis_hooks schemathesis run <url>/openapi.json --checks all`.
"""

from __future__ import annotations

import schemathesis

INFER = "/v2/models/penguins/infer"


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """A positive V2 request's tensors made to agree: each cut to the shortest, its shape saying so."""
    body = case.body
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not positive or case.operation.path != INFER or not isinstance(body, dict):
        return case
    tensors = [tensor for tensor in body.get("inputs") or [] if isinstance(tensor, dict)]
    datas = [tensor.get("data") for tensor in tensors]
    if not tensors or not all(isinstance(data, list) and data for data in datas):
        return case
    count = min(len(data) for data in datas if isinstance(data, list))
    for tensor in tensors:
        tensor["data"] = tensor["data"][:count]
        if isinstance(tensor.get("shape"), list) and tensor["shape"]:
            tensor["shape"] = [count, *tensor["shape"][1:]]
    return case

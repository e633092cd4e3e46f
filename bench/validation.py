"""The A/B behind the service's one validation layer (issue 24, item 1), same run, in process.

From a request body to columns ready for the model, two ways:
- A, pydantic types carrying cleaning's codes: a record model whose fields call cleaning's rule
  for one value and raise PydanticCustomError(code, reason) (FastAPI's own errors, its `loc`),
  a record-level check for no_measurements, then cleaning's column path for the typed columns
  and the warnings (a prototype: nothing in the package uses it);
- B, what the service does: the body parsed as plain JSON (cleaning.read_json) and cleaning
  judging it, column by column (the routes read `list[dict]` and publish cleaning's schema).
Both refuse the same values with the same codes; the figures say what each costs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from penguins.serving import cleaning
from penguins.serving.cleaning import DEFAULT_CLEANER, NUMERIC_FEATURES, read_json

PYDANTIC = "body → model-ready columns: pydantic types with cleaning's codes, then cleaning (A)"
PLAIN = "body → model-ready columns: plain JSON, cleaning alone (B, the service's)"


def _number(value: object, info: ValidationInfo) -> float:
    try:
        number = cleaning._number(value, DEFAULT_CLEANER.missing_markers)
    except cleaning._Rejected as rejected:
        raise PydanticCustomError(rejected.code, rejected.reason) from None
    low, high = DEFAULT_CLEANER.ranges[str(info.field_name)]
    if not math.isnan(number) and not low <= number <= high:
        raise PydanticCustomError(
            "out_of_range", cleaning._range_reason(number, value, str(info.field_name), low, high)
        )
    return number


def _category(value: object, info: ValidationInfo) -> str:
    item = cleaning._category(value, DEFAULT_CLEANER._spellings[str(info.field_name)])
    if isinstance(item, cleaning._Rejected):
        raise PydanticCustomError(item.code, item.reason)
    return item


Number = Annotated[float, BeforeValidator(_number)]
Category = Annotated[str, BeforeValidator(_category)]


class TypedRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    island: Category = ""
    bill_length_mm: Number = math.nan
    bill_depth_mm: Number = math.nan
    flipper_length_mm: Number = math.nan
    body_mass_g: Number = math.nan
    sex: Category = ""

    @model_validator(mode="after")
    def _measured(self) -> TypedRecord:
        if all(math.isnan(getattr(self, name)) for name in NUMERIC_FEATURES):
            raise PydanticCustomError("no_measurements", cleaning.NO_MEASUREMENTS)
        return self


_RECORDS = TypeAdapter(list[TypedRecord])


def calls(records: list[dict[str, Any]]) -> dict[str, tuple[str, Callable[[], object]]]:
    """The two ways as model_speed contenders: name → (what it takes, a call)."""
    body = json.dumps(records).encode()

    def typed() -> object:
        checked = _RECORDS.validate_json(body)
        return DEFAULT_CLEANER.prepare([record.model_dump(exclude_defaults=True) for record in checked])

    return {
        PYDANTIC: ("JSON body", typed),
        PLAIN: ("JSON body", lambda: DEFAULT_CLEANER.prepare(read_json(body))),
    }

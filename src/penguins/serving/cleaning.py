"""Raw records in, clean typed columns out: the one home of every value rule.

Clients send numbers as text, "NA", "MALE", a decimal comma. Every rule that turns such a value
into what the model expects, or refuses it with a code (REFUSALS) and a sentence a person can
act on, lives here, so the notebook, the predictor, the command line and the service never
disagree, and the OpenAPI schema is written from the same rules (`json_schema`).
`Cleaner.clean` types the columns; `Cleaner.prepare` also refuses a record with no measurement
and warns (WARNINGS) about each field the model fills in or does not know. The rules work on
whole columns with numpy; a value gets a look of its own only when it is not a plain number or
breaks a rule. Standard library, numpy and the contract only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, get_args

import numpy as np

from penguins.serving.contract import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

# The closed lists of codes. A refusal stops a record from being answered; a warning goes with
# the answer. Add a code here, never elsewhere.
RefusalCode = Literal[
    "not_a_number",  # text that is not a number as clients write one
    "not_json_number",  # NaN, Infinity or -Infinity: tokens JSON does not have
    "out_of_range",  # a number outside its plausible range, or not finite
    "too_long",  # text longer than MAX_TEXT_LENGTH
    "wrong_type",  # true, a list, an object... where a number or text belongs; a record that is not an object
    "not_unicode",  # half of a surrogate pair ("\ud800"), which no model input can carry
    "unknown_field",  # a field the model does not take (a typo would otherwise be dropped silently)
    "no_measurements",  # none of the four measurements: nothing to answer from
    "no_finite_odds",  # the model gave no finite probabilities (raised by the predictor)
]
WarningCode = Literal[
    "imputed",  # the field was missing: the model filled it in from the training data
    "unknown_category",  # a category the model never saw: it answered from the other features
]
REFUSALS: tuple[RefusalCode, ...] = get_args(RefusalCode)
WARNINGS: tuple[WarningCode, ...] = get_args(WarningCode)

# Compared after stripping SPACE and lower-casing. "." is how one version of the raw data set
# writes a missing sex.
MISSING_MARKERS: frozenset[str] = frozenset({"", "na", "n/a", "nan", ".", "none", "null"})

# Inclusive. Far wider than the real birds (32-60 / 13-21.5 / 172-231 / 2700-6300): they catch
# typos and wrong units (a mass in kilograms, a length in centimetres), not unusual penguins.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "bill_length_mm": (10.0, 100.0),
    "bill_depth_mm": (5.0, 40.0),
    "flipper_length_mm": (100.0, 300.0),
    "body_mass_g": (1000.0, 10000.0),
}

# The categories the model was trained on, spelled as in the clean dataset.
KNOWN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "island": ("Biscoe", "Dream", "Torgersen"),
    "sex": ("female", "male"),
}

# Every accepted spelling, lower-cased, mapped to its canonical value: each known category
# itself (so "BISCOE" becomes "Biscoe") plus the short forms (the raw dataset writes "MALE").
CATEGORY_ALIASES: dict[str, dict[str, str]] = {
    "island": {island.lower(): island for island in KNOWN_CATEGORIES["island"]},
    "sex": {"female": "female", "f": "female", "male": "male", "m": "male"},
}

# No field holds more text than this; a longer value is a mistake (or an attack), not a penguin.
MAX_TEXT_LENGTH = 100
# The spaces stripped from text: JSON's own whitespace. (Python's str.strip() and JSON Schema's
# \s know other spaces, and not the same ones: the schema and these rules must agree exactly.)
SPACE = " \t\n\r"
_SPACES = "[" + SPACE.encode("unicode_escape").decode() + "]*"
# A number as clients write one: ASCII digits, one sign, one decimal point or comma ("39,1", as
# in Poland), an optional exponent. Not "4_0", "４０", "inf" or "1,234.5", which Python would read.
NUMBER = r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER)

# Keys exactly contract.FEATURES in that order; numeric columns float32 with NaN where missing,
# categorical columns dtype=object holding python str with "" where missing (the imputer in the
# exported ONNX preprocessing looks for "").
CleanBatch = dict[str, np.ndarray]

PreRule = Callable[[dict[str, object]], dict[str, object]]

RECORD_FIELD = "(record)"
_FIELDS_TEXT = ", ".join(FEATURES)
_FEATURE_SET = frozenset(FEATURES)
_PREVIEW_LENGTH = 40
NO_MEASUREMENTS = (
    f"none of the measurements ({', '.join(NUMERIC_FEATURES)}) is given: there is nothing to answer from "
    "(the island and sex alone are not enough)"
)


def _key(text: str) -> str:
    """How markers and spellings are compared: case and surrounding spaces do not count."""
    return text.strip(SPACE).lower()


@dataclass(frozen=True)
class NonJsonNumber:
    """NaN, Infinity or -Infinity as a JSON document wrote it (see read_json)."""

    token: str

    def __str__(self) -> str:
        return self.token


def read_json(text: str | bytes) -> Any:
    """Parse JSON as the service and the command line do.

    Python's json module reads the tokens NaN, Infinity and -Infinity as floats, although JSON
    has no such numbers; a NaN would then pass for a missing value. Here they stay what they
    were written as (NonJsonNumber), so the rules refuse them by name.
    """
    return json.loads(text, parse_constant=NonJsonNumber)


@dataclass(frozen=True)
class Problem:
    """One value (or record) that broke a rule: where it is, what it was, its code and why.

    `value` is the value as the rules saw it: as received, or as a pre-rule left it.
    """

    record: int
    field: str
    value: object
    code: RefusalCode
    reason: str

    def __str__(self) -> str:
        return f"record {self.record}, field {self.field!r}: {self.reason}"


@dataclass(frozen=True)
class FieldWarning:
    """Something the model answered despite: its code, the field, and a sentence."""

    code: WarningCode
    field: str
    message: str


class CleaningError(ValueError):
    """Raised with every problem of a batch at once, so a client fixes its data in one round.

    `one_record` is True when a single record was asked about (PenguinPredictor.predict_one):
    its problems then need no index to say where they are.
    """

    def __init__(self, problems: Iterable[Problem], one_record: bool = False) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.one_record = one_record
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Prepared:
    """A batch ready for the model: its clean columns, per record what to warn about, and
    `sent(index)`: a record as the rules saw it, for a refusal that only the model's answer shows."""

    batch: CleanBatch
    warnings: list[tuple[FieldWarning, ...]]
    sent: Callable[[int], object]


class _Column(NamedTuple):
    """One cleaned column: its values, which records left it missing or unknown, and its problems."""

    values: np.ndarray
    missing: list[int]  # the records that left it to the imputer
    unknown: list[int]  # the records holding a category the model never saw
    problems: list[Problem]


@dataclass(frozen=True)
class Cleaner:
    """The value rules as one immutable object; DEFAULT_CLEANER is the one the package uses.

    This is the extension point of exercise 04: rather than editing the package, make a new
    Cleaner, e.g. ``DEFAULT_CLEANER.with_missing_markers("?")`` or
    ``DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams)``, and pass it to ``clean_records``.
    A pre-rule receives a copy of each raw record (a dict) and returns the record to clean.
    """

    missing_markers: frozenset[str] = MISSING_MARKERS
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=lambda: PLAUSIBLE_RANGES)
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: CATEGORY_ALIASES)
    pre_rules: tuple[PreRule, ...] = ()
    # Per categorical feature, every spelling (aliases and missing markers) → its canonical value.
    _spellings: Mapping[str, Mapping[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Normalise and freeze the rules once, so a typo fails here and not mid-request.

        Markers and aliases are stored lower-cased and stripped because values are compared
        that way; ranges and aliases are stored as read-only copies so that changing the
        module's dicts later cannot change a Cleaner that already exists.
        """
        if set(self.ranges) != set(NUMERIC_FEATURES):
            raise ValueError(f"ranges must cover exactly the numeric features {NUMERIC_FEATURES}")
        if not set(self.aliases) <= set(CATEGORICAL_FEATURES):
            raise ValueError(f"aliases can only be given for {CATEGORICAL_FEATURES}")
        ranges = {name: (float(low), float(high)) for name, (low, high) in self.ranges.items()}
        aliases = {
            name: MappingProxyType({_key(alias): value for alias, value in spellings.items()})
            for name, spellings in self.aliases.items()
        }
        object.__setattr__(self, "missing_markers", frozenset(map(_key, self.missing_markers)))
        object.__setattr__(self, "ranges", MappingProxyType(ranges))
        object.__setattr__(self, "aliases", MappingProxyType(aliases))
        object.__setattr__(self, "pre_rules", tuple(self.pre_rules))
        markers = dict.fromkeys(self.missing_markers, "")
        spellings = {name: MappingProxyType({**aliases.get(name, {}), **markers}) for name in CATEGORICAL_FEATURES}
        object.__setattr__(self, "_spellings", MappingProxyType(spellings))

    def with_missing_markers(self, *markers: str) -> Cleaner:
        """A new Cleaner that also reads `markers` as missing values."""
        return dataclasses.replace(self, missing_markers=self.missing_markers | set(markers))

    def with_pre_rule(self, rule: PreRule) -> Cleaner:
        """A new Cleaner that runs `rule` on each raw record after the pre-rules it already has."""
        return dataclasses.replace(self, pre_rules=(*self.pre_rules, rule))

    def clean(self, records: Sequence[Mapping[str, object]]) -> CleanBatch:
        """Clean a batch of raw records, or raise one CleaningError listing every problem."""
        _, columns, problems = self._columns(records)
        _raise_if(problems)
        return {name: column.values for name, column in columns.items()}

    def prepare(self, records: Sequence[Mapping[str, object]], one_record: bool = False) -> Prepared:
        """Clean a batch for answering: refuse records with no measurement, and note per record
        every field the model fills in (imputed) or does not know (unknown_category)."""
        rows, columns, problems = self._columns(records)
        return self._prepared(columns, problems, rows.__getitem__, one_record)

    def prepare_columns(self, columns: Mapping[str, Sequence[object]]) -> Prepared:
        """`prepare` for raw values sent column by column (the V2 protocol's tensors, all of one
        length): the same rules, without building a record per row. A column left out is missing
        in every record."""
        if self.pre_rules:  # they take records
            count = len(next(iter(columns.values()), ()))
            return self.prepare([{name: column[i] for name, column in columns.items()} for i in range(count)])
        problems: list[Problem] = []
        judged = self._judged({name: list(column) for name, column in columns.items()}, problems)
        return self._prepared(judged, problems, lambda index: {name: col[index] for name, col in columns.items()})

    def _prepared(
        self,
        columns: dict[str, _Column],
        problems: list[Problem],
        row: Callable[[int], object],
        one_record: bool = False,
    ) -> Prepared:
        """The judged columns ready for the model, or a CleaningError with every problem, a
        record with no measurement at all among them."""
        nothing_measured = set(columns[NUMERIC_FEATURES[0]].missing).intersection(
            *(columns[name].missing for name in NUMERIC_FEATURES[1:])
        )
        not_records = {problem.record for problem in problems if problem.field == RECORD_FIELD}
        for index in sorted(nothing_measured - not_records):  # not an object at all: refused already
            problems.append(Problem(index, RECORD_FIELD, row(index), "no_measurements", NO_MEASUREMENTS))
        _raise_if(problems, one_record)
        batch = {name: column.values for name, column in columns.items()}
        return Prepared(batch, _warnings(batch, columns, len(batch[FEATURES[0]])), row)

    def _columns(self, records: Sequence[Mapping[str, object]]) -> tuple[list[Any], dict[str, _Column], list[Problem]]:
        """Every value rule, column by column: the rows as read, the columns, every problem."""
        if isinstance(records, (Mapping, str, bytes)):
            raise TypeError("clean takes a list of records; use clean_record for a single one")
        problems: list[Problem] = []
        rows = self._rows(records, problems)
        all_dicts = set(map(type, rows)) <= {dict}
        values = {name: _values(rows, name, all_dicts) for name in FEATURES}
        return rows, self._judged(values, problems), problems

    def _judged(self, values: dict[str, list[object]], problems: list[Problem]) -> dict[str, _Column]:
        """Each feature's column judged by its rule (a column left out: missing throughout)."""
        count = len(next(iter(values.values()), ()))
        columns = {name: self._numeric_column(name, values.get(name) or [None] * count) for name in NUMERIC_FEATURES}
        for name in CATEGORICAL_FEATURES:
            columns[name] = self._categorical_column(name, values.get(name) or [None] * count)
        for column in columns.values():
            problems += column.problems
        return {name: columns[name] for name in FEATURES}

    def _rows(self, records: Iterable[object], problems: list[Problem]) -> list[Any]:
        """Apply the pre-rules and check the shape of each record (a mapping of known fields).

        A record that is not a mapping is replaced by an empty one, so the fields of the other
        records are still checked and reported in the same pass. Both checks run on all records
        at once (all dicts? any key beyond the features?), record by record only when one fails.
        """
        rows: list[Any] = list(records)
        if self.pre_rules:
            rows = [self._pre_ruled(record) for record in rows]
        if not set(map(type, rows)) <= {dict}:
            for index, record in enumerate(rows):
                if not isinstance(record, Mapping):
                    reason = f"must be an object with the fields {_FIELDS_TEXT}, got {_type_name(record)}"
                    problems.append(Problem(index, RECORD_FIELD, record, "wrong_type", reason))
                    rows[index] = {}
        if not _FEATURE_SET.issuperset(set().union(*rows)):
            for index, record in enumerate(rows):
                if not _FEATURE_SET.issuperset(record):
                    problems.extend(_unknown_fields(index, record))
        return rows

    def _pre_ruled(self, record: object) -> object:
        if not isinstance(record, Mapping):
            return record
        ruled = dict(record)
        for rule in self.pre_rules:
            ruled = rule(ruled)
        return ruled

    def _numeric_column(self, name: str, values: list[object]) -> _Column:
        """One numeric column. A large one of plain numbers and nulls is converted and range-checked
        in a few numpy calls, and only the values out of range get a look of their own; a small
        one (numpy's fixed cost per call would dominate) or one holding text goes value by value."""
        low, high = self.ranges[name]
        column = _plain_numbers(values) if len(values) >= VECTOR_FROM else None
        if column is None:
            return self._numeric_values(name, values, low, high)
        nan = np.isnan(column)
        outside = np.flatnonzero(~(nan | ((column >= low) & (column <= high)))).tolist()
        problems = [_out_of_range(index, name, values[index], float(column[index]), low, high) for index in outside]
        return _Column(column.astype(np.float32), np.flatnonzero(nan).tolist(), [], problems)

    def _numeric_values(self, name: str, values: list[object], low: float, high: float) -> _Column:
        """The numeric rule value by value; plain in-range floats and ints skip the general parser."""
        problems: list[Problem] = []
        numbers: list[float] = []
        missing: list[int] = []
        for index, value in enumerate(values):
            kind = type(value)
            if (kind is float or kind is int) and low <= value <= high:  # type: ignore[operator]
                numbers.append(value)  # type: ignore[arg-type]
                continue
            try:
                number = _number(value, self.missing_markers)
            except _Rejected as rejected:
                problems.append(Problem(index, name, _shown_value(value), rejected.code, rejected.reason))
                number = math.nan
            else:
                if math.isnan(number):
                    missing.append(index)
                elif not low <= number <= high:
                    problems.append(_out_of_range(index, name, value, number, low, high))
                    number = math.nan
            numbers.append(number)
        return _Column(np.array(numbers, dtype=np.float32), missing, [], problems)

    def _categorical_column(self, name: str, values: list[object]) -> _Column:
        """One categorical column. In a large one of text and nulls each distinct value is judged
        once and the column looked up and checked in numpy; a small one goes value by value."""
        spellings, known = self._spellings[name], KNOWN_CATEGORIES[name]
        if len(values) >= VECTOR_FROM and set(map(type, values)) <= {str, type(None)}:
            canonical = {value: _category(value, spellings) for value in set(values)}
            distinct = set(canonical.values())
            if not any(isinstance(item, _Rejected) for item in distinct):
                column = np.array(list(map(canonical.__getitem__, values)), dtype=object)
                missing = np.flatnonzero(column == "").tolist() if "" in distinct else []
                unknown = np.flatnonzero(~np.isin(column, ["", *known])).tolist() if distinct - {"", *known} else []
                return _Column(column, missing, unknown, [])
        problems: list[Problem] = []
        judged: list[str] = []
        missing, unknown = [], []
        for index, value in enumerate(values):
            item = _category(value, spellings)
            if isinstance(item, _Rejected):
                problems.append(Problem(index, name, _shown_value(value), item.code, item.reason))
                item = ""
            elif item == "":
                missing.append(index)
            elif item not in known:
                unknown.append(index)
            judged.append(item)
        return _Column(np.array(judged, dtype=object), missing, unknown, problems)


DEFAULT_CLEANER = Cleaner()


def clean_records(records: Sequence[Mapping[str, object]], cleaner: Cleaner = DEFAULT_CLEANER) -> CleanBatch:
    """Clean a batch of raw records with `cleaner`; raise CleaningError listing every problem."""
    return cleaner.clean(records)


def clean_record(record: Mapping[str, object], cleaner: Cleaner = DEFAULT_CLEANER) -> CleanBatch:
    """Clean one raw record into a batch of one, the shape every model takes."""
    return cleaner.clean([record])


def json_schema(name: str, cleaner: Cleaner = DEFAULT_CLEANER, missing: bool = True) -> dict[str, Any]:
    """What a raw field accepts, as JSON Schema, written from the rules above (for OpenAPI);
    `missing=False`: only a value given (no null, no missing marker).

    Numbers get their range; numeric text is stated in decimals within that range (in_range_pattern:
    JSON Schema cannot bound the value of text, and no regular expression can bound 1e1-style text),
    so every text the schema describes is answered; any text gets its longest length. Categories
    are examples, not an enum: an unknown island is answered (with a warning).
    """
    text: dict[str, Any] = {"type": "string", "maxLength": MAX_TEXT_LENGTH}
    null = [{"type": "null"}] if missing else []
    if name in NUMERIC_FEATURES:
        low, high = cleaner.ranges[name]
        number = {"type": "number", "minimum": low, "maximum": high}
        return {"anyOf": [number, {**text, "pattern": in_range_pattern(name, cleaner, missing)}, *null]}
    if name in CATEGORICAL_FEATURES:
        return {"anyOf": [{**text, "examples": list(KNOWN_CATEGORIES[name])}, *null]}
    raise KeyError(f"{name!r} is not a feature; the features are {_FIELDS_TEXT}")


def record_schema(cleaner: Cleaner = DEFAULT_CLEANER) -> dict[str, Any]:
    """A raw record as JSON Schema: each field as `json_schema` says, no other field, and at
    least one measurement given, so a record refused as no_measurements is not one it describes."""
    measured = [
        {"required": [name], "properties": {name: json_schema(name, cleaner, False)}} for name in NUMERIC_FEATURES
    ]
    return {
        "title": "RawRecord",
        "description": "one penguin as a client sends it: any field may be left out, null, a number or text "
        '("46,5", "NA"); at least one measurement',
        "type": "object",
        "properties": {name: json_schema(name, cleaner) for name in FEATURES},
        "additionalProperties": False,
        "anyOf": measured,
    }


def in_range_pattern(name: str, cleaner: Cleaner = DEFAULT_CLEANER, missing: bool = True) -> str:
    """The numeric text of `name` within its (whole-number) range, in decimals: spaces, an
    optional "+", leading zeros, the digits, a decimal point or comma; or (`missing`) a missing
    marker or nothing. Every text it matches, the rule answers."""
    low, high = (int(bound) for bound in cleaner.ranges[name])
    below = f"(?:{'|'.join(_integers(low, high - 1))})(?:[.,][0-9]*)?"
    number = f"(?:\\+?0*(?:{below}|{high}(?:[.,]0*)?))"
    if missing:
        number = f"(?:{'|'.join([number, *_markers(cleaner)])})?"
    return f"^{_SPACES}{number}{_SPACES}$"


def _markers(cleaner: Cleaner) -> list[str]:
    """The markers as patterns, longest first, in one order whatever the process (a set's order
    changes with Python's hash seed: the schema would differ from one replica to the next)."""
    return sorted((_any_case(marker) for marker in cleaner.missing_markers if marker), key=lambda p: (-len(p), p))


def _integers(low: int, high: int) -> list[str]:
    """Regular expressions matching exactly the whole numbers low..high (no leading zeros)."""
    parts = []
    while low <= high:
        top = min(high, 10 ** len(str(low)) - 1)  # the same number of digits
        parts += _digits(str(low), str(top))
        low = top + 1
    return parts


def _digits(low: str, high: str) -> list[str]:
    """Regular expressions for the numbers low..high, written with the same number of digits."""
    if not low:
        return [""]
    if low[0] == high[0]:
        return [low[0] + tail for tail in _digits(low[1:], high[1:])]
    rest = len(low) - 1
    from_zero, to_nine = low[1:] == "0" * rest, high[1:] == "9" * rest
    first, last = int(low[0]) + (not from_zero), int(high[0]) - (not to_nine)
    parts = [] if from_zero else [low[0] + tail for tail in _digits(low[1:], "9" * rest)]
    parts += [f"[{first}-{last}]" + "[0-9]" * rest] if first <= last else []
    return parts + ([] if to_nine else [high[0] + tail for tail in _digits("0" * rest, high[1:])])


# ---------------------------------------------------------------- the rules, value by value


class _Rejected(ValueError):
    """A single value broke a rule: its code and the reason, up to the loop that knows where it was."""

    def __init__(self, code: RefusalCode, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _values(rows: list[Any], name: str, all_dicts: bool) -> list[object]:
    """One field of every record (None where absent): dict.get in one C loop when all are dicts."""
    if all_dicts:
        return list(map(dict.get, rows, [name] * len(rows)))
    return [row.get(name) for row in rows]


_PLAIN_KINDS = (float, int, np.floating, np.integer)
# From this many records on, a column of plain numbers is checked with numpy; below, numpy's
# fixed cost per call is more than the values cost one by one (measured: bench/model_speed.py).
VECTOR_FROM = 32


def _plain_numbers(values: list[object]) -> np.ndarray | None:
    """A float64 column when every value is a plain number or null (None, or NaN as pandas hands
    a missing value over), all converted at once; None when some value needs a closer look."""
    for kind in set(map(type, values)):
        if kind is not type(None) and (kind is bool or not issubclass(kind, _PLAIN_KINDS)):
            return None
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:  # an integer with more digits than a float holds
        return None


def _number(value: object, markers: frozenset[str]) -> float:
    """The numeric rule for one value: missing → NaN; a number or numeric text → a float
    (its range is checked on the whole column afterwards)."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH:
            raise _Rejected("too_long", _too_long(value))
        text = value.strip(SPACE)
        if text.lower() in markers:
            return math.nan
        if _NUMBER.fullmatch(text) is None:
            raise _Rejected("not_a_number", f"must be a number, got text {_preview(value)}")
        return float(text.replace(",", "."))
    if value is None or _is_nan(value):
        return math.nan
    if isinstance(value, NonJsonNumber):
        raise _Rejected("not_json_number", _not_json(value))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, _PLAIN_KINDS):
        raise _Rejected("wrong_type", f"wrong type: must be a number, got {_type_name(value)}")
    return _to_float(value)


def _to_float(value: int | float | np.number) -> float:
    """float(value), except that an integer too big for a float reads as infinity.

    A JSON integer can have any number of digits; a float cannot.
    """
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _out_of_range(index: int, name: str, value: object, number: float, low: float, high: float) -> Problem:
    """The refusal of a number outside its range, whichever path read it."""
    return Problem(index, name, _shown_value(value), "out_of_range", _range_reason(number, value, name, low, high))


def _range_reason(number: float, value: object, name: str, low: float, high: float) -> str:
    """Why a number is refused: not finite, or outside the plausible range (a typo, wrong units)."""
    shown = f"{number:.10g}"
    if isinstance(value, str):
        shown = f"text {_preview(value)}, read as {shown}"
    if not math.isfinite(number):
        return f"must be a finite number, got {shown}"
    return f"must be between {low:g} and {high:g} ({name}), got {shown}"


def _category(value: object, spellings: Mapping[str, str]) -> str | _Rejected:
    """The categorical rule for one value: missing → ""; text → its canonical spelling, or the
    stripped text when unknown. A value that breaks the rule comes back as its _Rejected."""
    if value is None or _is_nan(value):
        return ""
    if isinstance(value, NonJsonNumber):
        return _Rejected("not_json_number", _not_json(value))
    if not isinstance(value, str):
        return _Rejected("wrong_type", f"wrong type: must be text, got {_type_name(value)}")
    if len(value) > MAX_TEXT_LENGTH:
        return _Rejected("too_long", _too_long(value))
    text = value.strip(SPACE)
    known = spellings.get(text.lower())
    if known is not None:
        return known
    try:
        return unicode_text(text)
    except _Rejected as rejected:
        return rejected


def unicode_text(text: str) -> str:
    """`text` if it is valid Unicode: JSON can escape half a surrogate pair ("\\ud800"), which no
    model input (nor response) can carry. The bare model's types use this rule too."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Rejected("not_unicode", "must be valid Unicode text, got half of a surrogate pair") from None
    return str(text)


def _warnings(batch: CleanBatch, columns: dict[str, _Column], count: int) -> list[tuple[FieldWarning, ...]]:
    """Per record, in the order of the features: each field imputed, each category unknown.
    Most records have none: they share one empty tuple, and only the others are looked at."""
    found: dict[int, list[FieldWarning]] = {}
    for name in FEATURES:
        for index in columns[name].missing:
            found.setdefault(index, []).append(
                FieldWarning("imputed", name, f"{name} is missing: the model filled in a typical value")
            )
        for index in columns[name].unknown:
            known = ", ".join(KNOWN_CATEGORIES[name])
            found.setdefault(index, []).append(
                FieldWarning(
                    "unknown_category",
                    name,
                    f"{name} {_preview(str(batch[name][index]))} is not a category the model "
                    f"knows ({known}); it answered from the other features",
                )
            )
    warnings: list[tuple[FieldWarning, ...]] = [()] * count
    for index, notes in found.items():
        warnings[index] = tuple(notes)
    return warnings


def _raise_if(problems: list[Problem], one_record: bool = False) -> None:
    if problems:
        problems.sort(key=lambda problem: problem.record)
        raise CleaningError(problems, one_record)


def _unknown_fields(index: int, record: Mapping[str, object]) -> list[Problem]:
    """One problem per unknown field: a misspelt name would otherwise be silently dropped."""
    return [
        Problem(index, str(name), value, "unknown_field", f"unknown field; the known fields are {_FIELDS_TEXT}")
        for name, value in record.items()
        if name not in _FEATURE_SET
    ]


def _any_case(marker: str) -> str:
    """A marker as a pattern matching it in any case ("na" → "[Nn][Aa]"), in plain regex syntax."""
    return "".join(f"[{char.upper()}{char}]" if char.upper() != char else re.escape(char) for char in marker)


def _not_json(value: NonJsonNumber) -> str:
    return f"{value.token} is not a JSON number: send a number, or null for a missing value"


def _too_long(text: str) -> str:
    return f"text of {len(text)} characters, longer than any value of this field (at most {MAX_TEXT_LENGTH})"


def _shown_value(value: object) -> object:
    """A refused value as the problem keeps it: a NaN or Infinity token as the text it was."""
    return str(value) if isinstance(value, NonJsonNumber) else value


def _is_nan(value: object) -> bool:
    """True for a float NaN of any flavour (pandas hands over a missing value as NaN)."""
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _preview(text: str) -> str:
    """Quote text for a message, cut short so a huge value cannot flood a log or a response."""
    if len(text) <= _PREVIEW_LENGTH:
        return repr(text)
    return repr(text[:_PREVIEW_LENGTH]) + "..."


def _type_name(value: object) -> str:
    """The type as a student would name it in a message."""
    return type(value).__name__

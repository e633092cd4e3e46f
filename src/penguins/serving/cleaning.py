"""Raw records in, clean typed columns out: the one home of every value rule.

A client sends whatever it has: numbers as text, "NA" for a missing value, "MALE" where the
model was trained on "male", a decimal comma. Every rule that turns such a value into what
the model expects, or rejects it with a sentence a person can act on, lives here and nowhere
else, so the notebook, the predictor and the service can never disagree about what a valid
penguin is.

This module is on the serving path: it imports only the standard library, numpy and the
feature contract (no pandas, no scikit-learn, no torch).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from penguins.serving.contract import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

# Compared after strip().lower(). "." is how one version of the raw dataset writes a missing sex.
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

# Keys exactly contract.FEATURES in that order; numeric columns float32 with NaN where missing,
# categorical columns dtype=object holding python str with "" where missing (the imputer in the
# exported ONNX preprocessing looks for "").
CleanBatch = dict[str, np.ndarray]

PreRule = Callable[[dict[str, object]], dict[str, object]]

RECORD_FIELD = "(record)"
_FIELDS_TEXT = ", ".join(FEATURES)
_FEATURE_SET = frozenset(FEATURES)
_NUMBER_TYPES = (int, float, np.integer, np.floating)
_PREVIEW_LENGTH = 40


def _key(text: str) -> str:
    """How markers and spellings are compared: case and surrounding spaces do not count."""
    return text.strip().lower()


@dataclass(frozen=True)
class Problem:
    """One value that broke a rule: where it is, what it was, and why it was refused.

    `value` is the value as the rules saw it: as received, or as a pre-rule left it.
    """

    record: int
    field: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"record {self.record}, field {self.field!r}: {self.reason}"


class CleaningError(ValueError):
    """Raised with every problem of a batch at once, so a client fixes its data in one round."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class _Rejected(Exception):
    """A single value broke a rule; carries the reason up to the loop that knows where it was."""


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

    def with_missing_markers(self, *markers: str) -> Cleaner:
        """A new Cleaner that also reads `markers` as missing values."""
        return dataclasses.replace(self, missing_markers=self.missing_markers | set(markers))

    def with_pre_rule(self, rule: PreRule) -> Cleaner:
        """A new Cleaner that runs `rule` on each raw record after the pre-rules it already has."""
        return dataclasses.replace(self, pre_rules=(*self.pre_rules, rule))

    def clean(self, records: Sequence[Mapping[str, object]]) -> CleanBatch:
        """Clean a batch of raw records, or raise one CleaningError listing every problem."""
        if isinstance(records, (Mapping, str, bytes)):
            raise TypeError("clean takes a list of records; use clean_record for a single one")
        problems: list[Problem] = []
        rows = self._rows(records, problems)
        batch: CleanBatch = {}
        for name in FEATURES:
            values = [row.get(name) for row in rows]
            if name in NUMERIC_FEATURES:
                batch[name] = self._numeric_column(name, values, problems)
            else:
                batch[name] = self._categorical_column(name, values, problems)
        if problems:
            problems.sort(key=lambda problem: problem.record)
            raise CleaningError(problems)
        return batch

    def _rows(self, records: Iterable[object], problems: list[Problem]) -> list[Mapping[str, object]]:
        """Apply the pre-rules and check the shape of each record (a mapping of known fields).

        A record that is not a mapping is replaced by an empty one, so the fields of the other
        records are still checked and reported in the same pass.
        """
        rows: list[Mapping[str, object]] = []
        for index, record in enumerate(records):
            if self.pre_rules and isinstance(record, Mapping):
                record = dict(record)
                for rule in self.pre_rules:
                    record = rule(record)
            if not isinstance(record, Mapping):
                got = _type_name(record)
                reason = f"must be an object with the fields {_FIELDS_TEXT}, got {got}"
                problems.append(Problem(index, RECORD_FIELD, record, reason))
                record = {}
            elif not _FEATURE_SET.issuperset(record):
                problems.extend(_unknown_fields(index, record))
            rows.append(record)
        return rows

    def _numeric_column(self, name: str, values: list[object], problems: list[Problem]) -> np.ndarray:
        """Parse one numeric column; plain in-range floats and ints skip the general parser."""
        low, high = self.ranges[name]
        column: list[float] = []
        for index, value in enumerate(values):
            kind = type(value)
            if (kind is float or kind is int) and low <= value <= high:
                column.append(value)
                continue
            try:
                column.append(_number(value, name, low, high, self.missing_markers))
            except _Rejected as rejected:
                problems.append(Problem(index, name, value, str(rejected)))
                column.append(math.nan)
        return np.array(column, dtype=np.float32)

    def _categorical_column(self, name: str, values: list[object], problems: list[Problem]) -> np.ndarray:
        """Normalise one categorical column; unknown categories are kept as their stripped text."""
        spellings = {**self.aliases.get(name, {}), **dict.fromkeys(self.missing_markers, "")}
        column: list[str] = []
        for index, value in enumerate(values):
            if type(value) is str:
                known = spellings.get(value.strip().lower())
                if known is not None:
                    column.append(known)
                    continue
            try:
                column.append(_category(value, spellings))
            except _Rejected as rejected:
                problems.append(Problem(index, name, value, str(rejected)))
                column.append("")
        return np.array(column, dtype=object)


DEFAULT_CLEANER = Cleaner()


def clean_records(
    records: Sequence[Mapping[str, object]], cleaner: Cleaner = DEFAULT_CLEANER
) -> CleanBatch:
    """Clean a batch of raw records with `cleaner`; raise CleaningError listing every problem."""
    return cleaner.clean(records)


def clean_record(record: Mapping[str, object], cleaner: Cleaner = DEFAULT_CLEANER) -> CleanBatch:
    """Clean one raw record into a batch of one, the shape every model takes."""
    return cleaner.clean([record])


def empty_batch() -> CleanBatch:
    """A batch of no records, typed like any other; whether it may be used is the caller's call."""
    return {
        name: np.empty(0, dtype=np.float32 if name in NUMERIC_FEATURES else object)
        for name in FEATURES
    }


def unknown_categories(batch: CleanBatch) -> list[tuple[int, str, str]]:
    """(record, field, value) for every category the model never saw, so callers can warn.

    Such values are not errors: the one-hot encoder ignores an unknown category and the model
    still answers from the other features, but the caller should know it answered with less.
    """
    found = [
        (index, name, value)
        for name in CATEGORICAL_FEATURES
        for index, value in enumerate(batch[name])
        if value and value not in KNOWN_CATEGORIES[name]
    ]
    return sorted(found, key=lambda item: item[0])


def _number(value: object, name: str, low: float, high: float, markers: frozenset[str]) -> float:
    """The general numeric rule: missing → NaN, numbers and numeric text → a float in range."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in markers:
            return math.nan
        try:
            number = float(text.replace(",", "."))  # "39,1": a decimal comma, as in Poland
        except ValueError:
            raise _Rejected(f"must be a number, got text {_preview(value)}") from None
    elif value is None or _is_nan(value):
        return math.nan
    elif isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        raise _Rejected(f"wrong type: must be a number, got {_type_name(value)}")
    else:
        number = _to_float(value)
    return _in_range(number, value, name, low, high)


def _to_float(value: int | float | np.number) -> float:
    """float(value), except that an integer too big for a float reads as infinity.

    A JSON integer can have any number of digits; a float cannot.
    """
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _in_range(number: float, value: object, name: str, low: float, high: float) -> float:
    """Refuse infinities and values outside the plausible range: likely typos or wrong units."""
    if low <= number <= high:
        return number
    shown = f"{number:.10g}"
    if isinstance(value, str):
        shown = f"text {_preview(value)}, read as {shown}"
    if not math.isfinite(number):
        raise _Rejected(f"must be a finite number, got {shown}")
    raise _Rejected(f"must be between {low:g} and {high:g} ({name}), got {shown}")


def _category(value: object, spellings: Mapping[str, str]) -> str:
    """The general categorical rule: missing → "", text → its canonical spelling."""
    if value is None or _is_nan(value):
        return ""
    if not isinstance(value, str):
        raise _Rejected(f"wrong type: must be text, got {_type_name(value)}")
    text = value.strip()
    known = spellings.get(text.lower())
    if known is not None:
        return known
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can escape half a surrogate pair ("\ud800"); no model input can carry it.
        raise _Rejected("must be valid Unicode text, got half of a surrogate pair") from None
    return text


def _unknown_fields(index: int, record: Mapping[str, object]) -> list[Problem]:
    """One problem per unknown field: a misspelt name would otherwise be silently dropped."""
    return [
        Problem(index, str(name), value, f"unknown field; the known fields are {_FIELDS_TEXT}")
        for name, value in record.items()
        if name not in _FEATURE_SET
    ]


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

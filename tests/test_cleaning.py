"""Tests for penguins.serving.cleaning: every value rule, on hand-made records and on the real raw table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import resources

import numpy as np
import palmerpenguins
import pandas as pd
import pytest

from penguins.serving import contract
from penguins.serving.cleaning import (
    DEFAULT_CLEANER,
    MAX_TEXT_LENGTH,
    REFUSALS,
    VECTOR_FROM,
    WARNINGS,
    Cleaner,
    CleaningError,
    NonJsonNumber,
    Problem,
    clean_record,
    clean_records,
    in_range_pattern,
    json_schema,
    read_json,
)
from penguins.training import data

VALID = {
    "island": "Biscoe",
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181.0,
    "body_mass_g": 3750.0,
    "sex": "male",
}

# The documented ranges, written out here so that a change to the code cannot go unnoticed.
RANGES = {
    "bill_length_mm": (10, 100),
    "bill_depth_mm": (5, 40),
    "flipper_length_mm": (100, 300),
    "body_mass_g": (1000, 10000),
}

MISSING_VALUES = [
    None,
    "",
    "   ",
    "NA",
    "na",
    " na ",
    "N/A",
    "NaN",
    "nan",
    ".",
    "None",
    "null",
    float("nan"),
    np.float32("nan"),
]

# Column names of palmerpenguins' penguins-raw table → the contract's feature names.
# The raw data set's long column names for the six features (the species is not a feature).
RAW_COLUMNS = {raw: short for raw, short in data.RAW_COLUMNS.items() if short != "species"}


def with_value(field: str, value: object) -> dict[str, object]:
    """VALID with one field replaced."""
    return {**VALID, field: value}


def problems_of(records: list[object], cleaner: Cleaner = DEFAULT_CLEANER) -> tuple[Problem, ...]:
    """The problems a batch is refused with (fails the test if it is accepted)."""
    with pytest.raises(CleaningError) as caught:
        clean_records(records, cleaner)
    return caught.value.problems


def kilograms_to_grams(record: dict[str, object]) -> dict[str, object]:
    """A pre-rule: a body mass below 100 must have been given in kilograms."""
    mass = record.get("body_mass_g")
    if isinstance(mass, (int, float)) and mass < 100:
        record["body_mass_g"] = mass * 1000
    return record


# --- missing values ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", MISSING_VALUES, ids=repr)
@pytest.mark.parametrize("field", contract.NUMERIC_FEATURES)
def test_missing_numeric_value_becomes_nan_in_its_column_only(field, value):
    batch = clean_record(with_value(field, value))
    for name in contract.NUMERIC_FEATURES:
        assert np.isnan(batch[name][0]) == (name == field)


@pytest.mark.parametrize("value", MISSING_VALUES, ids=repr)
@pytest.mark.parametrize("field", contract.CATEGORICAL_FEATURES)
def test_missing_category_becomes_empty_text_in_its_column_only(field, value):
    batch = clean_record(with_value(field, value))
    for name in contract.CATEGORICAL_FEATURES:
        assert (batch[name][0] == "") == (name == field)


def test_absent_fields_are_missing_values_not_errors():
    batch = clean_record({"island": "Dream"})
    assert batch["island"][0] == "Dream"
    assert batch["sex"][0] == ""
    assert all(np.isnan(batch[name][0]) for name in contract.NUMERIC_FEATURES)


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (39, 39.0),
        (39.1, 39.1),
        ("39.1", 39.1),
        (" 39.1 ", 39.1),
        ("\t39.1\n", 39.1),
        ("39,1", 39.1),
        (" 39,1 ", 39.1),
        ("39", 39.0),
        ("3.91e1", 39.1),
        (np.int64(39), 39.0),
        (np.float64(39.1), 39.1),
        (np.float32(39.1), 39.1),
    ],
    ids=repr,
)
def test_numbers_and_numeric_text_are_read_as_float32(raw, expected):
    column = clean_record(with_value("bill_length_mm", raw))["bill_length_mm"]
    assert column.dtype == np.float32
    assert column[0] == np.float32(expected)


def test_integers_become_float32():
    record = {**VALID, "flipper_length_mm": 181, "body_mass_g": 3750}
    batch = clean_record(record)
    assert batch["body_mass_g"].dtype == np.float32
    assert batch["body_mass_g"].tolist() == [3750.0]
    assert batch["flipper_length_mm"].tolist() == [181.0]


@pytest.mark.parametrize(("field", "bounds"), RANGES.items())
def test_range_bounds_are_inclusive(field, bounds):
    low, high = bounds
    records = [with_value(field, value) for value in (low, str(low), high, str(high))]
    assert clean_records(records)[field].tolist() == [low, low, high, high]


@pytest.mark.parametrize(("field", "bounds"), RANGES.items())
def test_values_just_outside_the_range_are_refused(field, bounds):
    low, high = bounds
    problems = problems_of([with_value(field, low * 0.99), with_value(field, high * 1.01)])
    assert [(problem.record, problem.field) for problem in problems] == [(0, field), (1, field)]
    assert all(f"between {low} and {high} ({field})" in problem.reason for problem in problems)


# --- categories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("island", "Biscoe", "Biscoe"),
        ("island", " BISCOE ", "Biscoe"),
        ("island", "biscoe", "Biscoe"),
        ("island", "DREAM", "Dream"),
        ("island", "torgersen\t", "Torgersen"),
        ("island", np.str_("Dream"), "Dream"),
        ("sex", "male", "male"),
        ("sex", "MALE", "male"),
        ("sex", " Male ", "male"),
        ("sex", "m", "male"),
        ("sex", "M", "male"),
        ("sex", "FEMALE", "female"),
        ("sex", "f", "female"),
        ("sex", " F ", "female"),
        ("sex", np.str_("FEMALE"), "female"),
    ],
    ids=repr,
)
def test_categories_are_normalised_to_their_canonical_spelling(field, raw, expected):
    value = clean_record(with_value(field, raw))[field][0]
    assert value == expected
    assert type(value) is str


@pytest.mark.parametrize(
    ("field", "raw", "kept"),
    [
        ("island", "Atlantis", "Atlantis"),
        ("island", "  Atlantis ", "Atlantis"),
        ("island", "Anvers", "Anvers"),
        ("sex", "unknown", "unknown"),
        ("sex", "X", "X"),
    ],
)
def test_unknown_category_is_kept_and_reported(field, raw, kept):
    prepared = DEFAULT_CLEANER.prepare([with_value(field, raw)])
    assert prepared.batch[field][0] == kept
    assert unknown_of(prepared) == [(0, field, kept)]


def unknown_of(prepared):
    """(record, field, value) of each unknown_category warning, the value as the model got it."""
    return [
        (index, w.field, str(prepared.batch[w.field][index]))
        for index, notes in enumerate(prepared.warnings)
        for w in notes
        if w.code == "unknown_category"
    ]


def test_unknown_categories_are_warned_about_by_record():
    records = [
        VALID,
        with_value("sex", "?"),
        with_value("island", "Atlantis"),
        {**VALID, "island": None, "sex": "NA"},
        {**VALID, "island": "Anvers", "sex": "X"},
    ]
    assert unknown_of(DEFAULT_CLEANER.prepare(records)) == [
        (1, "sex", "?"),
        (2, "island", "Atlantis"),
        (4, "island", "Anvers"),
        (4, "sex", "X"),
    ]


# --- rejections -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("bill_length_mm", "abc", "must be a number, got text 'abc'"),
        ("bill_length_mm", "39.1 mm", "must be a number, got text '39.1 mm'"),
        ("bill_length_mm", "1,234.5", "must be a number"),
        ("body_mass_g", True, "wrong type"),
        ("body_mass_g", False, "wrong type"),
        ("body_mass_g", np.bool_(True), "wrong type"),
        ("body_mass_g", [3750], "wrong type"),
        ("body_mass_g", {"grams": 3750}, "wrong type"),
        ("body_mass_g", b"3750", "wrong type"),
        ("body_mass_g", float("inf"), "finite"),
        ("body_mass_g", float("-inf"), "finite"),
        ("body_mass_g", "inf", "must be a number"),
        ("body_mass_g", "1e999", "finite"),
        ("body_mass_g", 10**400, "finite"),
        ("body_mass_g", -3750, "between 1000 and 10000 (body_mass_g)"),
        ("body_mass_g", 0, "between 1000 and 10000 (body_mass_g)"),
        ("body_mass_g", 3.75, "between 1000 and 10000 (body_mass_g), got 3.75"),
        ("body_mass_g", "3,750", "got text '3,750', read as 3.75"),
        ("flipper_length_mm", 5000, "must be between 100 and 300 (flipper_length_mm), got 5000"),
        ("bill_length_mm", 5, "between 10 and 100 (bill_length_mm)"),
        ("bill_depth_mm", 400, "between 5 and 40 (bill_depth_mm)"),
        ("island", 3, "must be text"),
        ("island", ["Biscoe"], "must be text"),
        ("sex", True, "must be text"),
        ("sex", 1, "must be text"),
    ],
    ids=repr,
)
def test_bad_value_is_refused_with_its_place_and_reason(field, raw, reason):
    with pytest.raises(CleaningError) as caught:
        clean_records([VALID, VALID, with_value(field, raw)])
    (problem,) = caught.value.problems
    assert (problem.record, problem.field) == (2, field)
    assert problem.value is raw
    assert reason in problem.reason
    assert repr(field) in str(caught.value)


def test_long_text_is_cut_short_in_the_reason():
    (problem,) = problems_of([with_value("body_mass_g", "x" * 10_000)])
    assert len(problem.reason) < 100


@pytest.mark.parametrize("record", [["Biscoe", 39.1], "Biscoe", None, 42, ("island",)], ids=repr)
def test_record_that_is_not_an_object_is_refused(record):
    (problem,) = problems_of([VALID, record])
    assert (problem.record, problem.field) == (1, "(record)")
    assert "must be an object with the fields" in problem.reason
    assert "bill_length_mm" in problem.reason


@pytest.mark.parametrize("name", ["species", "body_mass", "Island"])
def test_unknown_field_is_refused_and_the_known_fields_are_named(name):
    (problem,) = problems_of([{**VALID, name: "Adelie"}])
    assert (problem.record, problem.field, problem.value) == (0, name, "Adelie")
    assert "unknown field" in problem.reason
    assert all(feature in problem.reason for feature in contract.FEATURES)


def test_every_problem_of_every_record_is_reported_at_once():
    records = [
        VALID,
        {**VALID, "bill_length_mm": "abc", "sex": 1},
        "not a record",
        {**VALID, "body_mass_g": -1, "island": True, "colour": "black"},
        VALID,
    ]
    with pytest.raises(CleaningError) as caught:
        clean_records(records)
    problems = caught.value.problems
    assert len(problems) == 6
    assert {(problem.record, problem.field) for problem in problems} == {
        (1, "bill_length_mm"),
        (1, "sex"),
        (2, "(record)"),
        (3, "body_mass_g"),
        (3, "island"),
        (3, "colour"),
    }
    assert [problem.record for problem in problems] == [1, 1, 2, 3, 3, 3]
    assert len(str(caught.value).splitlines()) == 6


def test_problem_reads_as_a_sentence():
    problem = Problem(3, "body_mass_g", "abc", "not_a_number", "must be a number, got text 'abc'")
    assert str(problem) == "record 3, field 'body_mass_g': must be a number, got text 'abc'"


def test_cleaning_error_is_a_value_error():
    with pytest.raises(ValueError):
        clean_record(with_value("body_mass_g", "heavy"))


def test_a_single_record_passed_as_a_batch_is_a_programming_error():
    with pytest.raises(TypeError, match="clean_record"):
        clean_records(VALID)


# --- the shape of a clean batch ---------------------------------------------------------------


def assert_batch_shape(batch, length):
    assert list(batch) == list(contract.FEATURES)
    for name, column in batch.items():
        expected = np.float32 if name in contract.NUMERIC_FEATURES else object
        assert column.dtype == expected, name
        assert column.shape == (length,), name


@pytest.mark.parametrize("length", [0, 1, 3])
def test_batch_has_the_contract_columns_in_order_with_their_dtypes(length):
    assert_batch_shape(clean_records([VALID] * length), length)


def test_clean_record_is_a_batch_of_one():
    assert_batch_shape(clean_record(VALID), 1)


def test_columns_keep_the_order_of_the_records():
    records = [with_value("body_mass_g", mass) for mass in (3000, "4000", 5000.5)]
    records[1]["island"] = "dream"
    batch = clean_records(records)
    assert batch["body_mass_g"].tolist() == [3000.0, 4000.0, 5000.5]
    assert batch["island"].tolist() == ["Biscoe", "Dream", "Biscoe"]


# --- Cleaner, the extension point -------------------------------------------------------------


def test_default_cleaner_has_the_documented_missing_markers():
    expected = {"", "na", "n/a", "nan", ".", "none", "null"}
    assert DEFAULT_CLEANER.missing_markers == expected


@pytest.mark.parametrize("field", ["body_mass_g", "sex"])
def test_with_missing_markers_adds_a_marker_and_leaves_the_default_alone(field):
    cleaner = DEFAULT_CLEANER.with_missing_markers("?")
    batch = clean_records([with_value(field, "?"), with_value(field, " ? ")], cleaner)
    assert all(value == "" or np.isnan(value) for value in batch[field])
    assert "?" not in DEFAULT_CLEANER.missing_markers
    assert cleaner.missing_markers == DEFAULT_CLEANER.missing_markers | {"?"}


def test_default_cleaner_still_refuses_a_question_mark_as_a_number():
    DEFAULT_CLEANER.with_missing_markers("?")  # must return a new Cleaner, not change this one
    (problem,) = problems_of([with_value("body_mass_g", "?")])
    assert "must be a number" in problem.reason


def test_missing_markers_are_compared_case_and_space_insensitively():
    cleaner = DEFAULT_CLEANER.with_missing_markers(" N.A. ")
    batch = clean_records([with_value("bill_depth_mm", "n.a."), with_value("sex", "N.A.")], cleaner)
    assert np.isnan(batch["bill_depth_mm"][0])
    assert batch["sex"][1] == ""


def test_pre_rule_converts_kilograms_and_leaves_the_default_alone():
    cleaner = DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams)
    record = with_value("body_mass_g", 3.75)
    assert clean_record(record, cleaner)["body_mass_g"].tolist() == [3750.0]
    assert record["body_mass_g"] == 3.75, "the pre-rule must get a copy, not the caller's record"
    assert DEFAULT_CLEANER.pre_rules == ()
    (problem,) = problems_of([record])
    assert problem.field == "body_mass_g"


def test_pre_rules_run_in_the_order_they_were_added():
    def add_500(record):
        return {**record, "body_mass_g": record["body_mass_g"] + 500}

    def double(record):
        return {**record, "body_mass_g": record["body_mass_g"] * 2}

    record = with_value("body_mass_g", 1000)
    add_then_double = DEFAULT_CLEANER.with_pre_rule(add_500).with_pre_rule(double)
    double_then_add = DEFAULT_CLEANER.with_pre_rule(double).with_pre_rule(add_500)
    assert clean_record(record, add_then_double)["body_mass_g"][0] == 3000
    assert clean_record(record, double_then_add)["body_mass_g"][0] == 2500


def test_cleaner_keeps_its_own_copy_of_the_ranges():
    ranges = {**RANGES, "body_mass_g": (1, 10000)}
    cleaner = Cleaner(ranges=ranges)
    ranges["body_mass_g"] = (1, 2)
    assert clean_record(with_value("body_mass_g", 3.75), cleaner)["body_mass_g"][0] == np.float32(3.75)
    assert clean_record(VALID, cleaner)["body_mass_g"][0] == 3750


def test_cleaner_refuses_ranges_that_miss_a_numeric_feature():
    incomplete = {name: bounds for name, bounds in RANGES.items() if name != "body_mass_g"}
    with pytest.raises(ValueError, match="numeric features"):
        Cleaner(ranges=incomplete)


# --- the real raw data ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_table() -> pd.DataFrame:
    """penguins-raw as pandas reads it: measurements as floats, missing values as NaN."""
    return palmerpenguins.load_penguins_raw()[list(RAW_COLUMNS)].rename(columns=RAW_COLUMNS)


@pytest.fixture(scope="module")
def raw_text_records() -> list[dict[str, str]]:
    """penguins-raw as a client holding the CSV would send it: every value as text, "NA" included."""
    path = resources.files(palmerpenguins) / "data" / "penguins-raw.csv"
    with resources.as_file(path) as csv:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    return table[list(RAW_COLUMNS)].rename(columns=RAW_COLUMNS).to_dict("records")


def assert_matches_raw_table(batch, raw_table):
    for name in contract.NUMERIC_FEATURES:
        expected = raw_table[name].to_numpy(dtype=np.float32)
        np.testing.assert_array_equal(batch[name], expected, err_msg=name)
    assert batch["sex"].tolist() == raw_table["sex"].str.lower().fillna("").tolist()
    assert batch["island"].tolist() == raw_table["island"].tolist()


def test_every_raw_row_cleans_from_pandas_values(raw_table):
    batch = clean_records(raw_table.to_dict("records"))
    assert_matches_raw_table(batch, raw_table)
    assert set(batch["island"]) == {"Biscoe", "Dream", "Torgersen"}  # every category known
    sexes = dict(zip(*np.unique(batch["sex"].astype(str), return_counts=True), strict=True))
    assert sexes == {"": 11, "female": 165, "male": 168}
    assert [int(np.isnan(batch[name]).sum()) for name in contract.NUMERIC_FEATURES] == [2, 2, 2, 2]


def test_every_raw_row_cleans_from_csv_text(raw_text_records, raw_table):
    assert raw_text_records[3]["body_mass_g"] == "NA"
    assert_matches_raw_table(clean_records(raw_text_records), raw_table)


def test_raw_row_with_a_dot_for_sex_cleans():
    # Gentoo N36A1, as the Kaggle copy of penguins-raw writes its unknown sex.
    record = {
        "island": "Biscoe",
        "bill_length_mm": "44.5",
        "bill_depth_mm": "15.7",
        "flipper_length_mm": "217",
        "body_mass_g": "4875",
        "sex": ".",
    }
    batch = clean_record(record)
    assert batch["sex"].tolist() == [""]
    assert batch["body_mass_g"].tolist() == [4875.0]


@pytest.mark.parametrize("field", ["island", "sex"])
def test_text_that_is_not_unicode_is_rejected(field: str) -> None:
    with pytest.raises(CleaningError) as err:
        clean_records([with_value(field, "Bis\ud800coe")])
    (problem,) = err.value.problems
    assert problem.field == field and "surrogate" in problem.reason


# --- codes, and the rules of issue 11 -----------------------------------------------------------


def codes_of(records: list[object]) -> list[tuple[int, str, str]]:
    """(record, field, code) of every refusal when the batch is prepared for answering."""
    with pytest.raises(CleaningError) as caught:
        DEFAULT_CLEANER.prepare(records)
    assert all(problem.code in REFUSALS for problem in caught.value.problems)
    return [(problem.record, problem.field, problem.code) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("field", "raw", "code"),
    [
        ("bill_length_mm", "forty", "not_a_number"),
        ("bill_length_mm", "4_0", "not_a_number"),  # Python's float() reads 40
        ("bill_length_mm", "\uff14\uff10", "not_a_number"),  # full-width digits: Python reads 40
        ("bill_length_mm", "1,234.5", "not_a_number"),
        ("bill_length_mm", "0x28", "not_a_number"),
        ("bill_length_mm", "4 0", "not_a_number"),
        ("bill_length_mm", "+-40", "not_a_number"),
        ("bill_length_mm", "Infinity", "not_a_number"),
        ("bill_length_mm", "\u00a040", "not_a_number"),  # a space JSON does not call one
        ("bill_length_mm", NonJsonNumber("NaN"), "not_json_number"),
        ("bill_length_mm", NonJsonNumber("Infinity"), "not_json_number"),
        ("island", NonJsonNumber("-Infinity"), "not_json_number"),
        ("bill_length_mm", -3, "out_of_range"),
        ("bill_length_mm", "1e400", "out_of_range"),
        ("bill_length_mm", 10**400, "out_of_range"),
        ("bill_length_mm", float("inf"), "out_of_range"),
        ("bill_length_mm", "4" * 101, "too_long"),
        ("island", "Biscoe" * 70, "too_long"),
        ("sex", "m" * 101, "too_long"),
        ("bill_length_mm", True, "wrong_type"),
        ("island", 3, "wrong_type"),
        ("island", "Bis\ud800coe", "not_unicode"),
        ("colour", "black", "unknown_field"),
    ],
    ids=repr,
)
def test_every_refusal_carries_its_code(field, raw, code):
    assert codes_of([VALID, with_value(field, raw)]) == [(1, field, code)]


def test_a_record_that_is_not_an_object_is_wrong_type():
    assert codes_of([VALID, ["Biscoe", 39.1]]) == [(1, "(record)", "wrong_type")]


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"island": "Biscoe", "sex": "male"},
        dict.fromkeys(contract.FEATURES),
        dict.fromkeys(contract.FEATURES, "NA"),
        {**dict.fromkeys(contract.NUMERIC_FEATURES, " "), "island": "Dream"},
    ],
    ids=["empty", "categories only", "all null", "all NA", "all blank"],
)
def test_a_record_with_no_measurement_is_refused_whatever_its_categories(record):
    assert codes_of([VALID, record, VALID]) == [(1, "(record)", "no_measurements")]
    clean_records([record])  # the value rules alone accept it: training cleans such rows too


def test_one_measurement_is_enough_to_be_answered():
    DEFAULT_CLEANER.prepare([{"body_mass_g": 4000}])


def test_the_codes_are_a_closed_list():
    assert REFUSALS == (
        "not_a_number",
        "not_json_number",
        "out_of_range",
        "too_long",
        "wrong_type",
        "not_unicode",
        "unknown_field",
        "no_measurements",
        "no_finite_odds",
    )
    assert WARNINGS == ("imputed", "unknown_category")


@pytest.mark.parametrize("value", [None, "", "NA", " na ", ".", "null"], ids=repr)
@pytest.mark.parametrize("field", ["bill_depth_mm", "sex", "island"])
def test_every_imputed_field_is_named_in_a_warning(field, value):
    [warnings] = DEFAULT_CLEANER.prepare([with_value(field, value)]).warnings
    assert [(w.code, w.field) for w in warnings] == [("imputed", field)]
    assert field in warnings[0].message


def test_an_absent_field_is_imputed_too_and_warnings_follow_the_feature_order():
    record = {"sex": "X", "island": "Atlantis", "body_mass_g": 4000, "bill_length_mm": "NA"}
    [warnings] = DEFAULT_CLEANER.prepare([record]).warnings
    assert [(w.code, w.field) for w in warnings] == [
        ("unknown_category", "island"),
        ("imputed", "bill_length_mm"),
        ("imputed", "bill_depth_mm"),
        ("imputed", "flipper_length_mm"),
        ("unknown_category", "sex"),
    ]
    assert all(w.code in WARNINGS for w in warnings)


def test_a_complete_record_has_no_warnings():
    assert DEFAULT_CLEANER.prepare([VALID, VALID]).warnings == [(), ()]


def test_messy_but_legitimate_records_keep_working():
    record = {
        "island": "  DREAM ",
        "bill_length_mm": "46,5",
        "bill_depth_mm": " 17.9\t",
        "flipper_length_mm": "1.92e2",
        "body_mass_g": "+3500",
        "sex": "FEMALE",
    }
    prepared = DEFAULT_CLEANER.prepare([record])
    assert prepared.warnings == [()]
    assert [float(prepared.batch[name][0]) for name in contract.NUMERIC_FEATURES] == pytest.approx(
        [46.5, 17.9, 192, 3500]
    )
    assert (prepared.batch["island"][0], prepared.batch["sex"][0]) == ("Dream", "female")


def test_text_of_exactly_the_longest_length_is_accepted():
    DEFAULT_CLEANER.prepare([with_value("island", "A" * MAX_TEXT_LENGTH)])


def test_read_json_keeps_nan_and_infinity_tokens_to_refuse_them():
    record = read_json('{"bill_length_mm": NaN, "bill_depth_mm": Infinity, "body_mass_g": -Infinity}')
    assert record == {
        "bill_length_mm": NonJsonNumber("NaN"),
        "bill_depth_mm": NonJsonNumber("Infinity"),
        "body_mass_g": NonJsonNumber("-Infinity"),
    }
    assert [code for _, _, code in codes_of([record])] == ["not_json_number"] * 3


def test_a_python_nan_is_a_missing_value_as_pandas_hands_it_over():
    [warnings] = DEFAULT_CLEANER.prepare([with_value("bill_depth_mm", float("nan"))]).warnings
    assert [(w.code, w.field) for w in warnings] == [("imputed", "bill_depth_mm")]


ODD_RECORDS = [
    VALID,
    with_value("bill_length_mm", "39,1"),
    with_value("body_mass_g", None),
    {"island": "dream", "body_mass_g": 4000},
    with_value("island", "Atlantis"),
    with_value("sex", "."),
    with_value("flipper_length_mm", np.float32(190)),
    with_value("bill_depth_mm", 7),
]
BAD_ODD_RECORDS = [with_value("bill_length_mm", 5), with_value("body_mass_g", 1e12), {}, with_value("sex", 1)]


def test_large_batches_take_the_numpy_path_and_agree_with_record_by_record():
    """From VECTOR_FROM records on, plain columns are cleaned with numpy: same columns, warnings, problems."""
    batch = (ODD_RECORDS * (VECTOR_FROM // len(ODD_RECORDS) + 2))[: VECTOR_FROM + 5]
    together = DEFAULT_CLEANER.prepare(batch)
    for index, record in enumerate(batch):
        alone = DEFAULT_CLEANER.prepare([record])
        assert together.warnings[index] == alone.warnings[0]
        for name in contract.FEATURES:
            np.testing.assert_array_equal(together.batch[name][index : index + 1], alone.batch[name])
    plain = [dict(record, bill_length_mm=39.1) for record in batch] + BAD_ODD_RECORDS
    found = codes_of(plain)
    start = len(batch)
    assert found == [
        (start, "bill_length_mm", "out_of_range"),
        (start + 1, "body_mass_g", "out_of_range"),
        (start + 2, "(record)", "no_measurements"),
        (start + 3, "sex", "wrong_type"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "39.1",
        " 39,1 ",
        "-3",
        "+4e2",
        ".5",
        "5.",
        "NA",
        "n/a",
        " nan ",
        "None",
        "NULL",
        ".",
        "",
        "  ",
        "forty",
        "4_0",
        "\uff14\uff10",
        "1,234.5",
        "inf",
        "0x28",
        "\u00a039",
        "39\n",
        "\t39",
        "e5",
        "--4",
        "3e",
        "N A",
    ],
    ids=repr,
)
def test_the_schema_pattern_is_the_rule_for_numeric_text(text):
    """JSON Schema's pattern (what /docs and schemathesis read) accepts exactly the text the rule
    answers (5 to 40 here): odd spellings, markers and spaces alike."""
    pattern_accepts = re.search(in_range_pattern("bill_depth_mm"), text) is not None
    try:
        DEFAULT_CLEANER.clean([{"bill_depth_mm": text}])
        rule_answers = True
    except CleaningError:
        rule_answers = False
    assert pattern_accepts == rule_answers


def test_the_schema_of_each_field_is_written_from_the_rules():
    for name, (low, high) in RANGES.items():
        number, text, null = json_schema(name)["anyOf"]
        assert (number["minimum"], number["maximum"]) == (low, high) and null == {"type": "null"}
        assert text == {"type": "string", "maxLength": MAX_TEXT_LENGTH, "pattern": in_range_pattern(name)}
    island, _ = json_schema("island")["anyOf"]
    assert island == {"type": "string", "maxLength": MAX_TEXT_LENGTH, "examples": ["Biscoe", "Dream", "Torgersen"]}


@pytest.mark.parametrize("name", list(RANGES))
def test_the_schemas_numeric_text_is_answered_and_says_the_range_in_decimals(name):
    """What /docs and schemathesis read for numeric text: every decimal the rule reads within the
    range (a point or a comma, leading zeros, a sign, spaces), a missing marker or nothing; and
    only text the rule answers (1e1-style text it answers too, but no pattern can bound it)."""
    low, high = RANGES[name]
    pattern = re.compile(in_range_pattern(name))
    for value in np.arange(low - 2, high + 2, (high - low) / 97):
        for text in (f"{value:.2f}", f"{value:.0f}", f" +0{value:.1f} ".replace(".", ",")):
            rule_reads = float(text.strip().lstrip("+").replace(",", "."))
            assert (pattern.search(text) is not None) == (low <= rule_reads <= high), text
    for text in ["NA", "", " . ", "1e1", "forty", "-5", "0x10", f"{high}.001", f"{high}.", f"{low}"]:
        if pattern.search(text):
            DEFAULT_CLEANER.clean([{name: text}])  # answered: no CleaningError
    measured = re.compile(in_range_pattern(name, missing=False))
    assert not measured.search("NA") and not measured.search("") and measured.search(f"{low}")


def test_the_schema_is_the_same_in_every_process():
    """The markers are a set, whose order changes with Python's hash seed; the published schema
    must not (two replicas, or two runs, would otherwise publish two documents)."""
    code = "import json; from penguins.serving.cleaning import record_schema; print(json.dumps(record_schema()))"
    printed = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, check=True
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(printed) == 1

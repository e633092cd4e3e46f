"""The golden set must really come from the data: its truth is the data's, not the model's."""

from __future__ import annotations

import math

import pytest

from penguins.serving.cleaning import clean_record
from penguins.serving.contract import NUMERIC_FEATURES
from penguins.training.data import load_penguins_raw, raw_as_contract
from tests.conftest import GOLDEN

RAW = raw_as_contract(load_penguins_raw())


def test_golden_set_covers_every_species_and_missing_values() -> None:
    assert {case["species"] for case in GOLDEN} == {"Adelie", "Chinstrap", "Gentoo"}
    assert len(GOLDEN) >= 15
    assert any(None in case["record"].values() or "NA" in case["record"].values() for case in GOLDEN)


def test_every_case_says_what_to_expect_and_the_unmeasured_row_is_refused() -> None:
    assert {case["expect"] for case in GOLDEN} == {"answer", "refused:no_measurements"}
    for case in GOLDEN:
        row = RAW.iloc[case["source_row"]]
        unmeasured = all(math.isnan(row[name]) for name in NUMERIC_FEATURES)
        assert (case["expect"] == "refused:no_measurements") == unmeasured, case["source_row"]


@pytest.mark.parametrize("case", GOLDEN, ids=lambda c: f"row{c['source_row']}")
def test_golden_record_is_its_data_row_written_messily(case: dict) -> None:
    row = RAW.iloc[case["source_row"]]
    assert case["species"] == row["species"]
    clean = clean_record(case["record"])
    for name in NUMERIC_FEATURES:
        expected, got = row[name], float(clean[name][0])
        assert (math.isnan(expected) and math.isnan(got)) or got == pytest.approx(expected, abs=1e-4)
    assert clean["island"][0] == row["island"]

"""Raw records as clients send them: one home for the examples the demo, the API docs
and the notebooks show. The values are real rows of the data set, written messily."""

from __future__ import annotations

CLEAN_RECORD: dict[str, object] = {
    "island": "Torgersen",
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181.0,
    "body_mass_g": 3750.0,
    "sex": "male",
}

MESSY_RECORDS: list[dict[str, object]] = [
    {  # numbers as text, a decimal comma, shouting
        "island": " DREAM ",
        "bill_length_mm": "46,5",
        "bill_depth_mm": "17.9",
        "flipper_length_mm": "192",
        "body_mass_g": 3500,
        "sex": "FEMALE",
    },
    {  # the raw data set's own markers: "." for an unknown sex, "NA" for a missing value
        "island": "biscoe",
        "bill_length_mm": 47.3,
        "bill_depth_mm": 13.8,
        "flipper_length_mm": "NA",
        "body_mass_g": "4725",
        "sex": ".",
    },
    {  # fields left out and empty text
        "island": "Torgersen",
        "bill_length_mm": None,
        "bill_depth_mm": "",
        "flipper_length_mm": 186,
        "body_mass_g": 3800,
    },
]

# Row 3 of the raw data set: an island, and not one measurement. The wrapper refuses it
# (no_measurements) rather than answer from the island alone.
INCOMPLETE_RECORD: dict[str, object] = {
    "island": "Torgersen",
    "bill_length_mm": "NA",
    "bill_depth_mm": "NA",
    "flipper_length_mm": "NA",
    "body_mass_g": "NA",
    "sex": "NA",
}

BAD_RECORD: dict[str, object] = {
    "island": "Biscoe",
    "bill_length_mm": "forty",
    "bill_depth_mm": -3,
    "flipper_length_mm": 210,
    "body_mass_g": 5000,
    "sex": 1,
}

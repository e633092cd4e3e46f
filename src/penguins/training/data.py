"""The Palmer penguins data, offline, as it comes; a seeded train/test split; clean features.

The `palmerpenguins` package carries its CSV files inside the wheel, so nothing is
downloaded at run time: a classroom without Wi-Fi trains the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from penguins.serving.cleaning import CleanBatch, clean_records
from penguins.serving.contract import FEATURES, TARGET

if TYPE_CHECKING:
    import pandas as pd

SEED = 42
TEST_SIZE = 0.25

# The raw variant's long column names, mapped onto the contract's short ones.
RAW_COLUMNS = {
    "Species": "species",
    "Island": "island",
    "Culmen Length (mm)": "bill_length_mm",
    "Culmen Depth (mm)": "bill_depth_mm",
    "Flipper Length (mm)": "flipper_length_mm",
    "Body Mass (g)": "body_mass_g",
    "Sex": "sex",
}


def load_penguins() -> pd.DataFrame:
    """The tidy table: 344 rows, NaN where a measurement or the sex is missing."""
    import palmerpenguins

    return palmerpenguins.load_penguins()


def load_penguins_raw() -> pd.DataFrame:
    """The field notes as recorded: long names, `MALE`/`FEMALE`, a `.` for an unknown sex."""
    import palmerpenguins

    return palmerpenguins.load_penguins_raw()


def raw_as_contract(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw table under the contract's column names, species shortened to its first word."""
    frame = raw[list(RAW_COLUMNS)].rename(columns=RAW_COLUMNS)
    frame[TARGET] = frame[TARGET].str.split().str[0]
    return frame


def split(frame: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified train/test split; the same seed gives the same rows every time."""
    from sklearn.model_selection import train_test_split

    labelled = frame.dropna(subset=[TARGET]).reset_index(drop=True)
    train, test = train_test_split(labelled, test_size=TEST_SIZE, random_state=seed, stratify=labelled[TARGET])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as raw records, the way a client would send them (NaN becomes None)."""
    subset = frame[list(FEATURES)].astype(object)
    records: list[dict[str, Any]] = subset.where(subset.notna(), None).to_dict(orient="records")
    return records


@dataclass(frozen=True)
class Dataset:
    """Clean features and labels of one split."""

    features: pd.DataFrame
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def batch_to_frame(batch: CleanBatch) -> pd.DataFrame:
    """A clean batch as the DataFrame the pipeline was fitted on (text kept as `object`)."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series(batch[name], dtype=batch[name].dtype) for name in FEATURES})


def prepare(frame: pd.DataFrame) -> Dataset:
    """Raw rows → the same cleaning the service applies → features and labels."""
    batch = clean_records(to_records(frame))
    return Dataset(batch_to_frame(batch), frame[TARGET].to_numpy(dtype=object))

"""The scikit-learn pipeline: imputation, scaling, one-hot encoding, logistic regression.

Its preprocessing step (`preprocess`) is written only here. The MLP trains on its output
and the ONNX export carries it into both ONNX files, so every model sees the same features.
Logistic regression is chosen because it converts to ONNX exactly (parity ~1e-7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from penguins.cleaning import CleanBatch, clean_records
from penguins.contract import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET

if TYPE_CHECKING:
    import pandas as pd

LOGREG_PARAMS = {"C": 1.0, "max_iter": 1000}


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
    from penguins.data import to_records

    batch = clean_records(to_records(frame))
    return Dataset(batch_to_frame(batch), frame[TARGET].to_numpy(dtype=object))


def build_preprocessor() -> ColumnTransformer:
    """Median-impute and scale the measurements; impute and one-hot the categories.

    Missing text arrives as "" (see cleaning): skl2onnx cannot convert an imputer that
    looks for NaN in a text column. Unknown categories become all-zero one-hot rows.
    """
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(missing_values="", strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_FEATURES)),
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
        ]
    )


def build_pipeline(**params: float) -> Pipeline:
    """The untrained pipeline; `params` override LOGREG_PARAMS."""
    model = LogisticRegression(**{**LOGREG_PARAMS, **params})
    return Pipeline([("preprocess", build_preprocessor()), ("model", model)])


def fit_pipeline(train: Dataset, **params: float) -> Pipeline:
    return build_pipeline(**params).fit(train.features, train.labels)


def accuracy(pipeline: Pipeline, test: Dataset) -> float:
    return float(accuracy_score(test.labels, pipeline.predict(test.features)))

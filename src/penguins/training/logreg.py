"""The scikit-learn pipeline: imputation, scaling, one-hot encoding, logistic regression.

Its preprocessing step (`preprocess`) is written only here. The MLP trains on its output
and the ONNX export carries it into both ONNX files, so every model sees the same features.
Logistic regression is chosen because it converts to ONNX exactly (parity ~1e-7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from penguins.serving.contract import CATEGORICAL_FEATURES, NUMERIC_FEATURES

if TYPE_CHECKING:
    from penguins.training.data import Dataset

LOGREG_PARAMS = {"C": 1.0, "max_iter": 1000}


def build_preprocessor() -> ColumnTransformer:
    """Median-impute and scale the measurements; impute and one-hot the categories.

    Missing text arrives as "" (see cleaning): skl2onnx cannot convert an imputer that
    looks for NaN in a text column. Unknown categories become all-zero one-hot rows.
    """
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
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

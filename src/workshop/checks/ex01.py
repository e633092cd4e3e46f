"""Exercise 01, a model in a notebook: another kind of model beats the threshold on held-out rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from workshop.checks.common import (
    ACCURACY_THRESHOLD,
    CheckFailed,
    first_line,
    held_out,
    passed,
    require,
)

if TYPE_CHECKING:
    from penguins.training.data import Dataset


def check_model_beats(model: Any, threshold: float = ACCURACY_THRESHOLD) -> None:
    """Another kind of model than the lecture's reaches `threshold` on the held-out rows."""
    require(
        model,
        "train another kind of model (e.g. k-nearest neighbours) on train.features, "
        "train.labels and assign it to `model`",
    )
    if not hasattr(model, "predict"):
        raise CheckFailed(f"expected a fitted scikit-learn model (it has .predict), found {type(model).__name__}")
    name = type(_last_step(model)).__name__
    if name == "LogisticRegression":
        raise CheckFailed(
            "that is the lecture's logistic regression: train another kind of model, "
            "e.g. sklearn.neighbors.KNeighborsClassifier"
        )
    test = held_out()
    accuracy = float(np.mean(_predict_held_out(model, test) == test.labels))
    if accuracy < threshold:
        hint = (
            "try other hyper-parameters or another model"
            if _scales(model)
            else "did you scale the numeric columns? Body mass in grams swamps bill depth in "
            "millimetres; logreg.build_preprocessor() imputes, scales and encodes them"
        )
        raise CheckFailed(f"held-out accuracy {accuracy:.2f} < {threshold:.2f}: {hint}")
    passed(f"{name} scores {accuracy:.3f} on the {len(test)} held-out penguins (at least {threshold:.2f})")


def _last_step(model: Any) -> Any:
    """The estimator at the end of a Pipeline, or the model itself."""
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _scales(model: Any) -> bool:
    """Whether a scaler sits anywhere inside the model (StandardScaler, MinMaxScaler, ...)."""
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    return any(type(value).__name__.endswith("Scaler") for value in params.values())


def _predict_held_out(model: Any, test: Dataset) -> np.ndarray:
    from sklearn.exceptions import NotFittedError

    try:
        return np.asarray(model.predict(test.features))
    except NotFittedError:
        raise CheckFailed("the model is not fitted yet: call model.fit(train.features, train.labels)") from None
    except Exception as error:  # whatever the student's model raises, the student needs the reason
        raise CheckFailed(
            f"model.predict failed on the held-out rows ({first_line(error)}): fit it on "
            "train.features (text columns, missing values) inside a Pipeline that starts with "
            "logreg.build_preprocessor()"
        ) from None

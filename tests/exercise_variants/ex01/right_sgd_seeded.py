# ruff: noqa: F821  (X_train, y_train: the starter cell defines them)
"""Stochastic gradient descent (random by nature: it shuffles) with its seed fixed, fitted on a dict of columns."""

from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

recipe = {"loss": "log_loss", "alpha": 1e-3, "random_state": 11}
model = make_pipeline(StandardScaler(), SGDClassifier(**recipe))
model = model.fit(X_train[["bill_length_mm", "bill_depth_mm"]], y_train)

# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
# fails with: expected a fitted model, found an unfitted Pipeline
"""Built the pipeline, fitted a copy of it, kept the unfitted one."""

from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

model = make_pipeline(StandardScaler(), KNeighborsClassifier())
fitted = clone(model).fit(X_train, y_train)

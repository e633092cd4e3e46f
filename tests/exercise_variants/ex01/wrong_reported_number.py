# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
# fails with: found the number 0.953
"""Measured on the notebook's split, then assigned the score instead of the model."""

from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

knn = make_pipeline(StandardScaler(), KNeighborsClassifier()).fit(X_train, y_train)
model = round(knn.score(X_test, y_test), 3)

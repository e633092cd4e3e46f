# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
"""A ColumnTransformer that picks both columns by name, then logistic regression."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

columns = ColumnTransformer([("bills", StandardScaler(), ["bill_length_mm", "bill_depth_mm"])])
model = Pipeline([("columns", columns), ("classify", LogisticRegression())]).fit(X_train, y_train)

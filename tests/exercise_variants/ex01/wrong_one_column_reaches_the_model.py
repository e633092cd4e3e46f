# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
# fails with: expected a held-out accuracy of at least 0.90, found 0.
"""Both columns go in, but the ColumnTransformer passes only one on (the other is dropped)."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

columns = ColumnTransformer([("length", StandardScaler(), ["bill_length_mm"])], remainder="drop")
model = Pipeline([("columns", columns), ("classify", LogisticRegression())]).fit(X_train, y_train)

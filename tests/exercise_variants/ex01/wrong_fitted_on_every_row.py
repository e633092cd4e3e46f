# ruff: noqa: F821  (X, y: the starter cell defines them)
# fails with: found one that answers differently from a copy of its recipe fitted on them
"""More data must be better: fitted on all 342 penguins, the held-out ones of X_test included."""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

model = Pipeline(steps=[("scale", StandardScaler()), ("classify", LogisticRegression(C=10.0))])
model.fit(X, y)

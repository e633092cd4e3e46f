# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
"""A random forest fitted on numpy arrays (no column names), built by a function."""

from sklearn.ensemble import RandomForestClassifier


def train_forest(features, labels):
    forest = RandomForestClassifier(n_estimators=200, random_state=0)
    return forest.fit(features.to_numpy(), labels.to_numpy())


model = train_forest(X_train, y_train)

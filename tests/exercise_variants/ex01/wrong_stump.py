# ruff: noqa: F821  (X_train, y_train: the starter cell defines them)
# fails with: a tree of depth 1 makes 1 split
"""A decision stump: one question about one bill measurement, however clean the data."""

from sklearn import tree

model = tree.DecisionTreeClassifier(max_depth=1, random_state=0).fit(X=X_train, y=y_train)

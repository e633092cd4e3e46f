# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
# fails with: expected a model fitted on bill_length_mm, bill_depth_mm only, found one fitted on
"""Used every measurement: a better score, but not the task."""

from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
complete = penguins.dropna(subset=numbers)
train_x, _, train_y, _ = train_test_split(complete[numbers], complete["species"], random_state=0)
model = make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0)).fit(train_x, train_y)

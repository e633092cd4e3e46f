# ruff: noqa: F821  (X_train, y_train, penguins: the starter cell defines them)
"""An SVM behind a scaler, made with make_pipeline; labels passed as a plain list."""

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

model = make_pipeline(StandardScaler(), SVC(C=3.0, class_weight="balanced"))
model.fit(X_train, list(y_train))

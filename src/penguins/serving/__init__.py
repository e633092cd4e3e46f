"""What ships with the model: the container copies this folder and nothing that trains.

contract → cleaning → artifacts → predictor → api → app, with settings, examples and paths.
No module here imports torch, scikit-learn, pandas, skl2onnx, onnx or penguins.training
(import-linter checks it in `make test`).
"""

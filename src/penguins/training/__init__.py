"""What trains: the offline data, the scikit-learn pipeline, the PyTorch MLP, the ONNX export
with its parity check, the stage-02 formats (pickle, skops) and "build what is missing".

Never shipped: the serving image copies penguins/serving only.
"""

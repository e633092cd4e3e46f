"""A small PyTorch network trained on the pipeline's preprocessed features.

It does not preprocess anything itself: it takes the output of the fitted scikit-learn
`preprocess` step, so the same imputation, scaling and one-hot encoding feed both models.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

MLP_PARAMS = {"hidden": 16, "epochs": 300, "lr": 0.02, "weight_decay": 1e-4}


class PenguinMLP(nn.Module):
    """features → hidden layer (ReLU) → one logit per class."""

    def __init__(self, n_features: int, n_classes: int, hidden: int = 16) -> None:
        super().__init__()
        self.n_features, self.n_classes, self.hidden = n_features, n_classes, hidden
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.layers(features)
        return logits


class WithSoftmax(nn.Module):
    """The network as it is exported: probabilities out, like the scikit-learn model."""

    def __init__(self, net: PenguinMLP) -> None:
        super().__init__()
        self.net = net

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(features), dim=1)


def fit_mlp(
    features: np.ndarray,
    labels: np.ndarray,
    seed: int,
    progress: Callable[[int, float], None] | None = None,
) -> PenguinMLP:
    """Full-batch Adam on a tiny table: a few hundred epochs take well under a second.

    `labels` are class indices. `progress(epoch, loss)` is called every 50 epochs.
    """
    params = MLP_PARAMS
    torch.manual_seed(seed)
    net = PenguinMLP(features.shape[1], int(labels.max()) + 1, int(params["hidden"]))
    x = torch.as_tensor(features, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.long)
    optimiser = torch.optim.Adam(net.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, int(params["epochs"]) + 1):
        optimiser.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimiser.step()
        if progress and epoch % 50 == 0:
            progress(epoch, loss.item())
    return net.eval()


def predict_proba(net: PenguinMLP, features: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        probabilities: np.ndarray = WithSoftmax(net)(torch.as_tensor(features, dtype=torch.float32)).numpy()
    return probabilities


def to_bytes(net: PenguinMLP) -> bytes:
    """PyTorch's own format: the weights (state dict) and the shape needed to rebuild it."""
    buffer = io.BytesIO()
    shape = {"n_features": net.n_features, "n_classes": net.n_classes, "hidden": net.hidden}
    torch.save({"shape": shape, "state_dict": net.state_dict()}, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes) -> PenguinMLP:
    """Rebuild the network: PyTorch saves weights, the class must come from the code."""
    saved = torch.load(io.BytesIO(data), weights_only=True)
    net = PenguinMLP(**saved["shape"])
    net.load_state_dict(saved["state_dict"])
    return net.eval()

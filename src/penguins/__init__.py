"""penguins: a penguin classifier taken from a notebook to production.

- penguins.serving: what ships with the model (contract, cleaning, artifacts, the wrapper
  class PenguinPredictor, the FastAPI service);
- penguins.training: what made the model (data, pipeline, MLP, ONNX export);
- penguins.client, penguins.smoke, penguins.cli: talking to a running service.

`from penguins import PenguinPredictor` works, and loads ONNX Runtime only when asked for:
importing penguins.client for a script that only calls the service stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "PenguinPredictor": "penguins.serving.predictor",
    "Prediction": "penguins.serving.predictor",
    "CleaningError": "penguins.serving.cleaning",
    "ArtifactError": "penguins.serving.artifacts",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import the wrapper and its errors on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'penguins' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)

"""tf2torch: TensorFlow/Keras models and code to readable, verified PyTorch."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["convert", "Conversion", "__version__"]


def __getattr__(name):  # import lazily: TensorFlow is slow to import
    if name in ("convert", "Conversion"):
        from . import pipeline as _pipeline

        return getattr(_pipeline, name)
    raise AttributeError(name)

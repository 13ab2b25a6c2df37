"""Source translation: TensorFlow/Keras scripts to PyTorch scripts (tf2torch translate)."""
from __future__ import annotations

from .runner import Translation, translate_source

__all__ = ["Translation", "translate_source"]

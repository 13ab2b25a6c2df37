"""Canonical names for what a script refers to, whatever its import style.

`import tensorflow as tf; tf.keras.layers.Dense`, `from tensorflow.keras import layers; layers.Dense`,
`import keras; keras.layers.Dense` and `from tf_keras import layers` all resolve (through LibCST's
QualifiedNameProvider) to a dotted name that `canonical` maps to one spelling:
``keras.layers.Dense``; TensorFlow functions become ``tf.*`` (``tf.math.reduce_sum``).
"""
from __future__ import annotations

_PREFIXES = [
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.src.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.", "keras."),
    ("keras.api.", "keras."),
    ("tensorflow.", "tf."),
]
_EXACT = {"tensorflow": "tf", "tensorflow.keras": "keras", "tf_keras": "keras"}
# Keras module aliases that name the same things
_ALIASES = [
    ("keras.layers.experimental.preprocessing.", "keras.layers."),
    ("keras.layers.preprocessing.", "keras.layers."),
    ("keras.models.Sequential", "keras.Sequential"),
    ("keras.models.Model", "keras.Model"),
    ("keras.engine.sequential.Sequential", "keras.Sequential"),
    ("keras.engine.training.Model", "keras.Model"),
    ("keras.layers.Input", "keras.Input"),
    ("keras.backend.", "keras.ops."),
]

TENSORFLOW_ROOTS = ("tf", "tensorflow", "keras", "tf_keras")


def canonical(qualified: str) -> str:
    if qualified in _EXACT:
        return _EXACT[qualified]
    for old, new in _PREFIXES:
        if qualified.startswith(old):
            qualified = new + qualified[len(old):]
            break
    for old, new in _ALIASES:
        if qualified.startswith(old):
            qualified = new + qualified[len(old):]
    return qualified


def is_tensorflow(qualified: str) -> bool:
    return qualified.split(".", 1)[0] in TENSORFLOW_ROOTS

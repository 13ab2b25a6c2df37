"""Transformations, applied in this order (each module defines one `Transform` subclass, TRANSFORM).

Order matters: models are rewritten before the training code that uses them, and `leftovers` runs
last to mark whatever still refers to TensorFlow/Keras.
"""
ORDER = [
    "models",  # Sequential / functional Keras models -> nn.Module classes (through tf2torch convert)
    "subclass",  # subclassed keras.Model / keras.layers.Layer -> nn.Module
    "training",  # compile / fit / evaluate / predict / callbacks / save / load
    "tape",  # GradientTape loops, tf.function, train_step
    "data",  # tf.data pipelines
    "ops",  # tf.* / keras.ops.* functions
    "leftovers",  # TODO on anything TensorFlow/Keras that is left
]

"""Keras 2 (tf_keras) functional model with lowercase merge functions (concatenate, add) and fit on lists."""
import numpy as np
import tf_keras as keras
from tf_keras import layers

rng = np.random.default_rng(46)
a = rng.standard_normal((150, 5)).astype("float32")
b = rng.standard_normal((150, 5)).astype("float32")
y = (a.sum(1) > b.sum(1)).astype("float32")

in_a = layers.Input(shape=(5,), name="a")
in_b = layers.Input(shape=(5,), name="b")
h_a = layers.Dense(8, activation="relu")(in_a)
h_b = layers.Dense(8, activation="relu")(in_b)
both = layers.concatenate([h_a, h_b])
skip = layers.add([h_a, h_b])
merged = layers.concatenate([both, skip], axis=-1)
out = layers.Dense(1, activation="sigmoid")(merged)
model = keras.Model([in_a, in_b], out)
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
model.fit([a, b], y, epochs=3, batch_size=25, verbose=0)
print(model.evaluate([a, b], y, verbose=0))

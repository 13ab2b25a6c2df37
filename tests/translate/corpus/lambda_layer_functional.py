"""Functional model with Lambda layers (tf ops inside lambdas), Reshape, Permute, Multiply gating and Softmax."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, Model, Input

inp = Input(shape=(6, 4))
scaled = layers.Lambda(lambda t: t * 2.0 - 1.0)(inp)
gate = layers.Dense(4, activation="sigmoid")(scaled)
gated = layers.Multiply()([scaled, gate])
swapped = layers.Permute((2, 1))(gated)
flat = layers.Reshape((24,))(swapped)
summed = layers.Lambda(lambda t: tf.reduce_sum(t, axis=-1, keepdims=True))(flat)
logits = layers.Dense(3)(layers.Concatenate()([flat, summed]))
probs = layers.Softmax()(logits)
model = Model(inputs=inp, outputs=probs)

rng = np.random.default_rng(45)
x = rng.random((100, 6, 4)).astype("float32")
y = rng.integers(0, 3, size=100)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=2, verbose=0)
print(model.predict(x[:2], verbose=0))

"""Siamese network: one shared encoder applied to two inputs, absolute difference, binary similarity head."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

rng = np.random.default_rng(4)
left = rng.standard_normal((200, 10)).astype("float32")
right = left + rng.normal(0, 1.0, size=left.shape).astype("float32") * rng.integers(0, 2, size=(200, 1))
same = (np.abs(left - right).sum(axis=1) < 1e-6).astype("float32")

encoder = tf.keras.Sequential([
    layers.Dense(32, activation="relu"),
    layers.Dense(16),
], name="encoder")

in_a = tf.keras.Input(shape=(10,))
in_b = tf.keras.Input(shape=(10,))
emb_a = encoder(in_a)
emb_b = encoder(in_b)
distance = layers.Lambda(lambda t: tf.abs(t[0] - t[1]))([emb_a, emb_b])
score = layers.Dense(1, activation="sigmoid")(distance)
siamese = tf.keras.Model([in_a, in_b], score)

siamese.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                metrics=[tf.keras.metrics.BinaryAccuracy()])
siamese.fit([left, right], same, epochs=2, batch_size=20, verbose=0)
print(siamese.evaluate([left, right], same, verbose=0))

"""Preprocessing layers inside the model: Rescaling, Normalization.adapt on data, RandomFlip augmentation."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

rng = np.random.default_rng(44)
images = rng.integers(0, 256, size=(80, 18, 18, 3)).astype("float32")
labels = rng.integers(0, 2, size=(80,))
stats = rng.normal(100.0, 20.0, size=(80, 5)).astype("float32")

normalizer = layers.Normalization(axis=-1)
normalizer.adapt(stats)
print("mean:", normalizer.mean.numpy().ravel()[:3])

image_model = tf.keras.Sequential([
    tf.keras.Input(shape=(18, 18, 3)),
    layers.RandomFlip("horizontal"),
    layers.Rescaling(1.0 / 255),
    layers.Conv2D(8, 3, activation="relu"),
    layers.GlobalAveragePooling2D(),
    layers.Dense(1, activation="sigmoid"),
])
image_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
image_model.fit(images, labels, epochs=2, batch_size=16, verbose=0)

stats_model = tf.keras.Sequential([tf.keras.Input(shape=(5,)), normalizer, layers.Dense(1)])
stats_model.compile(optimizer="adam", loss="mse")
stats_model.fit(stats, labels.astype("float32"), epochs=2, verbose=0)

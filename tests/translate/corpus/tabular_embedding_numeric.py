"""Tabular model: categorical column through Embedding+Flatten, numeric columns through Normalization, concatenated."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

rng = np.random.default_rng(39)
n = 400
city = rng.integers(0, 20, size=(n, 1))
numeric = rng.normal([50.0, 3.0], [10.0, 1.0], size=(n, 2)).astype("float32")
target = (numeric[:, 0] / 10 + city[:, 0] % 3).astype("float32")

city_in = tf.keras.Input(shape=(1,), dtype="int64", name="city")
num_in = tf.keras.Input(shape=(2,), name="numeric")
norm = layers.Normalization()
norm.adapt(numeric)
city_vec = layers.Flatten()(layers.Embedding(input_dim=20, output_dim=4)(city_in))
features = layers.Concatenate()([city_vec, norm(num_in)])
hidden = layers.Dense(32, activation="relu")(features)
output = layers.Dense(1)(hidden)
model = tf.keras.Model(inputs=[city_in, num_in], outputs=output)

model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mean_absolute_error"])
model.fit([city, numeric], target, epochs=3, batch_size=32, verbose=0)
print(model.evaluate([city, numeric], target, verbose=0))

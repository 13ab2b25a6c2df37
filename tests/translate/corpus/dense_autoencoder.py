"""Dense autoencoder (functional) with a separate encoder model sharing its layers; fit(x, x) reconstruction."""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng(31)
data = rng.random((400, 32)).astype("float32")
encoding_dim = 6

inputs = keras.Input(shape=(32,))
encoded = layers.Dense(16, activation="relu")(inputs)
encoded = layers.Dense(encoding_dim, activation="relu")(encoded)
decoded = layers.Dense(16, activation="relu")(encoded)
decoded = layers.Dense(32, activation="sigmoid")(decoded)

autoencoder = keras.Model(inputs, decoded)
encoder = keras.Model(inputs, encoded)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.fit(data, data, epochs=3, batch_size=64, shuffle=True, validation_split=0.25, verbose=0)
codes = encoder.predict(data[:5], verbose=0)
print(codes.shape, autoencoder.predict(data[:1], verbose=0).shape)

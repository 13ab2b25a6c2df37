"""1-D CNN over multichannel signals: Conv1D with causal/same padding, dilation, MaxPooling1D, GlobalMaxPooling1D."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, models

steps, channels = 50, 3
rng = np.random.default_rng(30)
signals = rng.standard_normal((150, steps, channels)).astype("float32")
labels = (signals[:, :, 0].mean(axis=1) > 0).astype("int32")

model = models.Sequential([
    layers.Input(shape=(steps, channels)),
    layers.Conv1D(16, kernel_size=5, padding="causal", dilation_rate=2, activation="relu"),
    layers.MaxPooling1D(pool_size=2),
    layers.Conv1D(32, kernel_size=3, padding="same", activation="relu"),
    layers.GlobalMaxPooling1D(),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["acc"])
model.fit(signals, labels, epochs=2, batch_size=15, verbose=0)
print(model.predict(signals[:2], verbose=0))

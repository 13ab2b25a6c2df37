"""Forecasting with keras.utils.timeseries_dataset_from_array windows and a GRU, plus Dataset.window batching."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

series = np.sin(np.arange(600) * 0.1).astype("float32")[:, None]
window = 24

train_ds = keras.utils.timeseries_dataset_from_array(
    data=series[:-window], targets=series[window:], sequence_length=window, batch_size=32, shuffle=True, seed=0)

windows = tf.data.Dataset.from_tensor_slices(series[:40, 0]).window(8, shift=4, drop_remainder=True)
windows = windows.flat_map(lambda w: w.batch(8))
print(next(iter(windows)).numpy())

model = keras.Sequential([
    keras.Input(shape=(window, 1)),
    keras.layers.GRU(16),
    keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss=keras.losses.MeanAbsoluteError())
model.fit(train_ds, epochs=2, verbose=0)
print(model.predict(series[None, -window:], verbose=0))

"""ReduceLROnPlateau and CSVLogger callbacks with Adam, validation_data and a min_lr floor."""
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(8)
x_train = rng.standard_normal((256, 3)).astype("float32")
y_train = np.sin(x_train).sum(axis=1, keepdims=True).astype("float32")
x_val = rng.standard_normal((64, 3)).astype("float32")
y_val = np.sin(x_val).sum(axis=1, keepdims=True).astype("float32")

model = keras.Sequential([
    keras.Input(shape=(3,)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4, verbose=1)
logger = keras.callbacks.CSVLogger("training_log.csv", append=False)
model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5, batch_size=16,
          callbacks=[reduce_lr, logger], verbose=0)
with open("training_log.csv") as f:
    print(f.read())

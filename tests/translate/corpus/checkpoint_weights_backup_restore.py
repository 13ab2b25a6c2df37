"""BackupAndRestore and ModelCheckpoint(save_weights_only) callbacks with an epoch-templated filename, then load_weights."""
import os

import numpy as np
import tensorflow as tf

rng = np.random.default_rng(53)
x = rng.standard_normal((128, 5)).astype("float32")
y = (x[:, 0] * x[:, 1] > 0).astype("float32")

model = tf.keras.Sequential([
    tf.keras.Input(shape=(5,)),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
os.makedirs("ckpt", exist_ok=True)
callbacks = [
    tf.keras.callbacks.BackupAndRestore(backup_dir="backup"),
    tf.keras.callbacks.ModelCheckpoint("ckpt/epoch_{epoch:02d}.weights.h5", save_weights_only=True),
]
model.fit(x, y, epochs=3, batch_size=32, callbacks=callbacks, verbose=0)
print(sorted(os.listdir("ckpt")))
model.load_weights("ckpt/epoch_02.weights.h5")
print(model.evaluate(x, y, verbose=0))

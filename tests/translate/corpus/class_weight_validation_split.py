"""Imbalanced classes: class_weight dict in fit, validation_split, shuffle=False and a History object."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

rng = np.random.default_rng(35)
x = rng.standard_normal((500, 12)).astype("float32")
y = (rng.random(500) < 0.1).astype("int32")
neg, pos = np.bincount(y)
class_weight = {0: (1 / neg) * (len(y) / 2.0), 1: (1 / pos) * (len(y) / 2.0)}

model = tf.keras.Sequential([
    layers.Input(shape=(12,)),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid", bias_initializer=tf.keras.initializers.Constant(np.log(pos / neg))),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[tf.keras.metrics.Recall()])
history = model.fit(x, y, batch_size=64, epochs=3, validation_split=0.2, class_weight=class_weight,
                    shuffle=False, verbose=0)
for key, values in history.history.items():
    print(key, [round(v, 3) for v in values])

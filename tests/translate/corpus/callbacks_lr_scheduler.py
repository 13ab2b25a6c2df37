"""LearningRateScheduler with a step-decay function (epoch, lr) and a LambdaCallback printing the rate."""
import math

import numpy as np
import tensorflow as tf


def step_decay(epoch, lr):
    if epoch < 2:
        return lr
    return lr * math.exp(-0.1)


rng = np.random.default_rng(9)
x = rng.standard_normal((200, 7)).astype("float32")
y = rng.integers(0, 5, size=(200,))

model = tf.keras.Sequential([
    tf.keras.Input(shape=(7,)),
    tf.keras.layers.Dense(24, activation="relu"),
    tf.keras.layers.Dense(5, activation="softmax"),
])
optimizer = tf.keras.optimizers.SGD(learning_rate=0.05)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
print_lr = tf.keras.callbacks.LambdaCallback(
    on_epoch_end=lambda epoch, logs: print(epoch, float(model.optimizer.learning_rate)))
model.fit(x, y, epochs=4, callbacks=[tf.keras.callbacks.LearningRateScheduler(step_decay), print_lr], verbose=0)

"""Custom loss function (weighted MSE with tf ops) and a custom metric function passed to compile."""
import numpy as np
import tensorflow as tf


def weighted_mse(y_true, y_pred):
    weights = 1.0 + tf.cast(y_true > 0.0, tf.float32)
    return tf.reduce_mean(weights * tf.square(y_true - y_pred), axis=-1)


def max_abs_error(y_true, y_pred):
    return tf.reduce_max(tf.abs(y_true - y_pred), axis=-1)


rng = np.random.default_rng(28)
x = rng.standard_normal((200, 5)).astype("float32")
y = (x[:, :2] * 1.5).astype("float32")

model = tf.keras.Sequential([
    tf.keras.Input(shape=(5,)),
    tf.keras.layers.Dense(16, activation="swish"),
    tf.keras.layers.Dense(2),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss=weighted_mse, metrics=[max_abs_error])
model.fit(x, y, epochs=3, batch_size=20, verbose=0)
print(model.evaluate(x, y, verbose=0))

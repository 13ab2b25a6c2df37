"""Seed example 1: linear regression with compile/fit (from the article in shared/seed/).

Runnable with synthetic data: `python examples/linear_regression.py` trains and saves
linear_regression.keras next to the current directory.
"""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
x_train = rng.uniform(-1.0, 1.0, size=(256, 1)).astype("float32")
y_train = (3.0 * x_train + 2.0 + 0.1 * rng.standard_normal((256, 1))).astype("float32")


def build_model():
    return tf.keras.Sequential([
        tf.keras.layers.Dense(1, input_shape=(1,))
    ], name="linear_regression")


if __name__ == "__main__":
    model = build_model()
    model.compile(optimizer='sgd', loss='mse')
    model.fit(x_train, y_train, epochs=100)
    model.save("linear_regression.keras")

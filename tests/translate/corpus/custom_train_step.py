"""Subclassed model overriding train_step/test_step with GradientTape and Mean loss trackers, used through fit."""
import numpy as np
import tensorflow as tf
from tensorflow import keras


class NoisyRegressor(keras.Model):
    """Regressor trained on inputs with Gaussian noise added inside train_step."""

    def __init__(self, noise_std=0.05, **kwargs):
        super().__init__(**kwargs)
        self.noise_std = noise_std
        self.body = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_tracker = keras.metrics.MeanAbsoluteError(name="mae")

    def call(self, inputs, training=None):
        return self.body(inputs, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_tracker]

    def train_step(self, data):
        x, y = data
        x = x + tf.random.normal(tf.shape(x), stddev=self.noise_std)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(tf.square(y - y_pred))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae_tracker.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_tracker.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(tf.reduce_mean(tf.square(y - y_pred)))
        self.mae_tracker.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


rng = np.random.default_rng(27)
x = rng.standard_normal((256, 4)).astype("float32")
y = np.tanh(x).sum(axis=1, keepdims=True).astype("float32")
model = NoisyRegressor(noise_std=0.1)
model.compile(optimizer=keras.optimizers.Adam(1e-2))
model.fit(x, y, epochs=3, batch_size=32, verbose=0)
print(model.evaluate(x, y, verbose=0, return_dict=True))

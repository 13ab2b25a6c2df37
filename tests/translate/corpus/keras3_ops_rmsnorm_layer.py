"""Keras 3 custom RMSNorm layer written with keras.ops, used in a functional model; get_config round trip."""
import numpy as np
import keras
from keras import layers, ops


class RMSNorm(layers.Layer):
    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        variance = ops.mean(ops.square(x), axis=-1, keepdims=True)
        return x * ops.rsqrt(variance + self.epsilon) * self.scale

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


inputs = keras.Input(shape=(10, 16))
h = layers.Dense(16)(inputs)
h = RMSNorm()(h)
h = layers.GlobalAveragePooling1D()(h)
outputs = layers.Dense(1)(h)
model = keras.Model(inputs, outputs)

rng = np.random.default_rng(37)
x = rng.standard_normal((64, 10, 16)).astype("float32")
y = x.mean(axis=(1, 2))[:, None]
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=2, verbose=0)
clone = RMSNorm.from_config(model.layers[2].get_config())
print(clone.epsilon)

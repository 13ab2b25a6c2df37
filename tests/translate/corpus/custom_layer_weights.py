"""Custom Layer with build/add_weight, call(training=None) and get_config, used inside a Sequential model."""
import numpy as np
import keras
from keras import layers


class ScaledDense(layers.Layer):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      trainable=True, name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")

    def call(self, inputs, training=None):
        outputs = keras.ops.matmul(inputs, self.kernel) + self.bias
        if training:
            outputs = outputs * self.scale
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "scale": self.scale})
        return config


rng = np.random.default_rng(6)
x = rng.standard_normal((128, 4)).astype("float32")
y = x @ rng.standard_normal((4, 2)).astype("float32")

model = keras.Sequential([keras.Input(shape=(4,)), ScaledDense(16, scale=0.9), layers.ReLU(), ScaledDense(2)])
model.compile(optimizer="adam", loss="mean_squared_error")
model.fit(x, y, epochs=3, verbose=0)
print(model.layers[0].get_config())

"""Model inspection: summary, layers, get_weights/set_weights, trainable flags (freezing), count_params, get_layer."""
import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.Input(shape=(8,)),
    tf.keras.layers.Dense(16, activation="relu", name="hidden"),
    tf.keras.layers.Dense(4, name="head"),
])
model.summary()
for layer in model.layers:
    print(layer.name, [w.shape for w in layer.get_weights()])

kernel, bias = model.get_layer("hidden").get_weights()
model.get_layer("hidden").set_weights([np.zeros_like(kernel), np.ones_like(bias)])
model.get_layer("hidden").trainable = False
print("trainable tensors:", len(model.trainable_weights), "total params:", model.count_params())

model.compile(optimizer="adam", loss=tf.keras.losses.MeanSquaredError())
rng = np.random.default_rng(41)
model.fit(rng.standard_normal((64, 8)), rng.standard_normal((64, 4)), epochs=1, verbose=0)
print(np.allclose(model.get_layer("hidden").get_weights()[0], 0.0))

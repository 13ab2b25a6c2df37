"""Model built and compiled under tf.distribute.MirroredStrategy().scope(), global batch size from replica count."""
import numpy as np
import tensorflow as tf

strategy = tf.distribute.MirroredStrategy()
print("replicas:", strategy.num_replicas_in_sync)
global_batch = 16 * strategy.num_replicas_in_sync

with strategy.scope():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(10,)),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="mse")

rng = np.random.default_rng(49)
x = rng.standard_normal((128, 10)).astype("float32")
y = x.sum(axis=1, keepdims=True)
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch)
model.fit(dataset, epochs=2, verbose=0)
print(model.evaluate(dataset, verbose=0))

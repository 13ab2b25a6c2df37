"""Minimal GradientTape loop on a Dense model with tf.function, MeanSquaredError and a Mean metric."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(14)
x = rng.uniform(-1, 1, size=(256, 3)).astype("float32")
y = (x @ np.array([[0.5], [-1.0], [2.0]], dtype="float32") + 0.3).astype("float32")

model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1)])
loss_fn = tf.keras.losses.MeanSquaredError()
optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
train_loss = tf.keras.metrics.Mean(name="train_loss")


@tf.function
def train_step(xb, yb):
    with tf.GradientTape() as tape:
        pred = model(xb, training=True)
        loss = loss_fn(yb, pred)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    train_loss.update_state(loss)


for epoch in range(5):
    train_loss.reset_state()
    for i in range(0, len(x), 32):
        train_step(x[i:i + 32], y[i:i + 32])
    print(f"epoch {epoch} loss {train_loss.result():.4f}")
print(model.layers[0].get_weights())

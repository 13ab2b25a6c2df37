"""Custom training loop iterating a tf.data.Dataset of (features, labels) with per-epoch metrics."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.default_rng(16)
x = rng.standard_normal((500, 9)).astype("float32")
y = rng.integers(0, 3, size=(500,)).astype("int64")

train = tf.data.Dataset.from_tensor_slices((x[:400], y[:400])).shuffle(400, reshuffle_each_iteration=True).batch(50)
val = tf.data.Dataset.from_tensor_slices((x[400:], y[400:])).batch(50)

model = keras.Sequential([keras.Input(shape=(9,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(3)])
loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam(learning_rate=5e-3)
train_acc = keras.metrics.SparseCategoricalAccuracy()
val_acc = keras.metrics.SparseCategoricalAccuracy()

for epoch in range(3):
    for step, (xb, yb) in enumerate(train):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            loss_value = loss_object(yb, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc.update_state(yb, logits)
    for xb, yb in val:
        val_acc.update_state(yb, model(xb, training=False))
    print(f"epoch {epoch}: train acc {float(train_acc.result()):.3f}, val acc {float(val_acc.result()):.3f}")
    train_acc.reset_state()
    val_acc.reset_state()

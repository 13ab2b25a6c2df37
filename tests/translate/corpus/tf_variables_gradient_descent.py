"""Low-level fitting with tf.Variable weights, GradientTape and an optimizer.apply_gradients on raw variables."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(34)
x = rng.uniform(-3, 3, size=(200,)).astype("float32")
y = (0.5 * x ** 2 - x + 1.0 + rng.normal(0, 0.1, 200)).astype("float32")

a = tf.Variable(0.0)
b = tf.Variable(0.0)
c = tf.Variable(0.0)
optimizer = tf.keras.optimizers.Adam(learning_rate=0.1)

for step in range(200):
    with tf.GradientTape() as tape:
        pred = a * x ** 2 + b * x + c
        loss = tf.reduce_mean(tf.square(pred - y))
    grads = tape.gradient(loss, [a, b, c])
    optimizer.apply_gradients(zip(grads, [a, b, c]))
    if step % 50 == 0:
        print(step, loss.numpy())
print("fitted:", a.numpy(), b.numpy(), c.numpy())

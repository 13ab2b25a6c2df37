"""Gradient clipping: optimizer clipnorm in compile, and tf.clip_by_global_norm inside a GradientTape loop."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(40)
x = rng.standard_normal((128, 6)).astype("float32") * 10
y = rng.standard_normal((128, 1)).astype("float32")


def build():
    return tf.keras.Sequential([tf.keras.Input(shape=(6,)), tf.keras.layers.Dense(16, activation="relu"),
                                tf.keras.layers.Dense(1)])


fit_model = build()
fit_model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.01, clipnorm=1.0), loss="mse")
fit_model.fit(x, y, epochs=2, verbose=0)

loop_model = build()
optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)
for step in range(20):
    idx = rng.choice(len(x), size=32, replace=False)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.keras.losses.mse(y[idx], loop_model(x[idx], training=True)))
    grads = tape.gradient(loss, loop_model.trainable_variables)
    grads, global_norm = tf.clip_by_global_norm(grads, 5.0)
    optimizer.apply_gradients(zip(grads, loop_model.trainable_variables))
print("last loss", float(loss), "norm before clipping", float(global_norm))

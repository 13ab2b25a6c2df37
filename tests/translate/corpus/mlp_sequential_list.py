"""Sequential MLP built from a list (`import tensorflow as tf`), compile/fit/evaluate/predict with Adam."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
x = rng.standard_normal((300, 12)).astype("float32")
y = (x[:, :3].sum(axis=1) > 0).astype("int64")

model = tf.keras.Sequential([
    tf.keras.Input(shape=(12,)),
    tf.keras.layers.Dense(32, activation="relu"),
    tf.keras.layers.Dense(16, activation="relu"),
    tf.keras.layers.Dense(2, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=3e-3),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x[:240], y[:240], batch_size=16, epochs=3, verbose=0)
loss, acc = model.evaluate(x[240:], y[240:], verbose=0)
print(f"test loss {loss:.3f} accuracy {acc:.3f}")
probs = model.predict(x[:5], verbose=0)
print(probs.argmax(axis=1))

"""Logits model with SparseCategoricalCrossentropy(from_logits=True), then a Softmax layer appended for inference."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(25)
x_train = rng.random((256, 8, 8)).astype("float32")
y_train = rng.integers(0, 10, size=(256,))

model = tf.keras.models.Sequential([
    tf.keras.layers.Input(shape=(8, 8)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(64, activation="relu"),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10),
])
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
print("initial loss:", float(loss_fn(y_train[:1], model(x_train[:1]).numpy())))
model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, verbose=0)
model.evaluate(x_train, y_train, verbose=2)

probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
print(probability_model(x_train[:3]))

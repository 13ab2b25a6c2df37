"""compile/fit with EarlyStopping(restore_best_weights) and ModelCheckpoint(save_best_only) on val_loss."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(7)
x = rng.standard_normal((400, 10)).astype("float32")
y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")

model = tf.keras.Sequential([
    tf.keras.layers.Input((10,)),
    tf.keras.layers.Dense(32, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

callbacks = [
    tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    tf.keras.callbacks.ModelCheckpoint("best_model.keras", monitor="val_loss", save_best_only=True),
]
history = model.fit(x, y, validation_split=0.2, epochs=10, batch_size=32, callbacks=callbacks, verbose=0)
print("epochs run:", len(history.history["loss"]))
best = tf.keras.models.load_model("best_model.keras")
print(best.evaluate(x, y, verbose=0))

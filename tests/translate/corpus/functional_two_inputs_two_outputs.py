"""Functional API with two inputs and two named outputs, per-output losses, loss weights and metrics."""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng(3)
n = 320
numeric = rng.standard_normal((n, 8)).astype("float32")
image = rng.random((n, 16, 16, 1)).astype("float32")
price = (numeric[:, 0] * 2 + image.mean(axis=(1, 2, 3))).astype("float32")
category = rng.integers(0, 3, size=(n,))

numeric_in = keras.Input(shape=(8,), name="numeric")
image_in = keras.Input(shape=(16, 16, 1), name="image")
a = layers.Dense(16, activation="relu")(numeric_in)
b = layers.Conv2D(8, 3, activation="relu")(image_in)
b = layers.MaxPooling2D()(b)
b = layers.Flatten()(b)
merged = layers.concatenate([a, b])
hidden = layers.Dense(32, activation="relu")(merged)
price_out = layers.Dense(1, name="price")(hidden)
category_out = layers.Dense(3, activation="softmax", name="category")(hidden)

model = keras.Model(inputs=[numeric_in, image_in], outputs=[price_out, category_out])
model.compile(
    optimizer="adam",
    loss={"price": "mse", "category": "sparse_categorical_crossentropy"},
    loss_weights={"price": 1.0, "category": 0.5},
    metrics={"category": ["accuracy"]},
)
model.fit({"numeric": numeric, "image": image}, {"price": price, "category": category},
          epochs=2, batch_size=32, verbose=0)
price_pred, category_pred = model.predict({"numeric": numeric[:4], "image": image[:4]}, verbose=0)
print(price_pred.shape, category_pred.shape)

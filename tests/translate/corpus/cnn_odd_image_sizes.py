"""Small CNN on 37x29 RGB images: padding same/valid, strides, MaxPooling2D, Flatten, softmax head."""
import numpy as np
import tensorflow as tf

height, width, channels, num_classes = 37, 29, 3, 5
rng = np.random.default_rng(19)
x_train = rng.random((96, height, width, channels)).astype("float32")
y_train = rng.integers(0, num_classes, size=(96,))

model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=(height, width, channels)),
    tf.keras.layers.Conv2D(8, (5, 3), strides=2, padding="same", activation="relu"),
    tf.keras.layers.Conv2D(16, 3, padding="valid", activation="relu"),
    tf.keras.layers.MaxPooling2D(pool_size=(2, 2)),
    tf.keras.layers.Conv2D(16, 3, strides=(1, 2), padding="same", activation="relu"),
    tf.keras.layers.AveragePooling2D(pool_size=2),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(num_classes, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, batch_size=16, verbose=0)
pred = model.predict(x_train[:4], verbose=0)
print(pred.shape, pred.sum(axis=1))

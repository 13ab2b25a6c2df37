"""Seed example 2: a simple CNN (from the article in shared/seed/), on synthetic 28x28 images."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
x_train = rng.random((512, 28, 28, 1)).astype("float32")
y_train = rng.integers(0, 10, size=(512,))


def build_model():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        tf.keras.layers.MaxPooling2D((2, 2)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10, activation='softmax')
    ], name="cnn")


if __name__ == "__main__":
    model = build_model()
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=2)
    model.save("cnn.keras")

"""Seed example 3: an LSTM classifier (from the article in shared/seed/), on synthetic sequences."""
import numpy as np
import tensorflow as tf

timesteps, features, num_classes = 20, 8, 5
rng = np.random.default_rng(0)
x_train = rng.standard_normal((512, timesteps, features)).astype("float32")
y_train = tf.keras.utils.to_categorical(rng.integers(0, num_classes, size=(512,)), num_classes)


def build_model():
    return tf.keras.Sequential([
        tf.keras.layers.LSTM(64, input_shape=(timesteps, features)),
        tf.keras.layers.Dense(num_classes, activation='softmax')
    ], name="lstm")


if __name__ == "__main__":
    model = build_model()
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=2)
    model.save("lstm.keras")

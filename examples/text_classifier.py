"""A text classifier on padded token ids: Embedding(mask_zero=True) -> Bidirectional LSTM -> Dense.

The sequences have different lengths and are pre-padded with 0 (`pad_sequences`' default): the
Keras mask makes the LSTMs skip the padding, and the converted model computes the same mask.
"""
import numpy as np
import tensorflow as tf

vocabulary, max_length, num_classes = 200, 25, 3
rng = np.random.default_rng(0)
lengths = rng.integers(3, max_length + 1, size=512)
sequences = [rng.integers(1, vocabulary, size=n).tolist() for n in lengths]
x_train = tf.keras.utils.pad_sequences(sequences, maxlen=max_length).astype("int32")
y_train = (lengths * num_classes // (max_length + 1)).astype("int32")  # the class is the length band


def build_model():
    tokens = tf.keras.Input((max_length,), dtype="int32", name="tokens")
    x = tf.keras.layers.Embedding(vocabulary, 16, mask_zero=True)(tokens)
    x = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(16))(x)
    outputs = tf.keras.layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(tokens, outputs, name="text_classifier")


if __name__ == "__main__":
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2)
    model.save("text_classifier.keras")

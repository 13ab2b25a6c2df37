"""Text classifier: Embedding(mask_zero) + LSTM + Dense on padded integer sequences, binary crossentropy."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

vocab_size = 500
maxlen = 30
rng = np.random.default_rng(17)
sequences = [rng.integers(1, vocab_size, size=rng.integers(5, maxlen)).tolist() for _ in range(200)]
x = tf.keras.utils.pad_sequences(sequences, maxlen=maxlen, padding="post")
y = rng.integers(0, 2, size=(200,)).astype("float32")

model = tf.keras.Sequential([
    layers.Input(shape=(maxlen,), dtype="int32"),
    layers.Embedding(vocab_size, 32, mask_zero=True),
    layers.LSTM(32),
    layers.Dropout(0.5),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=32, epochs=2, validation_split=0.1, verbose=0)
print(model.predict(x[:3], verbose=0))

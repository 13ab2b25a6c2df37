"""Stacked Bidirectional GRU tagger with return_sequences and a TimeDistributed Dense per token."""
import numpy as np
import keras
from keras import layers

vocab, tags, seq_len = 300, 7, 16
rng = np.random.default_rng(18)
tokens = rng.integers(0, vocab, size=(160, seq_len))
labels = rng.integers(0, tags, size=(160, seq_len))

inputs = keras.Input(shape=(seq_len,), dtype="int32")
x = layers.Embedding(vocab, 24)(inputs)
x = layers.Bidirectional(layers.GRU(16, return_sequences=True))(x)
x = layers.Bidirectional(layers.GRU(16, return_sequences=True), merge_mode="sum")(x)
outputs = layers.TimeDistributed(layers.Dense(tags, activation="softmax"))(x)
tagger = keras.Model(inputs, outputs)

tagger.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
tagger.fit(tokens, labels, batch_size=16, epochs=2, verbose=0)
print(tagger.predict(tokens[:1], verbose=0).argmax(-1))

"""Transformer encoder block as a subclassed Layer: MultiHeadAttention, LayerNormalization, feed-forward, dropout."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.norm1 = layers.LayerNormalization(epsilon=1e-6)
        self.norm2 = layers.LayerNormalization(epsilon=1e-6)
        self.drop1 = layers.Dropout(rate)
        self.drop2 = layers.Dropout(rate)

    def call(self, inputs, training=None):
        attended = self.att(inputs, inputs, training=training)
        x = self.norm1(inputs + self.drop1(attended, training=training))
        return self.norm2(x + self.drop2(self.ffn(x), training=training))


seq_len, vocab, dim = 12, 100, 16
tokens = keras.Input(shape=(seq_len,), dtype="int32")
h = layers.Embedding(vocab, dim)(tokens)
h = TransformerBlock(dim, num_heads=2, ff_dim=32)(h)
h = layers.GlobalAveragePooling1D()(h)
out = layers.Dense(2, activation="softmax")(h)
model = keras.Model(tokens, out)

rng = np.random.default_rng(38)
x = rng.integers(0, vocab, size=(96, seq_len))
y = rng.integers(0, 2, size=(96,))
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=16, epochs=2, verbose=0)
print(model.predict(x[:2], verbose=0))

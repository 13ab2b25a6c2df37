"""Subclassed keras.Model with call(training=None) and get_config, trained with compile/fit."""
import numpy as np
import tensorflow as tf


class Classifier(tf.keras.Model):
    def __init__(self, hidden=64, num_classes=3, dropout=0.25, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.num_classes = num_classes
        self.dropout_rate = dropout
        self.dense1 = tf.keras.layers.Dense(hidden, activation="relu")
        self.dropout = tf.keras.layers.Dropout(dropout)
        self.dense2 = tf.keras.layers.Dense(hidden // 2, activation="relu")
        self.out = tf.keras.layers.Dense(num_classes)

    def call(self, inputs, training=None):
        x = self.dense1(inputs)
        x = self.dropout(x, training=training)
        x = self.dense2(x)
        return self.out(x)

    def get_config(self):
        return {"hidden": self.hidden, "num_classes": self.num_classes, "dropout": self.dropout_rate}


rng = np.random.default_rng(5)
x = rng.standard_normal((240, 6)).astype("float32")
y = rng.integers(0, 3, size=(240,))

model = Classifier(hidden=48)
model.compile(optimizer="adam",
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["sparse_categorical_accuracy"])
model.fit(x, y, epochs=3, batch_size=24, verbose=0)
logits = model(x[:2], training=False)
print(tf.nn.softmax(logits).numpy())
print(model.get_config())

"""`from keras import ops, layers`: subclassed two-head model using ops in call, trained by a weighted multi-task tape loop."""
import numpy as np
import tensorflow as tf
import keras
from keras import ops, layers


class MultiTask(keras.Model):
    def __init__(self, num_classes=4, **kwargs):
        super().__init__(**kwargs)
        self.trunk = layers.Dense(32, activation="relu")
        self.cls_head = layers.Dense(num_classes)
        self.reg_head = layers.Dense(1)

    def call(self, x, training=None):
        h = self.trunk(x)
        h = ops.where(h > 6.0, 6.0, h)
        return self.cls_head(h), ops.squeeze(self.reg_head(h), axis=-1)


rng = np.random.default_rng(50)
x = rng.standard_normal((192, 7)).astype("float32")
y_cls = rng.integers(0, 4, size=192)
y_reg = x.mean(axis=1).astype("float32")

model = MultiTask()
optimizer = keras.optimizers.Adam(learning_rate=3e-3)
ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
for epoch in range(3):
    perm = rng.permutation(len(x))
    for start in range(0, len(x), 32):
        idx = perm[start:start + 32]
        with tf.GradientTape() as tape:
            logits, value = model(x[idx], training=True)
            loss = ce(y_cls[idx], logits) + 0.5 * ops.mean(ops.square(value - y_reg[idx]))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    print(epoch, float(loss))

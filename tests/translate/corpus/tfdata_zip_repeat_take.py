"""tf.data combinators: range, zip, map with lambda, filter, repeat, take, batch, as_numpy_iterator, steps_per_epoch."""
import numpy as np
import tensorflow as tf

features = tf.data.Dataset.from_tensor_slices(np.linspace(0, 1, 100, dtype="float32").reshape(50, 2))
targets = tf.data.Dataset.range(50).map(lambda i: tf.cast(i % 2, tf.float32))
pairs = tf.data.Dataset.zip((features, targets))
evens = tf.data.Dataset.range(10).filter(lambda i: i % 2 == 0)
print(list(evens.as_numpy_iterator()))

train = pairs.shuffle(50, seed=1).repeat().batch(10)
for xb, yb in train.take(2):
    print(xb.shape, yb.numpy())

model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="sgd", loss="binary_crossentropy")
model.fit(train, steps_per_epoch=5, epochs=2, verbose=0)
print(model.predict(pairs.batch(50).take(1), verbose=0)[:3])

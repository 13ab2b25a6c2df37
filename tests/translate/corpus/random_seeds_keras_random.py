"""Reproducibility and randomness: keras.utils.set_random_seed, tf.random.set_seed, keras.random with a SeedGenerator."""
import numpy as np
import tensorflow as tf
import keras

keras.utils.set_random_seed(1234)
tf.random.set_seed(1234)
np.random.seed(1234)

seed = keras.random.SeedGenerator(42)
noise = keras.random.normal((3, 4), mean=0.0, stddev=0.5, seed=seed)
mask = keras.random.uniform((3, 4), seed=seed) > 0.5
dropped = keras.random.dropout(noise, rate=0.25, seed=seed)
print(noise.shape, int(keras.ops.sum(keras.ops.cast(mask, "int32"))), dropped.shape)

shuffled = tf.random.shuffle(tf.range(10), seed=7)
ints = tf.random.uniform((5,), minval=0, maxval=10, dtype=tf.int32)
gauss = tf.random.normal((2, 2), mean=1.0, stddev=0.1)
print(shuffled.numpy(), ints.numpy(), gauss.numpy())

"""Snippet: tf.data input pipeline over free arrays features/labels with BATCH_SIZE, a normalising map and a split."""
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def normalize(x, y):
    x = tf.cast(x, tf.float32)
    return (x - tf.reduce_mean(x)) / (tf.math.reduce_std(x) + 1e-6), y


dataset = tf.data.Dataset.from_tensor_slices((features, labels))
dataset = dataset.shuffle(len(features), seed=42)
n_val = len(features) // 5
val_ds = dataset.take(n_val).map(normalize).batch(BATCH_SIZE)
train_ds = dataset.skip(n_val).map(normalize, num_parallel_calls=AUTOTUNE).batch(BATCH_SIZE).prefetch(AUTOTUNE)
for batch_x, batch_y in train_ds.take(1):
    print(batch_x.shape, batch_y.shape)

"""tf.function-compiled numerical functions with input_signature, tf.Variable state and tf.constant inputs."""
import tensorflow as tf

counter = tf.Variable(0, dtype=tf.int64)


@tf.function(input_signature=[tf.TensorSpec(shape=[None, 3], dtype=tf.float32)])
def normalize_rows(x):
    counter.assign_add(1)
    norms = tf.sqrt(tf.reduce_sum(tf.square(x), axis=1, keepdims=True))
    return x / tf.maximum(norms, 1e-12)


@tf.function
def pairwise_distances(a, b):
    diff = tf.expand_dims(a, 1) - tf.expand_dims(b, 0)
    return tf.sqrt(tf.reduce_sum(diff * diff, axis=-1) + 1e-9)


points = tf.constant([[3.0, 4.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 2.0]])
unit = normalize_rows(points)
print(unit.numpy())
print(pairwise_distances(unit, unit).numpy())
print("calls:", int(counter.numpy()))

"""Plain TensorFlow tensor maths: reductions, matmul, concat/stack, reshape/transpose, where, one_hot, argmax."""
import numpy as np
import tensorflow as tf

a = tf.constant(np.arange(12, dtype="float32").reshape(3, 4))
b = tf.ones((4, 2), dtype=tf.float32)

print(tf.matmul(a, b))
print(tf.reduce_sum(a, axis=1), tf.reduce_mean(a), tf.reduce_max(a, axis=0, keepdims=True))
print(tf.concat([a, a], axis=0).shape, tf.stack([a, a], axis=-1).shape)
print(tf.reshape(a, (2, 6)), tf.transpose(a))
print(tf.where(a > 5.0, a, tf.zeros_like(a)))
print(tf.one_hot([0, 2, 1], depth=3))
print(tf.argmax(a, axis=1), tf.math.sqrt(a + 1.0), tf.clip_by_value(a, 2.0, 8.0))
print(tf.nn.relu(a - 6.0), tf.nn.softmax(a, axis=-1), tf.sigmoid(a / 10.0))
print(tf.expand_dims(a, 0).shape, tf.squeeze(tf.ones((1, 3, 1))).shape)
print(tf.gather(a, [2, 0]), tf.cast(a, tf.int32), tf.abs(-a), tf.square(a))
print(tf.math.log(a + 1.0), tf.exp(-a), tf.pow(a, 2), tf.maximum(a, 3.0), tf.minimum(a, 3.0))
print(tf.linalg.norm(a, axis=1), tf.tile(tf.constant([[1, 2]]), [2, 3]), tf.range(5), tf.shape(a))
print(tf.random.uniform((2, 2), seed=1).shape, tf.zeros((2, 3)), tf.eye(3))

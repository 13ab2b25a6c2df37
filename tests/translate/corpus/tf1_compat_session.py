"""Legacy TF1 graph code through tf.compat.v1: placeholders, variables, a Session loop with GradientDescentOptimizer."""
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
rng = np.random.default_rng(52)
x_data = rng.random((100, 1)).astype("float32")
y_data = 3.0 * x_data + 1.0

x = tf.compat.v1.placeholder(tf.float32, shape=[None, 1])
y = tf.compat.v1.placeholder(tf.float32, shape=[None, 1])
w = tf.compat.v1.Variable(tf.zeros([1, 1]))
b = tf.compat.v1.Variable(tf.zeros([1]))
pred = tf.matmul(x, w) + b
loss = tf.reduce_mean(tf.square(pred - y))
train_op = tf.compat.v1.train.GradientDescentOptimizer(0.5).minimize(loss)

with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    for step in range(100):
        _, current = sess.run([train_op, loss], feed_dict={x: x_data, y: y_data})
    print("loss", current, "w", sess.run(w).ravel(), "b", sess.run(b))

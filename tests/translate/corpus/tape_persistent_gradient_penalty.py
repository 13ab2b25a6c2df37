"""GradientTape details: persistent tape, tape.watch on a constant, nested tapes for a second derivative, gradient penalty."""
import tensorflow as tf

x = tf.constant([[1.0, 2.0], [3.0, -1.0]])
with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    y = tf.reduce_sum(x ** 3)
    z = tf.reduce_sum(tf.sin(x))
print(tape.gradient(y, x).numpy(), tape.gradient(z, x).numpy())
del tape

t = tf.Variable(0.5)
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        f = t ** 4
    df = inner.gradient(f, t)
d2f = outer.gradient(df, t)
print(float(df), float(d2f))

critic = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(8, activation="tanh"), tf.keras.layers.Dense(1)])
points = tf.random.normal((16, 2))
with tf.GradientTape() as gp_tape:
    gp_tape.watch(points)
    scores = critic(points)
grads = gp_tape.gradient(scores, points)
penalty = tf.reduce_mean(tf.square(tf.norm(grads, axis=1) - 1.0))
print("gradient penalty:", float(penalty))

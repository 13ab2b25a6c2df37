"""GAN on 2-D points: generator and discriminator, two Adam optimizers, GradientTape custom loop, tf.function."""
import numpy as np
import tensorflow as tf

latent_dim = 8
batch_size = 64
rng = np.random.default_rng(12)
real_points = rng.normal(loc=[2.0, -1.0], scale=0.3, size=(1024, 2)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(real_points).shuffle(1024).batch(batch_size, drop_remainder=True)

generator = tf.keras.Sequential([
    tf.keras.Input(shape=(latent_dim,)),
    tf.keras.layers.Dense(32),
    tf.keras.layers.LeakyReLU(negative_slope=0.2),
    tf.keras.layers.Dense(2),
], name="generator")
discriminator = tf.keras.Sequential([
    tf.keras.Input(shape=(2,)),
    tf.keras.layers.Dense(32),
    tf.keras.layers.LeakyReLU(negative_slope=0.2),
    tf.keras.layers.Dense(1),
], name="discriminator")

cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)
g_optimizer = tf.keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
d_optimizer = tf.keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


@tf.function
def train_step(real):
    noise = tf.random.normal([tf.shape(real)[0], latent_dim])
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = (cross_entropy(tf.ones_like(real_logits), real_logits)
                  + cross_entropy(tf.zeros_like(fake_logits), fake_logits))
        g_loss = cross_entropy(tf.ones_like(fake_logits), fake_logits)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return d_loss, g_loss


for epoch in range(3):
    for batch in dataset:
        d_loss, g_loss = train_step(batch)
    print(f"epoch {epoch}: d_loss={float(d_loss):.3f} g_loss={float(g_loss):.3f}")

samples = generator(tf.random.normal([5, latent_dim]), training=False)
print(samples.numpy())

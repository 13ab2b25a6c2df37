"""Variational autoencoder: encoder/decoder models, reparameterisation trick, KL term, GradientTape loop."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

latent_dim = 2
rng = np.random.default_rng(13)
data = rng.random((256, 20)).astype("float32")

enc_in = keras.Input(shape=(20,))
h = layers.Dense(32, activation="relu")(enc_in)
z_mean = layers.Dense(latent_dim, name="z_mean")(h)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
encoder = keras.Model(enc_in, [z_mean, z_log_var], name="encoder")

dec_in = keras.Input(shape=(latent_dim,))
d = layers.Dense(32, activation="relu")(dec_in)
dec_out = layers.Dense(20, activation="sigmoid")(d)
decoder = keras.Model(dec_in, dec_out, name="decoder")

optimizer = keras.optimizers.Adam(learning_rate=1e-3)


def sample(mean, log_var):
    epsilon = tf.random.normal(shape=tf.shape(mean))
    return mean + tf.exp(0.5 * log_var) * epsilon


def train_step(batch):
    with tf.GradientTape() as tape:
        mean, log_var = encoder(batch, training=True)
        z = sample(mean, log_var)
        reconstruction = decoder(z, training=True)
        rec_loss = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(batch[..., None], reconstruction[..., None]), axis=1))
        kl = -0.5 * tf.reduce_sum(1 + log_var - tf.square(mean) - tf.exp(log_var), axis=1)
        loss = rec_loss + tf.reduce_mean(kl)
    variables = encoder.trainable_weights + decoder.trainable_weights
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))
    return loss, tf.reduce_mean(kl)


dataset = tf.data.Dataset.from_tensor_slices(data).shuffle(256, seed=0).batch(32)
for epoch in range(2):
    for batch in dataset:
        loss, kl = train_step(batch)
    print("epoch", epoch, "loss", float(loss), "kl", float(kl))

"""Convolutional autoencoder on 20x20 images: Conv2D strides, Conv2DTranspose, UpSampling2D, sigmoid output."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

rng = np.random.default_rng(32)
images = rng.random((64, 20, 20, 1)).astype("float32")

inp = tf.keras.Input(shape=(20, 20, 1))
x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
x = layers.UpSampling2D(size=2)(x)
out = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
autoencoder = tf.keras.Model(inp, out, name="conv_autoencoder")

autoencoder.compile(optimizer="adam", loss="mse")
autoencoder.fit(images, images, epochs=2, batch_size=16, verbose=0)
denoised = autoencoder.predict(images[:2], verbose=0)
print(denoised.shape, float(np.abs(denoised - images[:2]).mean()))

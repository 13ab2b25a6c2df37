"""Transfer-learning shape: keras.applications.MobileNetV2 backbone (weights=None here), frozen, new head, fine-tune."""
import numpy as np
import tensorflow as tf

base = tf.keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False, weights=None, alpha=0.35)
base.trainable = False

inputs = tf.keras.Input(shape=(32, 32, 3))
x = tf.keras.applications.mobilenet_v2.preprocess_input(inputs)
x = base(x, training=False)
x = tf.keras.layers.GlobalAveragePooling2D()(x)
x = tf.keras.layers.Dropout(0.2)(x)
outputs = tf.keras.layers.Dense(3)(x)
model = tf.keras.Model(inputs, outputs)

rng = np.random.default_rng(51)
images = rng.uniform(0, 255, size=(24, 32, 32, 3)).astype("float32")
labels = rng.integers(0, 3, size=(24,))
model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(images, labels, epochs=1, batch_size=8, verbose=0)

base.trainable = True
model.compile(optimizer=tf.keras.optimizers.Adam(1e-5),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(images, labels, epochs=1, batch_size=8, verbose=0)

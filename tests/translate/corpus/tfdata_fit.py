"""tf.data pipeline (from_tensor_slices, map, shuffle, batch, prefetch) fed to model.fit and evaluate."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(15)
images = rng.integers(0, 256, size=(300, 12, 12, 3)).astype("uint8")
labels = rng.integers(0, 10, size=(300,)).astype("int32")


def preprocess(image, label):
    image = tf.cast(image, tf.float32) / 255.0
    return image, label


train_ds = (tf.data.Dataset.from_tensor_slices((images[:240], labels[:240]))
            .map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
            .shuffle(buffer_size=240)
            .batch(32)
            .prefetch(tf.data.AUTOTUNE))
test_ds = tf.data.Dataset.from_tensor_slices((images[240:], labels[240:])).map(preprocess).batch(32)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(12, 12, 3)),
    tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
    tf.keras.layers.GlobalAveragePooling2D(),
    tf.keras.layers.Dense(10),
])
model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(train_ds, epochs=2, validation_data=test_ds, verbose=0)
print(model.evaluate(test_ds, verbose=0))

"""Inference only: build a model, predict in batches, softmax/top-k with tf ops, and decode labels."""
import numpy as np
import tensorflow as tf

class_names = ["cat", "dog", "bird", "fish"]
rng = np.random.default_rng(36)
batch = rng.random((10, 14, 14, 3)).astype("float32")

model = tf.keras.Sequential([
    tf.keras.Input(shape=(14, 14, 3)),
    tf.keras.layers.Conv2D(4, 3, activation="relu"),
    tf.keras.layers.GlobalMaxPooling2D(),
    tf.keras.layers.Dense(len(class_names)),
])
logits = model.predict(batch, batch_size=4, verbose=0)
probs = tf.nn.softmax(logits, axis=-1)
top = tf.math.top_k(probs, k=2)
for i in range(3):
    names = [class_names[j] for j in top.indices[i].numpy()]
    print(names, np.round(top.values[i].numpy(), 3))
print("predicted:", [class_names[i] for i in tf.argmax(probs, axis=1).numpy()])

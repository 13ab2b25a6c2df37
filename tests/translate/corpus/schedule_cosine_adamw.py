"""CosineDecay with warmup driving AdamW (weight decay), label smoothing in CategoricalCrossentropy."""
import numpy as np
import tensorflow as tf

num_classes = 6
rng = np.random.default_rng(11)
x = rng.standard_normal((300, 24)).astype("float32")
y = tf.keras.utils.to_categorical(rng.integers(0, num_classes, size=(300,)), num_classes)

steps_per_epoch = 300 // 30
schedule = tf.keras.optimizers.schedules.CosineDecay(
    initial_learning_rate=0.0, decay_steps=steps_per_epoch * 4, warmup_target=2e-3, warmup_steps=steps_per_epoch)
optimizer = tf.keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(24,)),
    tf.keras.layers.Dense(64, activation="gelu"),
    tf.keras.layers.LayerNormalization(),
    tf.keras.layers.Dense(num_classes),
])
model.compile(optimizer=optimizer,
              loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
              metrics=[tf.keras.metrics.CategoricalAccuracy(), tf.keras.metrics.TopKCategoricalAccuracy(k=2)])
model.fit(x, y, batch_size=30, epochs=4, verbose=0)
print(model.evaluate(x, y, verbose=0, return_dict=True))

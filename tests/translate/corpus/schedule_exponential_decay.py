"""ExponentialDecay learning-rate schedule (stepped per batch) passed to Adam, staircase=True."""
import numpy as np
import keras

rng = np.random.default_rng(10)
x = rng.random((512, 16)).astype("float32")
y = (x.mean(axis=1) > 0.5).astype("float32")

lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate=1e-2, decay_steps=10, decay_rate=0.9, staircase=True)

model = keras.Sequential([
    keras.Input(shape=(16,)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr_schedule),
              loss=keras.losses.BinaryCrossentropy(), metrics=[keras.metrics.AUC(name="auc")])
model.fit(x, y, batch_size=64, epochs=3, verbose=0)
print("learning rate after training:", float(lr_schedule(model.optimizer.iterations)))

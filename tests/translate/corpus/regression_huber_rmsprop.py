"""Regression with Huber loss (delta=2), RMSprop(rho=0.8), MAE and RMSE metrics, sample_weight in fit."""
import numpy as np
import keras

rng = np.random.default_rng(24)
x = rng.uniform(0, 10, size=(300, 2)).astype("float32")
y = (x[:, :1] * 3 - x[:, 1:] + rng.standard_cauchy((300, 1)) * 0.1).astype("float32")
weights = np.where(x[:, 0] > 5, 2.0, 1.0).astype("float32")

model = keras.Sequential([
    keras.Input(shape=(2,)),
    keras.layers.Dense(32, activation="elu"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=5e-3, rho=0.8),
              loss=keras.losses.Huber(delta=2.0),
              metrics=[keras.metrics.MeanAbsoluteError(), keras.metrics.RootMeanSquaredError()])
model.fit(x, y, sample_weight=weights, epochs=3, batch_size=25, verbose=0)
print(model.evaluate(x, y, verbose=0))

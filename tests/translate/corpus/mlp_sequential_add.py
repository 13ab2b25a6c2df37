"""Sequential regression model grown with .add() (`import keras`, Keras 3), SGD with momentum and MSE."""
import numpy as np
import keras

rng = np.random.default_rng(1)
features = rng.uniform(-2, 2, size=(400, 5)).astype("float32")
targets = (features @ np.array([1.5, -2.0, 0.5, 0.0, 3.0], dtype="float32"))[:, None] + 0.7

model = keras.Sequential(name="regressor")
model.add(keras.Input(shape=(5,)))
model.add(keras.layers.Dense(64, activation="tanh"))
model.add(keras.layers.Dense(64, activation="tanh"))
model.add(keras.layers.Dense(1))

model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
              loss="mse", metrics=["mae"])
history = model.fit(features, targets, epochs=4, batch_size=32, verbose=0)
print("final training loss:", history.history["loss"][-1])
print("predictions:", model.predict(features[:3], verbose=0).ravel())

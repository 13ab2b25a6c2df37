"""Saving and restoring: save_weights/load_weights (.weights.h5), model.save(.keras) and load_model."""
import numpy as np
import keras

rng = np.random.default_rng(21)
x = rng.standard_normal((64, 4)).astype("float32")
y = rng.standard_normal((64, 1)).astype("float32")


def make_model():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


model = make_model()
model.fit(x, y, epochs=2, verbose=0)
model.save_weights("regressor.weights.h5")

clone = make_model()
clone.load_weights("regressor.weights.h5")
print(np.allclose(model.predict(x, verbose=0), clone.predict(x, verbose=0)))

model.save("regressor.keras")
restored = keras.models.load_model("regressor.keras")
print(np.allclose(model.predict(x, verbose=0), restored.predict(x, verbose=0)))

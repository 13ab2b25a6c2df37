"""`from tensorflow.keras import layers, models`: Sequential with BatchNormalization and Dropout, RMSprop."""
import numpy as np
from tensorflow.keras import layers, models, optimizers

rng = np.random.default_rng(2)
x_train = rng.standard_normal((256, 20)).astype("float32")
y_train = rng.integers(0, 4, size=(256,))
x_val = rng.standard_normal((64, 20)).astype("float32")
y_val = rng.integers(0, 4, size=(64,))

model = models.Sequential()
model.add(layers.Input(shape=(20,)))
model.add(layers.Dense(128, use_bias=False))
model.add(layers.BatchNormalization())
model.add(layers.Activation("relu"))
model.add(layers.Dropout(0.3))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dropout(0.2))
model.add(layers.Dense(4, activation="softmax"))

model.compile(optimizer=optimizers.RMSprop(learning_rate=1e-3),
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=3, batch_size=32, verbose=2)
model.summary()

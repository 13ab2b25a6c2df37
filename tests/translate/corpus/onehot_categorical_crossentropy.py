"""One-hot targets via to_categorical with categorical_crossentropy, Adagrad, and argmax decoding of predictions."""
import numpy as np
from tensorflow import keras
from tensorflow.keras.utils import to_categorical

rng = np.random.default_rng(26)
x = rng.standard_normal((180, 6)).astype("float32")
labels = np.argmax(x[:, :3], axis=1)
y = to_categorical(labels, num_classes=3)

inputs = keras.Input(shape=(6,))
hidden = keras.layers.Dense(20, activation="sigmoid")(inputs)
outputs = keras.layers.Dense(3, activation="softmax")(hidden)
model = keras.Model(inputs=inputs, outputs=outputs, name="onehot_classifier")
model.compile(optimizer=keras.optimizers.Adagrad(learning_rate=0.1), loss="categorical_crossentropy",
              metrics=["categorical_accuracy"])
model.fit(x, y, epochs=4, batch_size=18, verbose=0)
decoded = np.argmax(model.predict(x, verbose=0), axis=1)
print("agreement:", (decoded == labels).mean())

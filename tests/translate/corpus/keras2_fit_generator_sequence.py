"""Keras 2 (tf_keras): keras.utils.Sequence batch generator fed to fit_generator-style training and predict."""
import math

import numpy as np
import tf_keras as keras


class ArrayBatches(keras.utils.Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[sl], self.y[sl]


rng = np.random.default_rng(47)
x = rng.random((120, 6)).astype("float32")
y = keras.utils.to_categorical((x.sum(1) > 3).astype("int32"), 2)
model = keras.Sequential([keras.layers.Dense(10, activation="relu", input_dim=6),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy", metrics=["acc"])
model.fit(ArrayBatches(x, y, 16), epochs=3, verbose=0)
print(model.predict(ArrayBatches(x, y, 16), verbose=0).shape)

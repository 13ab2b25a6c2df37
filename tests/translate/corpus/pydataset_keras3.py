"""Keras 3 keras.utils.PyDataset subclass producing augmented batches on the fly for fit, with shuffle per epoch."""
import numpy as np
import keras


class NoisyBatches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size=32, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.order = np.arange(len(x))

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        idx = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        noise = np.random.normal(0, 0.01, size=self.x[idx].shape).astype("float32")
        return self.x[idx] + noise, self.y[idx]

    def on_epoch_end(self):
        np.random.shuffle(self.order)


rng = np.random.default_rng(48)
x = rng.standard_normal((100, 4)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy"])
model.fit(NoisyBatches(x, y, batch_size=20), epochs=2, verbose=0)

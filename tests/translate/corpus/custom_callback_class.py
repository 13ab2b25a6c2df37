"""Custom keras.callbacks.Callback subclass (on_epoch_end/on_train_batch_end) that stops training at a loss target."""
import numpy as np
import keras


class StopAtLoss(keras.callbacks.Callback):
    def __init__(self, target):
        super().__init__()
        self.target = target
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        print(f"epoch {epoch}: loss={logs.get('loss'):.4f} after {self.batches} batches")
        if logs.get("loss", np.inf) < self.target:
            self.model.stop_training = True


rng = np.random.default_rng(43)
x = rng.standard_normal((160, 3)).astype("float32")
y = x @ np.array([[1.0], [2.0], [-1.0]], dtype="float32")
model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
model.fit(x, y, epochs=10, callbacks=[StopAtLoss(0.05)], verbose=0)

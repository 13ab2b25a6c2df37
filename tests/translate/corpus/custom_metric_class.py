"""Stateful custom keras.metrics.Metric subclass (add_weight, update_state, result, reset_state) used in compile."""
import numpy as np
import keras
from keras import ops


class BalancedAccuracy(keras.metrics.Metric):
    def __init__(self, num_classes, name="balanced_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.correct = self.add_weight(shape=(num_classes,), initializer="zeros", name="correct")
        self.total = self.add_weight(shape=(num_classes,), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        y_hat = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        true_1h = ops.one_hot(y_true, self.num_classes)
        hit = ops.cast(ops.equal(y_true, y_hat), "float32")
        self.correct.assign_add(ops.sum(true_1h * hit[:, None], axis=0))
        self.total.assign_add(ops.sum(true_1h, axis=0))

    def result(self):
        per_class = ops.divide_no_nan(self.correct, self.total)
        return ops.mean(per_class)

    def reset_state(self):
        self.correct.assign(ops.zeros((self.num_classes,)))
        self.total.assign(ops.zeros((self.num_classes,)))


rng = np.random.default_rng(29)
x = rng.standard_normal((240, 10)).astype("float32")
y = rng.choice(3, size=240, p=[0.7, 0.2, 0.1])
model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
model.fit(x, y, epochs=2, verbose=0)
print(model.evaluate(x, y, verbose=0))

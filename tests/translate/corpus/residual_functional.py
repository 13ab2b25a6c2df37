"""Functional ResNet-style model: residual blocks with Add, a projection shortcut, BatchNorm, GlobalAveragePooling."""
import numpy as np
import keras
from keras import layers


def residual_block(x, filters, stride=1):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


inputs = keras.Input(shape=(19, 19, 3))
x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
x = residual_block(x, 8)
x = residual_block(x, 16, stride=2)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(4, activation="softmax")(x)
model = keras.Model(inputs, outputs, name="tiny_resnet")

rng = np.random.default_rng(33)
x_train = rng.random((64, 19, 19, 3)).astype("float32")
y_train = rng.integers(0, 4, size=(64,))
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, batch_size=16, verbose=0)
print(model.count_params())

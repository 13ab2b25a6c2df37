"""CNN with Conv-BatchNorm-ReLU blocks, SpatialDropout2D, GlobalAveragePooling2D; evaluate in inference mode."""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers


def conv_block(filters):
    return [layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
            layers.ReLU()]


model = keras.Sequential(
    [keras.Input(shape=(21, 21, 1))]
    + conv_block(8)
    + [layers.MaxPooling2D(), layers.SpatialDropout2D(0.1)]
    + conv_block(16)
    + [layers.GlobalAveragePooling2D(), layers.Dropout(0.4), layers.Dense(3, activation="softmax")]
)

rng = np.random.default_rng(20)
x = rng.random((120, 21, 21, 1)).astype("float32")
y = keras.utils.to_categorical(rng.integers(0, 3, 120), 3)
model.compile(optimizer=keras.optimizers.Nadam(learning_rate=2e-3), loss="categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x, y, epochs=2, batch_size=20, shuffle=True, verbose=0)
print(model.evaluate(x, y, batch_size=40, verbose=0))

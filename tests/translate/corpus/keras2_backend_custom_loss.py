"""Keras 2 (tf_keras) custom loss with keras.backend functions (K.mean, K.square, K.epsilon), functional model."""
import numpy as np
import tf_keras as keras
from tf_keras import backend as K
from tf_keras.layers import Dense, Input


def rmsle(y_true, y_pred):
    first = K.log(K.clip(y_pred, K.epsilon(), None) + 1.0)
    second = K.log(K.clip(y_true, K.epsilon(), None) + 1.0)
    return K.sqrt(K.mean(K.square(first - second), axis=-1))


rng = np.random.default_rng(42)
x = rng.random((200, 4)).astype("float32")
y = np.exp(x.sum(axis=1, keepdims=True)).astype("float32")

inp = Input(shape=(4,))
h = Dense(16, activation="relu")(inp)
out = Dense(1, activation="softplus")(h)
model = keras.models.Model(inputs=inp, outputs=out)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=rmsle)
model.fit(x, y, epochs=3, batch_size=20, verbose=0)
print("rmsle:", model.evaluate(x, y, verbose=0))
K.clear_session()

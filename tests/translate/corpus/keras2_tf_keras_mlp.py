"""Keras 2 style with `import tf_keras as keras`: input_shape= on the first layer, .h5 save, to_categorical."""
import numpy as np
import tf_keras as keras

num_classes = 4
rng = np.random.default_rng(22)
x_train = rng.random((200, 30)).astype("float32")
y_train = keras.utils.to_categorical(rng.integers(0, num_classes, 200), num_classes)

model = keras.models.Sequential()
model.add(keras.layers.Dense(64, activation="relu", input_shape=(30,)))
model.add(keras.layers.Dropout(0.5))
model.add(keras.layers.Dense(num_classes, activation="softmax"))

model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=0.001), metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=50, epochs=3, verbose=1, validation_split=0.1)
score = model.evaluate(x_train, y_train, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
model.save("mlp_keras2.h5")

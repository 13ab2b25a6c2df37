"""Binary classifier with Precision, Recall and AUC metrics, and a BinaryCrossentropy loss object."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(23)
x = rng.standard_normal((360, 15)).astype("float32")
y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, 360) > 0).astype("float32")

model = tf.keras.models.Sequential([
    tf.keras.layers.Input(shape=(15,)),
    tf.keras.layers.Dense(16, activation="relu", kernel_regularizer=tf.keras.regularizers.l2(1e-4)),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(
    optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
    loss=tf.keras.losses.BinaryCrossentropy(),
    metrics=[tf.keras.metrics.Precision(name="precision"),
             tf.keras.metrics.Recall(name="recall"),
             tf.keras.metrics.AUC(name="auc")],
)
model.fit(x, y, epochs=3, batch_size=32, verbose=0)
results = model.evaluate(x, y, verbose=0, return_dict=True)
print({k: round(v, 3) for k, v in results.items()})
predicted = (model.predict(x[:10], verbose=0) > 0.5).astype("int32").ravel()
print(predicted)

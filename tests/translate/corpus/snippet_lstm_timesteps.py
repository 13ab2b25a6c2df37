"""Snippet: stacked LSTM forecaster with free names timesteps, n_features, X, y, and an early-stopping callback."""
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import LSTM, Dense
from tensorflow.keras.callbacks import EarlyStopping

model = Sequential()
model.add(LSTM(50, activation="relu", return_sequences=True, input_shape=(timesteps, n_features)))
model.add(LSTM(50, activation="relu"))
model.add(Dense(1))
model.compile(optimizer="adam", loss="mse")
model.fit(X, y, epochs=200, verbose=0, callbacks=[EarlyStopping(monitor="loss", patience=10)])
yhat = model.predict(x_input, verbose=0)

"""fit / evaluate / predict, metrics and callbacks of the runtime against Keras itself.

Each test trains a Keras model and its tf2torch twin the same way (shuffle=False, or the same
permutations) and compares the whole History (keys and per-epoch values), evaluate's results and the
files callbacks write.
"""
import numpy as np
import pytest
import torch

from test_training_helpers import max_rel, runtime, twins

RT = runtime()
rng = np.random.default_rng(3)
X = rng.standard_normal((70, 5)).astype("float32")
Y_INT = rng.integers(0, 3, size=(70,))
Y_ONEHOT = np.eye(3, dtype="float32")[Y_INT]
Y_REG = rng.standard_normal((70, 3)).astype("float32")
Y_BIN = (rng.random((70, 1)) > 0.5).astype("float32")
WEIGHTS = rng.random(70).astype("float32")


def both(y, activation, keras_compile, our_loss, our_metrics=(), fit=None, ours=None, keras_lr=0.05, units=None,
         optimizer=None, keras_optimizer=None):
    """Train both; (Keras history dict, our history dict, Keras model, torch module)."""
    import keras

    units = units or (1 if y.ndim > 1 and y.shape[-1] == 1 else 3)
    model, module = twins([keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(units, activation=activation)], (5,))
    model.compile(optimizer=keras_optimizer or keras.optimizers.SGD(keras_lr), **keras_compile)
    fit = {**dict(epochs=3, shuffle=False, verbose=0), **(fit or {})}
    history = model.fit(X, y, **fit)
    torch_optimizer = (optimizer or (lambda p: torch.optim.SGD(p, lr=keras_lr)))(module.parameters())
    our_history = RT.fit(module, X, y, our_loss, torch_optimizer, list(our_metrics), **dict(fit, **(ours or {})))
    return history.history, our_history.history, model, module


def assert_same_history(theirs, ours, tolerance=1e-5):
    assert sorted(theirs) == sorted(ours)
    for key in theirs:
        assert len(theirs[key]) == len(ours[key]), key
        assert max_rel(theirs[key], ours[key]) < tolerance, (key, theirs[key], ours[key])


def test_validation_split_takes_the_last_samples_and_accuracy_follows_the_labels():
    theirs, ours, model, module = both(Y_INT, "softmax", dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
                                       RT.SparseCategoricalCrossentropy(), [RT.SparseCategoricalAccuracy(name="accuracy")],
                                       fit=dict(validation_split=0.3, batch_size=10))
    assert_same_history(theirs, ours)
    assert list(ours) == ["loss", "accuracy", "val_loss", "val_accuracy"]


def test_validation_data_and_top_k():
    import keras

    metrics = ["accuracy", keras.metrics.TopKCategoricalAccuracy(k=2)]
    theirs, ours, model, module = both(Y_ONEHOT, "softmax", dict(loss="categorical_crossentropy", metrics=metrics),
                                       RT.CategoricalCrossentropy(), [RT.CategoricalAccuracy(name="accuracy"),
                                                                      RT.TopKCategoricalAccuracy(k=2)],
                                       fit=dict(validation_data=(X[:20], Y_ONEHOT[:20]), validation_freq=2))
    assert_same_history(theirs, ours)
    assert len(ours["val_loss"]) == 1  # validation_freq=2 over 3 epochs: only after epoch 2


def test_class_weight_precision_recall_auc_and_accuracy_by_shape():
    import keras

    metrics = ["accuracy", keras.metrics.Precision(), keras.metrics.Recall(), keras.metrics.AUC(),
               keras.metrics.AUC(curve="PR", name="pr_auc")]
    ours_metrics = [RT.AccuracyByShape(), RT.Precision(), RT.Recall(), RT.AUC(), RT.AUC(curve="PR", name="pr_auc")]
    theirs, ours, model, module = both(Y_BIN, "sigmoid", dict(loss="binary_crossentropy", metrics=metrics),
                                       RT.BinaryCrossentropy(), ours_metrics,
                                       fit=dict(class_weight={0: 0.3, 1: 2.0}, batch_size=7))
    assert_same_history(theirs, ours, tolerance=2e-5)
    keras_eval = model.evaluate(X, Y_BIN, verbose=0)
    our_eval = RT.evaluate(module, X, Y_BIN, RT.BinaryCrossentropy(), ours_metrics, verbose=0)
    assert max_rel(keras_eval, our_eval) < 2e-5


def test_sample_weight_weighted_metrics_and_loss_metrics():
    import keras

    theirs, ours, model, module = both(
        Y_REG, "linear", dict(loss="mse", metrics=["mae", keras.metrics.RootMeanSquaredError()], weighted_metrics=["mse"]),
        RT.MeanSquaredError(), [RT.MeanMetricWrapper(RT.MeanAbsoluteError(reduction=None), name="mae"),
                                RT.RootMeanSquaredError()],
        fit=dict(sample_weight=WEIGHTS, validation_split=0.2),
        ours=dict(weighted_metrics=[RT.MeanMetricWrapper(RT.MeanSquaredError(reduction=None), name="mse")]))
    assert_same_history(theirs, ours)


def test_evaluate_and_predict_like_keras():
    theirs, ours, model, module = both(Y_INT, "softmax", dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
                                       RT.SparseCategoricalCrossentropy(), [RT.SparseCategoricalAccuracy(name="accuracy")])
    metrics = [RT.SparseCategoricalAccuracy(name="accuracy")]
    assert max_rel(model.evaluate(X, Y_INT, verbose=0), RT.evaluate(module, X, Y_INT, RT.SparseCategoricalCrossentropy(),
                                                                    metrics, verbose=0)) < 1e-5
    assert RT.evaluate(module, X, Y_INT, RT.SparseCategoricalCrossentropy(), verbose=0, return_dict=True).keys() == {"loss"}
    predicted = RT.predict(module, X, batch_size=7)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (70, 3)
    assert np.max(np.abs(model.predict(X, verbose=0) - predicted)) < 1e-5
    assert not module.training  # predict/evaluate leave the model in eval mode


def test_shuffle_draws_one_permutation_per_epoch(monkeypatch):
    """The parity checker replays Keras' batch order through torch.randperm: one call per epoch."""
    import keras

    orders = [np.random.default_rng(e).permutation(56) for e in range(3)]  # 70 samples, validation_split=0.2
    calls = []

    def randperm(n, *args, **kwargs):
        calls.append(n)
        return torch.from_numpy(orders[len(calls) - 1])

    monkeypatch.setattr(torch, "randperm", randperm)
    model, module = twins([keras.layers.Dense(3)], (5,))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x_train, y_train, x_val, y_val = X[:56], Y_REG[:56], X[56:], Y_REG[56:]
    keras_losses = []
    for epoch in range(3):  # Keras on the same order, epoch by epoch
        history = model.fit(x_train[orders[epoch]], y_train[orders[epoch]], batch_size=16, epochs=1, shuffle=False,
                            verbose=0, validation_data=(x_val, y_val))
        keras_losses += history.history["loss"]
    ours = RT.fit(module, X, Y_REG, RT.MeanSquaredError(), torch.optim.SGD(module.parameters(), lr=0.05), batch_size=16,
                  epochs=3, validation_split=0.2, verbose=0)
    assert calls == [56, 56, 56]
    assert max_rel(keras_losses, ours.history["loss"]) < 1e-5


def test_initial_epoch_and_history_epochs():
    theirs, ours, *_ = both(Y_REG, "linear", dict(loss="mse"), RT.MeanSquaredError(), fit=dict(epochs=4, initial_epoch=2))
    assert_same_history(theirs, ours)
    assert len(ours["loss"]) == 2


def test_data_loader_batches_are_used_as_they_come():
    import keras

    model, module = twins([keras.layers.Dense(3)], (5,))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    import tensorflow as tf

    history = model.fit(tf.data.Dataset.from_tensor_slices((X, Y_REG)).batch(20), epochs=2, verbose=0)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(Y_REG)), batch_size=20)
    ours = RT.fit(module, loader, None, RT.MeanSquaredError(), torch.optim.SGD(module.parameters(), lr=0.05), epochs=2, verbose=0)
    assert max_rel(history.history["loss"], ours.history["loss"]) < 1e-5


def test_steps_per_epoch_carries_the_batch_iterator_over_epochs():
    import keras

    model, module = twins([keras.layers.Dense(3)], (5,))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(X, Y_REG, batch_size=16, epochs=4, steps_per_epoch=3, shuffle=False, verbose=0)
    ours = RT.fit(module, X, Y_REG, RT.MeanSquaredError(), torch.optim.SGD(module.parameters(), lr=0.05), batch_size=16,
                  epochs=4, steps_per_epoch=3, shuffle=False, verbose=0)
    assert max_rel(history.history["loss"], ours.history["loss"]) < 1e-5


def test_early_stopping_restores_the_best_weights():
    import keras

    theirs, ours, model, module = both(
        Y_REG, "linear", dict(loss="mse"), RT.MeanSquaredError(), keras_lr=0.3,
        fit=dict(epochs=30, validation_split=0.3,
                 callbacks=[keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True, min_delta=0.01)]),
        ours=dict(callbacks=[RT.EarlyStopping(patience=1, restore_best_weights=True, min_delta=0.01)]))
    assert_same_history(theirs, ours)
    assert len(ours["loss"]) < 30
    assert max_rel(model.evaluate(X, Y_REG, verbose=0), RT.evaluate(module, X, Y_REG, RT.MeanSquaredError(), verbose=0)) < 1e-5


def test_early_stopping_in_max_mode_on_accuracy():
    import keras

    theirs, ours, *_ = both(
        Y_INT, "softmax", dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"]), RT.SparseCategoricalCrossentropy(),
        [RT.SparseCategoricalAccuracy(name="accuracy")], keras_lr=0.01,
        fit=dict(epochs=12, callbacks=[keras.callbacks.EarlyStopping(monitor="accuracy", patience=2)]),
        ours=dict(callbacks=[RT.EarlyStopping(monitor="accuracy", patience=2)]))
    assert_same_history(theirs, ours)


def test_reduce_lr_on_plateau_with_cooldown():
    import keras

    theirs, ours, *_ = both(
        Y_REG, "linear", dict(loss="mse"), RT.MeanSquaredError(), keras_lr=0.3,
        fit=dict(epochs=12, callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                                                          min_delta=0.05, cooldown=1, min_lr=0.02)]),
        ours=dict(callbacks=[RT.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=0.05, cooldown=1,
                                                  min_lr=0.02)]))
    assert_same_history(theirs, ours)
    assert min(ours["learning_rate"]) < 0.3


def test_learning_rate_scheduler_with_keras_sgd_momentum():
    import keras

    def schedule(epoch, lr):
        return lr * 0.5 if epoch > 1 else lr

    theirs, ours, *_ = both(
        Y_REG, "linear", dict(loss="mse"), RT.MeanSquaredError(), keras_lr=0.3,
        keras_optimizer=keras.optimizers.SGD(0.3, momentum=0.9), optimizer=lambda p: RT.KerasSGD(p, lr=0.3, momentum=0.9),
        fit=dict(epochs=5, callbacks=[keras.callbacks.LearningRateScheduler(schedule)]),
        ours=dict(callbacks=[RT.LearningRateScheduler(schedule)]))
    assert_same_history(theirs, ours)
    assert ours["learning_rate"][-1] == pytest.approx(0.3 * 0.5**3, rel=1e-6)


def test_csv_logger_and_model_checkpoint_files(tmp_path):
    import keras

    keras_csv, our_csv = tmp_path / "keras.csv", tmp_path / "ours.csv"
    theirs, ours, model, module = both(
        Y_REG, "linear", dict(loss="mse"), RT.MeanSquaredError(),
        fit=dict(validation_split=0.2, callbacks=[keras.callbacks.CSVLogger(str(keras_csv))]),
        ours=dict(callbacks=[RT.CSVLogger(str(our_csv)),
                             RT.ModelCheckpoint(str(tmp_path / "w_{epoch:02d}_{val_loss:.3f}.pt"), save_best_only=True)]))
    keras_rows = [line.split(",") for line in keras_csv.read_text().splitlines()]
    our_rows = [line.split(",") for line in our_csv.read_text().splitlines()]
    assert keras_rows[0] == our_rows[0] == ["epoch", "loss", "val_loss"]
    for keras_row, our_row in zip(keras_rows[1:], our_rows[1:]):
        assert keras_row[0] == our_row[0]
        assert max_rel([float(v) for v in keras_row[1:]], [float(v) for v in our_row[1:]]) < 1e-5
    saved = sorted(p.name for p in tmp_path.glob("w_*.pt"))
    assert saved and saved[0].startswith("w_01_")  # 1-based epochs, improvements only
    module.load_state_dict(torch.load(tmp_path / saved[-1]))


def test_terminate_on_nan_and_custom_callback_stop_training():
    class StopAfterTwo(RT.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    module = torch.nn.Linear(5, 3)
    history = RT.fit(module, X, Y_REG, RT.MeanSquaredError(), torch.optim.SGD(module.parameters(), lr=0.01), epochs=10,
                     callbacks=[StopAfterTwo()], verbose=0)
    assert history.epoch == [0, 1]
    exploding = RT.fit(module, X, Y_REG * 1e30, RT.MeanSquaredError(), torch.optim.SGD(module.parameters(), lr=1e10), epochs=10,
                       callbacks=[RT.TerminateOnNaN()], verbose=0)
    assert len(exploding.history["loss"]) == 1


def test_summary_counts_like_keras(capsys):
    import keras

    model, module = twins([keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.Dense(2)], (5,))
    RT.summary(module)
    out = capsys.readouterr().out
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert f"Total params: {model.count_params():,}" in out
    assert f"Trainable params: {trainable:,}" in out


def test_channels_first_model_gets_permuted_inputs_and_outputs():
    module = torch.nn.Conv2d(2, 2, 1)
    x = rng.standard_normal((6, 4, 4, 2)).astype("float32")  # Keras NHWC
    y = rng.standard_normal((6, 4, 4, 2)).astype("float32")
    predicted = RT.predict(module, x, input_permutations=[(0, 3, 1, 2)], output_permutation=(0, 3, 1, 2))
    expected = module(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).detach().numpy()
    assert predicted.shape == (6, 4, 4, 2) and np.allclose(predicted, expected, atol=1e-6)
    loss = RT.evaluate(module, x, y, RT.MeanSquaredError(), input_permutations=[(0, 3, 1, 2)],
                       output_permutation=(0, 3, 1, 2), verbose=0)
    assert loss == pytest.approx(float(np.mean((expected - y) ** 2)), rel=1e-5)


def test_float64_arrays_become_float32():
    module = torch.nn.Linear(5, 3)
    history = RT.fit(module, X.astype("float64"), Y_REG.astype("float64"), RT.MeanSquaredError(),
                     torch.optim.SGD(module.parameters(), lr=0.01), verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_py_dataset_batches_by_index_with_on_epoch_end():
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, index):
            rows = slice(index * 16, (index + 1) * 16)
            return X[rows], Y_REG[rows]

        def on_epoch_end(self):
            self.epochs_ended += 1

    model, module = twins([keras.layers.Dense(3)], (5,))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    theirs, ours = Batches(), Batches()
    history = model.fit(theirs, epochs=3, shuffle=False, verbose=0)
    our_history = RT.fit(module, ours, None, RT.MeanSquaredError(), torch.optim.SGD(module.parameters(), lr=0.05), epochs=3,
                         shuffle=False, verbose=0)
    assert max_rel(history.history["loss"], our_history.history["loss"]) < 1e-5
    assert ours.epochs_ended == 3


def test_train_test_predict_on_batch_like_keras():
    import keras

    model, module = twins([keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3, activation="softmax")], (5,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    optimizer, metrics = RT.KerasAdam(module.parameters()), [RT.SparseCategoricalAccuracy(name="accuracy")]
    for start in (0, 20, 40):
        rows = slice(start, start + 20)
        theirs = model.train_on_batch(X[rows], Y_INT[rows])
        ours = RT.train_on_batch(module, X[rows], Y_INT[rows], RT.SparseCategoricalCrossentropy(), optimizer, metrics)
        assert max_rel(theirs, ours) < 1e-5
    assert max_rel(model.test_on_batch(X[:30], Y_INT[:30]),
                   RT.test_on_batch(module, X[:30], Y_INT[:30], RT.SparseCategoricalCrossentropy(), metrics)) < 1e-5
    assert np.max(np.abs(model.predict_on_batch(X[:9]) - RT.predict_on_batch(module, X[:9]))) < 1e-6

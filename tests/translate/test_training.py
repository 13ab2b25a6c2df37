"""The training transformation: before/after sources, no-op cases, and one script trained end to end
by Keras and by its translation (tf2torch translate --verify's checker)."""
import textwrap

import pytest

from test_training_helpers import body, model_info, translate


def after(code, models=None):
    source, state = translate(textwrap.dedent(code), models)
    return body(source), state


SOFTMAX_MODEL = {"model": model_info(activation="softmax")}

FIX_CASES = [
    pytest.param(
        """
        import tensorflow as tf
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x_train, y_train, epochs=100)
        """,
        """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # Keras 'sgd'
        loss_fn = MeanSquaredError()  # Keras 'mse'
        fit(model, x_train, y_train, loss_fn, optimizer, batch_size=32, epochs=100, shuffle=True)
        """, id="sgd-mse-defaults-written-out"),
    pytest.param(
        """
        from tensorflow import keras
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, validation_split=0.2, epochs=3, verbose=2)
        loss, acc = model.evaluate(x_test, y_test)
        probabilities = model.predict(x_test)
        """,
        """
        optimizer = KerasAdam(model.parameters(), lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)  # Keras 'adam' (epsilon-hat form, unlike torch.optim.Adam)
        loss_fn = SparseCategoricalCrossentropy(from_logits=False)  # Keras 'sparse_categorical_crossentropy'
        metrics = [SparseCategoricalAccuracy(name="accuracy")]
        history = fit(model, x, y, loss_fn, optimizer, metrics=metrics, batch_size=32, epochs=3, shuffle=True, validation_split=0.2, verbose=2)
        loss, acc = evaluate(model, x_test, y_test, loss_fn, metrics=metrics, batch_size=32)
        probabilities = predict(model, x_test, batch_size=32)
        """, id="adam-sparse-accuracy-evaluate-predict"),
    pytest.param(
        """
        import keras
        opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        model.compile(opt, keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["acc", "top_k_categorical_accuracy"])
        """,
        """
        opt = KerasSGD(model.parameters(), lr=0.1, momentum=0.9)  # Keras SGD(learning_rate=0.1, momentum=0.9) (momentum of lr-scaled gradients, unlike torch.optim.SGD)
        loss_fn = CategoricalCrossentropy(label_smoothing=0.1)
        metrics = [CategoricalAccuracy(name="acc"), TopKCategoricalAccuracy(name="top_k_categorical_accuracy")]
        """, id="optimizer-variable-moved-to-the-parameters"),
    pytest.param(
        """
        import tensorflow as tf
        schedule = tf.keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.9, name="decay")
        model.compile(optimizer=tf.keras.optimizers.AdamW(learning_rate=schedule, global_clipnorm=1.0), loss="binary_crossentropy")
        """,
        """
        schedule = ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.9)
        optimizer = KerasAdam(model.parameters(), lr=schedule, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004, global_clipnorm=1.0)  # Keras AdamW(learning_rate=schedule, global_clipnorm=1.0) (epsilon-hat form, decoupled weight decay)
        loss_fn = BinaryCrossentropy(from_logits=False)  # Keras 'binary_crossentropy'
        """, id="schedule-adamw-clipping"),
    pytest.param(
        """
        import keras
        model.compile(optimizer=keras.optimizers.Nadam(), loss=keras.losses.mean_absolute_error, metrics=[keras.metrics.AUC(name="auc")])
        """,
        """
        optimizer = torch.optim.NAdam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7, momentum_decay=1.0)  # Keras Nadam() (momentum_decay=1.0: Keras' momentum schedule)
        loss_fn = MeanAbsoluteError()  # Keras mean_absolute_error
        metrics = [AUC(name="auc")]
        """, id="nadam-torch-loss-function-auc"),
    pytest.param(
        """
        from tensorflow.keras import callbacks
        cbs = [callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
               callbacks.ModelCheckpoint("ckpt/best.keras", save_best_only=True),
               callbacks.ReduceLROnPlateau(factor=0.5), callbacks.CSVLogger("log.csv")]
        """,
        """
        cbs = [EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
               ModelCheckpoint("ckpt/best.pt", save_best_only=True),
               ReduceLROnPlateau(factor=0.5), CSVLogger("log.csv")]
        """, id="callbacks"),
    pytest.param(
        """
        import tensorflow as tf
        model.compile(optimizer="adam", loss="mse")
        model.save("net.h5")
        model.save_weights("net.weights.h5")
        model.load_weights("net.weights.h5")
        model.summary()
        """,
        """
        optimizer = KerasAdam(model.parameters(), lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)  # Keras 'adam' (epsilon-hat form, unlike torch.optim.Adam)
        loss_fn = MeanSquaredError()  # Keras 'mse'
        torch.save(model.state_dict(), "net.pt")
        torch.save(model.state_dict(), "net.weights.pt")
        model.load_state_dict(torch.load("net.weights.pt"))
        summary(model)
        """, id="save-load-summary"),
    pytest.param(
        """
        import tensorflow as tf
        model.compile(optimizer=tf.keras.optimizers.RMSprop(0.01), loss="mse")
        model.optimizer.learning_rate.assign(0.001)
        print(float(model.optimizer.lr))
        """,
        """
        optimizer = KerasRMSprop(model.parameters(), lr=0.01, rho=0.9, epsilon=1e-7)  # Keras RMSprop(0.01) (epsilon inside the sqrt, unlike torch.optim.RMSprop)
        loss_fn = MeanSquaredError()  # Keras 'mse'
        for group in optimizer.param_groups:
            group["lr"] = 0.001
        print(float(optimizer.param_groups[0]["lr"]))
        """, id="learning-rate-reads-and-writes"),
]


@pytest.mark.parametrize("before, expected", FIX_CASES)
def test_translation(before, expected):
    source, state = after(before)
    assert source == textwrap.dedent(expected).strip()
    assert not state.todos


NOOP_CASES = [
    pytest.param("""
        from sklearn.ensemble import RandomForestClassifier
        clf = RandomForestClassifier()
        clf.fit(X, y)
        print(clf.predict(X), clf.evaluate(X))
        clf.save("forest.bin")
        """, id="sklearn-estimator"),
    pytest.param("""
        import torch
        net = torch.nn.Linear(3, 3)
        net.compile(mode="max-autotune")
        net.fit(x, y)
        """, id="torch-module-compile"),
    pytest.param("""
        model.fit(x, y)
        model.predict(x)
        model.save("weights.bin")
        """, id="unknown-receiver-without-keras-keywords"),
    pytest.param("""
        import tensorflow as tf
        optimizer = tf.keras.optimizers.Adam()
        """, id="optimizer-without-parameters-left-for-the-leftovers-step"),
]


@pytest.mark.parametrize("code", NOOP_CASES)
def test_no_change(code):
    code = textwrap.dedent(code)
    source, state = translate(code)
    assert source == code
    assert not state.runtime and not state.todos


def test_keras_only_keywords_make_an_unknown_receiver_a_keras_model():
    source, _ = translate(textwrap.dedent("""
        def train(model, x, y):
            return model.fit(x, y, epochs=5, validation_data=(x, y))
        """))
    assert "# TODO(tf2torch): no compile() of `model` found: define loss_fn and optimizer" in source
    assert "return fit(model, x, y, loss_fn, optimizer, batch_size=32, epochs=5, shuffle=True, validation_data=(x, y))" in source


def test_compile_in_a_function_that_returns_the_model_stores_the_objects_on_it():
    source, _ = translate(textwrap.dedent("""
        def make_model():
            model = Net()
            model.compile(optimizer="adam", loss="mse", metrics=["mae"])
            return model

        clone = make_model()
        clone.fit(x, y, epochs=2)
        """))
    assert "    model.optimizer = KerasAdam(model.parameters()" in source
    assert "    model.loss_fn = MeanSquaredError()" in source
    assert "fit(clone, x, y, clone.loss_fn, clone.optimizer, metrics=clone.metrics, batch_size=32, epochs=2, shuffle=True)" in source


def test_channels_first_models_get_their_permutations():
    models = {"model": model_info(inputs=[(0, 3, 1, 2)], outputs=[(0, 3, 1, 2)])}
    source, _ = after("""
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, epochs=1)
        model.predict(x)
        """, models)
    assert "input_permutations=[(0, 3, 1, 2)], output_permutation=(0, 3, 1, 2))" in source
    assert "predict(model, x, batch_size=32, input_permutations=[(0, 3, 1, 2)], output_permutation=(0, 3, 1, 2))" in source


def test_from_logits_true_on_a_softmax_output_becomes_probabilities():
    source, state = after("""
        import keras
        model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        """, SOFTMAX_MODEL)
    assert "loss_fn = SparseCategoricalCrossentropy(from_logits=False)  # Keras on TensorFlow ignores from_logits=True" in source
    assert not state.todos


def test_mismatched_activation_and_crossentropy_get_a_todo():
    source, _ = after("""
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        """, SOFTMAX_MODEL)
    assert "# TODO(tf2torch): Keras on TensorFlow computes this BinaryCrossentropy from the logits before" in source


def test_from_logits_on_an_unknown_model_gets_a_todo():
    source, _ = after("""
        import keras
        model = build()
        model.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
        """)
    assert "# TODO(tf2torch): from_logits=True: if the model ends with a softmax/sigmoid" in source


def test_untranslatable_compile_and_its_fit_stay_with_todos():
    source, state = after("""
        import keras
        model.compile(optimizer=keras.optimizers.Ftrl(), loss="mse", metrics=["accuracy"])
        model.fit(x, y, epochs=2)
        """)
    assert source == textwrap.dedent("""
        # TODO(tf2torch): compile kept as is: keras.optimizers.Ftrl is not translated
        model.compile(optimizer=keras.optimizers.Ftrl(), loss="mse", metrics=["accuracy"])
        # TODO(tf2torch): `model.fit(...)` kept as is: its compile() was not translated
        model.fit(x, y, epochs=2)
        """).strip()
    assert not state.runtime  # nothing of the abandoned translation is emitted


def test_optimizer_of_an_untranslatable_compile_stays_in_place():
    source, _ = after("""
        import keras
        opt = keras.optimizers.Adam(1e-3)
        model.compile(optimizer=opt, loss=keras.losses.Dice())
        """)
    assert source.startswith("opt = keras.optimizers.Adam(1e-3)\n# TODO(tf2torch): compile kept as is")


def test_keras_model_not_converted_keeps_its_keras_objects():
    source, _ = after("""
        import tensorflow as tf
        model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse", metrics=[tf.keras.metrics.Recall()])
        model.fit(x, y, callbacks=[tf.keras.callbacks.EarlyStopping()])
        """)
    assert "metrics=[tf.keras.metrics.Recall()]" in source
    assert "model.fit(x, y, callbacks=[tf.keras.callbacks.EarlyStopping()])" in source
    assert "is still a Keras model (not converted)" in source


def test_unsupported_metric_is_left_out_with_a_todo():
    source, _ = after("""
        import keras
        model.compile(optimizer="sgd", loss="mse", metrics=["mae", keras.metrics.MeanIoU(num_classes=3)])
        """)
    assert "# TODO(tf2torch): metric `keras.metrics.MeanIoU(num_classes=3)` left out" in source
    assert 'metrics = [MeanMetricWrapper(MeanSquaredError' not in source
    assert 'metrics = [MeanMetricWrapper(MeanAbsoluteError(reduction=None), name="mae")]' in source


def test_generated_names_avoid_the_script_names():
    source, _ = after("""
        from sklearn import metrics
        loss_fn = "not a loss"
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        model.fit(x, y)
        """)
    assert "loss_fn_2 = MeanSquaredError()" in source and "metrics_2 = [" in source
    assert "fit(model, x, y, loss_fn_2, optimizer, metrics=metrics_2" in source


def test_custom_loss_and_metric_functions_are_wrapped_like_keras():
    source, _ = after("""
        def my_loss(y_true, y_pred):
            return ((y_true - y_pred) ** 2).mean(-1)

        def max_error(y_true, y_pred):
            return abs(y_true - y_pred).max(-1)

        model.compile(optimizer="sgd", loss=my_loss, metrics=[max_error])
        """)
    assert "loss_fn = LossFunctionWrapper(my_loss)  # Keras wraps a loss function" in source
    assert "metrics = [MeanMetricWrapper(max_error)]" in source


def test_callback_subclass_and_optimizer_in_a_custom_loop():
    source, _ = translate(textwrap.dedent("""
        import tensorflow as tf
        class Printer(tf.keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                print(self.model.optimizer.learning_rate)

        model = Net()
        optimizer = tf.keras.optimizers.RMSprop(1e-3, rho=0.8)
        for x, y in data:
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        """))
    assert "class Printer(Callback):" in source
    assert 'print(self.optimizer.param_groups[0]["lr"])' in source
    assert "optimizer = KerasRMSprop(model.parameters(), lr=1e-3, rho=0.8, epsilon=1e-7)" in source


def test_load_weights_of_a_file_the_script_did_not_write_gets_a_todo():
    source, _ = after("""
        model.compile(optimizer="sgd", loss="mse")
        model.load_weights("pretrained.h5")
        """)
    assert "# TODO(tf2torch): 'pretrained.h5' is not written by this script" in source
    source, _ = after("""
        from tensorflow import keras
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, callbacks=[keras.callbacks.ModelCheckpoint("ck/e{epoch:02d}.weights.h5")])
        model.load_weights("ck/e03.weights.h5")
        """)
    assert "TODO" not in source and 'model.load_state_dict(torch.load("ck/e03.weights.pt"))' in source


def test_imports_for_the_runtime_are_added():
    source, state = translate("import keras\nmodel.compile(optimizer='adam', loss='mse')\nmodel.fit(x, y)\n")
    assert {"import torch", "import numpy as np", "import math", "import time", "import itertools"} <= state.imports
    assert "def fit(model, x, y=None" in source and "class KerasAdam(KerasOptimizer):" in source
    assert "import keras" not in source


def test_translated_script_trains_like_keras(tmp_path):
    """The whole path: a script translated (models + training) and trained by both frameworks with the
    same initial weights and batch orders (tf2torch.translate.parity), per-epoch losses compared."""
    from unittest import mock

    from tf2torch.translate import parity, runner

    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import tensorflow as tf

        rng = np.random.default_rng(0)
        x = rng.standard_normal((96, 6)).astype("float32")
        y = rng.integers(0, 3, size=(96,))
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(6,)),
            tf.keras.layers.Dense(16, activation="relu"),
            tf.keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0)
        """))
    with mock.patch.object(runner, "ORDER", ["models", "training"]):
        translation = runner.translate_source(script.read_text())
    assert translation.complete, translation.todos
    translated = tmp_path / "train_torch.py"
    translated.write_text(translation.source)
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

    assert parity.verify_script(script, translated, timeout=300, out=Out()), "".join(lines)

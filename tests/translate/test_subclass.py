"""Subclassed keras.Model / keras.layers.Layer -> nn.Module (transforms/subclass.py).

Before/after tests run the subclass step alone; executable tests run the whole translation and
compare the torch module with the Keras class (same weights) in train and eval modes.
"""
import runpy
import textwrap

import keras
import libcst as cst
import numpy as np
import pytest
import torch
from libcst.codemod import CodemodContext

from tf2torch.translate import translate_source
from tf2torch.translate.base import state_of
from tf2torch.translate.transforms.subclass import TRANSFORM


def source(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def step(code: str):
    """The subclass step alone: (output source, state)."""
    context = CodemodContext(filename="t.py")
    out = TRANSFORM(context).transform_module(cst.parse_module(source(code))).code
    compile(out, "t.py", "exec")
    return out, state_of(context)


def translate(code: str):
    result = translate_source(textwrap.dedent(code))
    assert result.error is None
    compile(result.source, "out.py", "exec")
    return result


def run_translation(source: str, tmp_path) -> dict:
    path = tmp_path / "translated.py"
    path.write_text(source)
    return runpy.run_path(str(path), run_name="translated")


def run_keras(code: str) -> dict:
    keras.utils.clear_session()
    namespace: dict = {}
    exec(compile(textwrap.dedent(code), "keras_source.py", "exec"), namespace)  # the test's own Keras code
    return namespace


def set_dense(linear, dense):
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(np.asarray(dense.kernel).T))
        linear.bias.copy_(torch.from_numpy(np.asarray(dense.bias)))


def set_conv(conv, keras_conv):  # Keras kernel (kh, kw, in, out) -> torch (out, in, kh, kw)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(np.asarray(keras_conv.kernel).transpose(3, 2, 0, 1)))
        conv.bias.copy_(torch.from_numpy(np.asarray(keras_conv.bias)))


def set_batch_norm(bn, keras_bn):
    with torch.no_grad():
        for torch_name, keras_name in [("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                       ("running_var", "moving_variance")]:
            getattr(bn, torch_name).copy_(torch.from_numpy(np.asarray(getattr(keras_bn, keras_name))))


def randomise(layer, rng):
    """Random values in every Keras weight (BN statistics positive), so that nothing is trivially 0 or 1."""
    for w in layer.weights:
        value = rng.standard_normal(tuple(w.shape)).astype("float32")
        w.assign(np.abs(value) + 0.5 if "variance" in w.path else value)


# ------------------------------------------------------------------------------------------------
# before / after
# ------------------------------------------------------------------------------------------------
MLP = '''
import tensorflow as tf


class Classifier(tf.keras.Model):
    def __init__(self, hidden=64, num_classes=3, dropout=0.25, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.dense1 = tf.keras.layers.Dense(hidden, activation="relu")
        self.dropout = tf.keras.layers.Dropout(dropout)
        self.dense2 = tf.keras.layers.Dense(hidden // 2, activation="relu")
        self.out = tf.keras.layers.Dense(num_classes)

    def call(self, inputs, training=None):
        x = self.dense1(inputs)
        x = self.dropout(x, training=training)
        x = self.dense2(x)
        return self.out(x)

    def get_config(self):
        return {"hidden": self.hidden}


model = Classifier(hidden=48)
'''

MLP_AFTER = '''
import tensorflow as tf


class Classifier(nn.Module):
    def __init__(self, hidden=64, num_classes=3, dropout=0.25):
        super().__init__()
        self.hidden = hidden
        self.dense1 = nn.LazyLinear(hidden)
        self.dropout = nn.Dropout(dropout)
        self.dense2 = nn.Linear(hidden, hidden // 2)
        self.out = nn.Linear(hidden // 2, num_classes)

    def forward(self, inputs):
        x = F.relu(self.dense1(inputs))
        x = self.dropout(x)
        x = F.relu(self.dense2(x))
        return self.out(x)

    def get_config(self):
        return {"hidden": self.hidden}


model = Classifier(hidden=48)
'''


def test_mlp_before_after():
    out, state = step(MLP)
    assert out == source(MLP_AFTER)
    assert state.models["model"].class_name == "Classifier"
    assert state.models["model"].output_activation is None
    assert {"from torch import nn", "import torch.nn.functional as F"} <= state.imports


LAYER_WITH_WEIGHTS = '''
import keras


class ScaledDense(keras.layers.Layer):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")
        self.gain = self.add_weight(shape=(), initializer=keras.initializers.Constant(2.0), trainable=False)
        super().build(input_shape)

    def call(self, inputs, training=None):
        outputs = (inputs @ self.kernel + self.bias) * self.gain
        if training:
            outputs = outputs * self.scale
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "scale": self.scale})
        return config
'''

LAYER_WITH_WEIGHTS_AFTER = '''
import keras


class ScaledDense(nn.Module):
    def __init__(self, units, scale=1.0):
        super().__init__()
        self.units = units
        self.scale = scale
        self.kernel = nn.UninitializedParameter()
        self.bias = nn.Parameter(torch.zeros((self.units,)))
        self.register_buffer("gain", torch.full((), 2.0))
        self.built = False

    def build(self, input_shape):
        self.kernel.materialize((input_shape[-1], self.units))
        nn.init.xavier_uniform_(self.kernel)

    def forward(self, inputs):
        # Keras builds the layer's weights on the first call, from the input shape
        if not self.built:
            self.build(inputs.shape)
            self.built = True
        outputs = (inputs @ self.kernel + self.bias) * self.gain
        if self.training:
            outputs = outputs * self.scale
        return outputs

    def get_config(self):
        # Keras' base config (name, trainable, dtype) has no nn.Module counterpart
        config = {}
        config.update({"units": self.units, "scale": self.scale})
        return config
'''


def test_layer_with_weights_before_after():
    out, state = step(LAYER_WITH_WEIGHTS)
    assert out == source(LAYER_WITH_WEIGHTS_AFTER)
    assert "import torch" in state.imports and not state.models


def test_static_weights_only_need_no_build():
    out, _ = step('''
        from keras import layers, initializers


        class Bias(layers.Layer):
            def __init__(self, n):
                super().__init__()
                self.n = n

            def build(self, input_shape):
                self.b = self.add_weight(shape=(self.n,), initializer=initializers.RandomNormal(stddev=0.01))
                self.w = self.add_weight(shape=(self.n, 4), initializer="he_normal")

            def call(self, x):
                return x + self.b
        ''')
    assert "def build" not in out and "self.built" not in out
    assert "self.b = nn.Parameter(torch.empty((self.n,)))\n        nn.init.normal_(self.b, mean=0.0, std=0.01)" in out
    assert "variance_scaling_(self.w, scale=2.0, mode='fan_in', distribution='truncated_normal')" in out


def test_known_input_shape_gives_real_sizes_and_permutes_spatial_layers():
    out, state = step('''
        import tensorflow as tf
        from tensorflow.keras import layers


        class Net(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.conv = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")
                self.bn = layers.BatchNormalization()
                self.flat = layers.Flatten()
                self.fc = layers.Dense(10, activation="softmax")

            def call(self, x, training=False):
                x = self.bn(self.conv(x), training=training)
                return self.fc(self.flat(x))


        net = Net()
        net.build((None, 15, 15, 3))
        ''')
    assert "self.conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)" in out
    assert "self.bn = nn.BatchNorm2d(8, eps=0.001, momentum=0.01)" in out
    assert "self.fc = nn.Linear(512, 10)" in out and "self.flat" not in out
    # permutes to channels-first and back around each spatial layer; back-and-forth pairs cancel
    assert "x = self.bn(F.relu(self.conv(x.permute(0, 3, 1, 2)))).movedim(1, 3)" in out
    assert "return F.softmax(self.fc(x.flatten(1)), dim=-1)" in out
    assert "net.build" not in out  # the sizes are in the class: nothing to build
    assert state.models["net"].output_activation == "softmax"


def test_sizes_flow_through_nested_custom_layers():
    out, _ = step('''
        import keras
        from keras import layers


        class Block(layers.Layer):
            def __init__(self, filters):
                super().__init__()
                self.conv = layers.Conv2D(filters, 3)

            def call(self, x):
                return keras.ops.relu(self.conv(x))


        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.block = Block(4)
                self.head = layers.Dense(2)

            def call(self, x, training=None):
                x = self.block(x, training=training)
                return self.head(keras.ops.mean(x, axis=(1, 2)))


        model = Net()
        model(keras.Input(shape=(9, 9, 3)))
        ''')
    assert "self.conv = nn.LazyConv2d(filters, kernel_size=3)" in out  # Block alone: input channels unknown
    assert "self.head = nn.Linear(4, 2)" in out  # through Block: 4 channels
    assert "x = self.block(x)\n" in out
    assert "keras.Input" in out  # Net is not fully sized (Block's conv is lazy): its build call stays


def test_lists_of_layers_become_module_lists():
    out, _ = step('''
        import tensorflow as tf
        from tensorflow.keras import layers


        class Res(layers.Layer):
            def __init__(self, units):
                super().__init__()
                self.d = layers.Dense(units)

            def call(self, x):
                return x + self.d(x)


        class Stack(tf.keras.Model):
            def __init__(self, depth=3, width=32):
                super().__init__()
                self.blocks = [layers.Dense(width, activation="relu") for _ in range(depth)]
                self.pair = [layers.Dense(16), layers.Dense(8, activation="tanh")]
                self.res = [Res(8) for i in range(2)]

            def call(self, x, training=False):
                for block in self.blocks:
                    x = block(x)
                x = self.pair[1](self.pair[0](x))
                for i, r in enumerate(self.res):
                    x = r(x, training=training)
                return x
        ''')
    assert "self.blocks = nn.ModuleList([nn.LazyLinear(width) for _ in range(depth)])" in out
    assert "self.pair = nn.ModuleList([nn.LazyLinear(16), nn.LazyLinear(8)])" in out
    assert "self.res = nn.ModuleList([Res(8) for i in range(2)])" in out
    assert "x = F.relu(block(x))" in out and "x = torch.tanh(self.pair[1](self.pair[0](x)))" in out
    assert "x = r(x)\n" in out


def test_sequential_attribute_becomes_its_own_class():
    out, state = step('''
        from tensorflow import keras


        class Regressor(keras.Model):
            def __init__(self, width):
                super().__init__()
                self.body = keras.Sequential([keras.layers.Dense(width, activation="relu"), keras.layers.Dense(1)])

            def call(self, inputs, training=None):
                return self.body(inputs, training=training)
        ''')
    assert "self.body = Body(width)" in out and "return self.body(inputs)" in out
    body = "\n".join(state.classes)
    assert "class Body(nn.Module):" in body and "def __init__(self, width):" in body
    assert "self.dense = nn.LazyLinear(width)" in body and "self.dense_1 = nn.Linear(width, 1)" in body


@pytest.mark.parametrize("layer, ctor, forward", [
    pytest.param("layers.Dropout(0.3)", "nn.Dropout(0.3)", "self.m(x)", id="dropout"),
    pytest.param("layers.SpatialDropout1D(rate)", "nn.Dropout1d(rate)", "self.m(x.transpose(1, 2)).transpose(1, 2)", id="spatial-1d"),
    pytest.param("layers.GaussianNoise(0.1)", "GaussianNoise(0.1)", "self.m(x)", id="gaussian-noise"),
    pytest.param("layers.AlphaDropout(0.1)", "nn.AlphaDropout(0.1)", "self.m(x)", id="alpha-dropout"),
    pytest.param("layers.BatchNormalization(momentum=0.9, input_shape=(5,))", "nn.BatchNorm1d(5, eps=0.001, momentum=0.1)",
                 "self.m(x)", id="batch-norm-momentum"),
])
def test_train_time_layers_act_in_training(layer, ctor, forward):
    out, state = step(f'''
        from keras import layers


        class M(layers.Layer):
            def __init__(self, rate=0.2):
                super().__init__()
                self.m = {layer}

            def call(self, x, training=None):
                return self.m(x, training=training)
        ''')
    assert f"self.m = {ctor}" in out and f"return {forward}" in out
    if "Gaussian" in ctor:
        assert "GaussianNoise" in state.runtime


@pytest.mark.parametrize("code, why", [
    pytest.param("self.m = layers.BatchNormalization()", "depends on the rank of its input", id="rank-unknown"),
    pytest.param("self.m = layers.LayerNormalization()", "no lazy version", id="size-unknown"),
    pytest.param("self.m = layers.MelSpectrogram()", "not supported by the model converter", id="unsupported"),
    pytest.param("self.m = layers.Hashing(8)", "convert the model from the layer after it", id="refused"),
    pytest.param("self.m = layers.Dense(8, use_bias=flag)", "`flag`", id="flag-argument"),
    pytest.param("self.m = layers.Dense(8, activation=act)", "cannot rebuild Dense statically", id="unknown-activation"),
    pytest.param("self.m = layers.Dropout(0.5, noise_shape=(None, 1, 8))", "noise_shape", id="noise-shape"),
    pytest.param("self.m = layers.LSTM(8, dropout=0.2)", "per gate", id="recurrent-dropout"),
])
def test_untranslatable_layers_stay_with_a_todo(code, why):
    out, _ = step(f'''
        from keras import layers


        class M(layers.Layer):
            def __init__(self, flag=True, act="relu"):
                super().__init__()
                {code}

            def call(self, x):
                return self.m(x)
        ''')
    line = next(line for line in out.splitlines() if "TODO(tf2torch)" in line)
    assert why in line
    assert code in out and "return self.m(x)" in out  # left as it was, never guessed
    assert "class M(nn.Module)" in out


def test_training_gaps_are_todos_but_the_layer_is_translated():
    out, _ = step('''
        from keras import layers, regularizers


        class M(layers.Layer):
            def __init__(self):
                super().__init__()
                self.d = layers.Dense(4, kernel_regularizer=regularizers.L2(0.01), kernel_initializer="he_normal")

            def call(self, x):
                return self.d(x)
        ''')
    assert "self.d = nn.LazyLinear(4)" in out
    assert "kernel_regularizer=regularizers.L2(0.01) is not applied" in out and "kernel_initializer" in out


def test_mask_and_explicit_training_values():
    out, _ = step('''
        import keras


        class M(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.drop = keras.layers.Dropout(0.5)

            def call(self, inputs, mask=None, training=None):
                y = self.drop(inputs, training=True)
                return y if training else inputs
        ''')
    assert "def forward(self, inputs):" in out
    assert "y = self.drop(inputs, training=True)" in out and "training=True" in next(l for l in out.splitlines() if "TODO" in l)
    assert "return y if self.training else inputs" in out


def test_kwargs_kept_when_callers_pass_keras_arguments():
    out, _ = step('''
        import tensorflow as tf


        class M(tf.keras.layers.Layer):
            def __init__(self, units, **kwargs):
                super(M, self).__init__(name="m", **kwargs)
                self.units = units

            def call(self, x):
                return x


        m = M(3, name="first")
        ''')
    assert "def __init__(self, units, **kwargs):" in out and "super(M, self).__init__()" in out


@pytest.mark.parametrize("header, base", [
    pytest.param("import tensorflow as tf", "tf.keras.Model", id="tf.keras"),
    pytest.param("from tensorflow import keras", "keras.Model", id="tensorflow-keras"),
    pytest.param("from tensorflow.keras import Model", "Model", id="from-tensorflow.keras"),
    pytest.param("import keras", "keras.models.Model", id="keras.models"),
    pytest.param("from keras import layers", "layers.Layer", id="keras3-layers"),
    pytest.param("from tensorflow.keras.layers import Layer", "Layer", id="Layer-imported"),
    pytest.param("import tf_keras", "tf_keras.layers.Layer", id="tf_keras"),
])
def test_import_styles(header, base):
    out, _ = step(f'''
        {header}


        class M({base}):
            def call(self, inputs, training=None):
                return inputs * 2.0 if training else inputs
        ''')
    assert "class M(nn.Module):" in out and "def forward(self, inputs):" in out and "self.training" in out


@pytest.mark.parametrize("code", [
    pytest.param('''
        class Scorer:
            def call(self, inputs, training=None):
                return inputs if training else None
        ''', id="plain-class-with-call"),
    pytest.param('''
        import keras


        class Acc(keras.metrics.Metric):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.total = self.add_weight(shape=(), initializer="zeros")

            def update_state(self, y_true, y_pred, sample_weight=None):
                self.total.assign_add(1.0)
        ''', id="keras-metric"),
    pytest.param('''
        import torch


        class Net(torch.nn.Module):
            def forward(self, x, training=None):
                return x
        ''', id="torch-module"),
])
def test_no_op(code):
    out, state = step(code)
    assert out == source(code)
    assert not state.imports and not state.todos


# ------------------------------------------------------------------------------------------------
# executable: torch vs Keras with the same weights
# ------------------------------------------------------------------------------------------------
MLP_BN = '''
import tensorflow as tf


class Classifier(tf.keras.Model):
    def __init__(self, hidden=16, num_classes=3, dropout=0.25, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = tf.keras.layers.Dense(hidden, activation="relu")
        self.bn = tf.keras.layers.BatchNormalization(momentum=0.9)
        self.dropout = tf.keras.layers.Dropout(dropout)
        self.dense2 = tf.keras.layers.Dense(hidden // 2, activation="tanh")
        self.out = tf.keras.layers.Dense(num_classes, activation="softmax")

    def call(self, inputs, training=None):
        x = self.dense1(inputs)
        x = self.bn(x, training=training)
        x = self.dropout(x, training=training)
        return self.out(self.dense2(x))


model = Classifier()
model.build((None, 5))  # BatchNormalization needs the input rank
'''


@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_subclassed_mlp_matches_keras_in_train_and_eval_modes(dropout, tmp_path):
    result = translate(MLP_BN)
    assert result.complete, result.todos
    Torch = run_translation(result.source, tmp_path)["Classifier"]
    Keras = run_keras(MLP_BN)["Classifier"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype("float32")
    keras_model = Keras(hidden=12, dropout=dropout)
    keras_model(x)
    randomise(keras_model, rng)
    torch_model = Torch(hidden=12, dropout=dropout)
    torch_model.eval()
    with torch.no_grad():
        torch_model(torch.from_numpy(x))  # materialises the lazy first layer
    set_dense(torch_model.dense1, keras_model.dense1)
    set_batch_norm(torch_model.bn, keras_model.bn)
    set_dense(torch_model.dense2, keras_model.dense2)
    set_dense(torch_model.out, keras_model.out)
    with torch.no_grad():
        np.testing.assert_allclose(torch_model(torch.from_numpy(x)).numpy(), keras_model(x, training=False).numpy(), rtol=1e-5, atol=1e-6)
    if dropout:  # train mode is random with dropout: only check that it is active, like Keras'
        torch_model.train()
        with torch.no_grad():
            assert not np.allclose(torch_model(torch.from_numpy(x)).numpy(), torch_model.eval()(torch.from_numpy(x)).numpy())
        return
    torch_model.train()  # batch statistics, and the moving mean updated with Keras' momentum
    with torch.no_grad():
        got = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, keras_model(x, training=True).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(torch_model.bn.running_mean.numpy(), np.asarray(keras_model.bn.moving_mean), rtol=1e-5, atol=1e-6)


LAYER_NUMERIC = LAYER_WITH_WEIGHTS + '''

class Model(keras.Model):
    def __init__(self):
        super().__init__()
        self.scaled = ScaledDense(4, scale=0.5)
        self.head = keras.layers.Dense(2)

    def call(self, x, training=False):
        return self.head(self.scaled(x, training=training))
'''


def test_layer_with_add_weight_matches_keras_in_train_and_eval_modes(tmp_path):
    result = translate(LAYER_NUMERIC)
    assert result.complete, result.todos
    Torch = run_translation(result.source, tmp_path)["Model"]
    Keras = run_keras(LAYER_NUMERIC)["Model"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 7)).astype("float32")
    keras_model = Keras()
    keras_model(x)
    randomise(keras_model, rng)
    torch_model = Torch()
    with torch.no_grad():
        torch_model(torch.from_numpy(x))  # builds the lazy kernel (Keras' build on first call)
        assert tuple(torch_model.scaled.kernel.shape) == (7, 4)
        torch_model.scaled.kernel.copy_(torch.from_numpy(np.asarray(keras_model.scaled.kernel)))  # Keras layout kept
        torch_model.scaled.bias.copy_(torch.from_numpy(np.asarray(keras_model.scaled.bias)))
        torch_model.scaled.gain.copy_(torch.from_numpy(np.asarray(keras_model.scaled.gain)))
    set_dense(torch_model.head, keras_model.head)
    for training in (False, True):
        torch_model.train(training)
        with torch.no_grad():
            got = torch_model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, keras_model(x, training=training).numpy(), rtol=1e-5, atol=1e-6)
    assert [n for n, _ in torch_model.named_parameters()] == ["scaled.kernel", "scaled.bias", "head.weight", "head.bias"]


CNN = '''
import keras
from keras import layers


class Net(keras.Model):
    def __init__(self, classes=4):
        super().__init__()
        self.conv1 = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu")
        self.bn = layers.BatchNormalization()
        self.pool = layers.MaxPooling2D()
        self.flat = layers.Flatten()
        self.fc = layers.Dense(classes)

    def call(self, x, training=None):
        x = self.pool(self.bn(self.conv1(x), training=training))
        return self.fc(self.flat(x))


model = Net()
model.build((None, 13, 11, 3))
'''


def test_cnn_with_known_input_shape_matches_keras(tmp_path):
    result = translate(CNN)
    assert result.complete, result.todos
    torch_model = run_translation(result.source, tmp_path)["model"]
    assert "nn.Lazy" not in result.source
    keras_model = run_keras(CNN)["model"]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 13, 11, 3)).astype("float32")
    keras_model(x)  # Keras' build() of a subclassed model does not build its layers
    randomise(keras_model, rng)
    set_conv(torch_model.conv1, keras_model.conv1)
    set_batch_norm(torch_model.bn, keras_model.bn)
    set_dense(torch_model.fc, keras_model.fc)
    for training in (False, True):
        torch_model.train(training)
        with torch.no_grad():
            got = torch_model(torch.from_numpy(x)).numpy()  # NHWC in, like the Keras class
        np.testing.assert_allclose(got, keras_model(x, training=training).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("expression", [
    "x.permute(0, 2, 3, 1).movedim(3, 1)", "x.permute(0, 3, 1, 2).permute(0, 2, 3, 1)", "x.movedim(1, 3).permute(0, 3, 1, 2)",
    "x.transpose(1, 2).transpose(2, 1)", "x.permute(0, 2, 3, 1).movedim(1, 3)", "x.permute(0, 2, 1, 3).permute(0, 2, 1, 3)",
    "x.transpose(1, 2).transpose(1, 3)", "x.permute(0, 3, 1, 2).movedim(-1, 1)",
])
def test_permute_pairs_cancel_only_when_they_are_inverse(expression):
    from tf2torch.translate.transforms.subclass import _CancelPermutes

    simplified = cst.Module([]).code_for_node(cst.parse_expression(expression).visit(_CancelPermutes()))
    x = torch.randn(2, 3, 5, 7)
    before, after = eval(expression, {"x": x}), eval(simplified, {"x": x})
    assert before.shape == after.shape and torch.equal(before, after)
    assert (simplified == "x") == (before.shape == x.shape and torch.equal(before, x))


def test_layer_without_init_gets_one_and_keras_only_calls_are_todos():
    out, _ = step('''
        import tensorflow as tf


        class Scale(tf.keras.layers.Layer):
            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

            def call(self, x):
                self.add_loss(tf.reduce_sum(x))
                return x * self.w
        ''')
    init = "class Scale(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.w = nn.UninitializedParameter()"
    assert init in out
    assert "self.add_loss(...) has no nn.Module counterpart" in out


LIST_AND_SEQUENTIAL = '''
import keras
from keras import layers


class Tower(keras.Model):
    def __init__(self, depth=2):
        super().__init__()
        self.blocks = [layers.Dense(8, activation="relu") for _ in range(depth)]
        self.body = keras.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(2)])

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.body(x)


model = Tower()
'''


def test_module_list_and_sequential_attribute_match_keras(tmp_path):
    result = translate(LIST_AND_SEQUENTIAL)
    assert result.complete, result.todos
    torch_model = run_translation(result.source, tmp_path)["model"].eval()
    keras_model = run_keras(LIST_AND_SEQUENTIAL)["model"]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype("float32")
    keras_model(x)
    randomise(keras_model, rng)
    with torch.no_grad():
        torch_model(torch.from_numpy(x))  # input size unknown: lazy modules
    for linear, dense in zip(torch_model.blocks, keras_model.blocks):
        set_dense(linear, dense)
    set_dense(torch_model.body.dense, keras_model.body.layers[0])
    set_dense(torch_model.body.dense_1, keras_model.body.layers[1])
    with torch.no_grad():
        got = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, keras_model(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["he_normal", "glorot_uniform", "lecun_normal", "he_uniform"])
def test_runtime_variance_scaling_draws_keras_distribution(name):
    from tf2torch.translate.runtime.layers import variance_scaling_

    initializer = keras.initializers.get(name)
    shape = (3, 3, 40, 60)  # receptive field 9: Keras' fans are 360 / 540
    expected = np.asarray(initializer(shape))
    torch.manual_seed(0)
    got = variance_scaling_(torch.empty(shape), scale=float(initializer.scale), mode=initializer.mode,
                            distribution=initializer.distribution).numpy()
    assert abs(got.std() / expected.std() - 1) < 0.03
    assert abs(np.abs(got).max() / np.abs(expected).max() - 1) < 0.05  # same bound (uniform) / truncation (normal)


def test_runtime_noise_layers_act_in_training_only():
    from tf2torch.translate.runtime.layers import GaussianDropout, GaussianNoise

    x = torch.ones(400, 500)
    for module, std in [(GaussianNoise(0.3), 0.3), (GaussianDropout(0.2), (0.2 / 0.8) ** 0.5)]:
        assert torch.equal(module.eval()(x), x)
        noisy = module.train()(x)
        assert abs(noisy.mean().item() - 1) < 0.01 and abs(noisy.std().item() / std - 1) < 0.02

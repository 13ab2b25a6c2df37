"""Activations against Keras: every keras.activations function (Activation layer and `activation=`),
the activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax), on vectors, sequences and
channels-first images, plus the Keras 2 variants checked against tf_keras itself."""
import types

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from keras.src.activations import ALL_OBJECTS

import tf2torch
from kerascheck import check, forward_source
from tf2torch.converters.activations import activation
from tf2torch.emit import render
from tf2torch.errors import ConversionError, UnsupportedError
from tf2torch.fragment import Ref
from tf2torch import helpers, inline

L = keras.layers
NOT_AN_ACTIVATION_STRING = {"threshold"}  # needs two arguments: Keras cannot call it as activation=
NAMES = sorted(f.__name__ for f in ALL_OBJECTS) + ["swish", "hard_swish"]


def test_every_keras_activation_is_tested():
    assert {f.__name__ for f in ALL_OBJECTS} <= set(NAMES)
    assert NOT_AN_ACTIVATION_STRING <= set(NAMES)


def _three_layouts(name: str):
    """Vectors, a Keras-layout sequence and channels-first feature maps; the activations end each
    branch because Keras' own shape inference ignores that glu halves the last axis."""
    vec, seq, img = keras.Input((6,)), keras.Input((5, 6)), keras.Input((9, 7, 3))
    outputs = [
        L.Activation(name)(L.Dense(8)(vec)),
        L.Activation(name)(L.Dense(8)(seq)),
        L.Dense(8, activation=name)(seq),
        L.Activation(name)(L.Conv2D(8, 3)(img)),
        L.Dense(8, activation=name)(L.Conv2D(4, 3)(img)),  # a 1x1 conv: the activation runs along dim 1
    ]
    return keras.Model([vec, seq, img], outputs)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in NOT_AN_ACTIVATION_STRING])
def test_activation_function(name):
    conversion = check(_three_layouts(name))
    forward = forward_source(conversion)
    assert ".permute(" not in forward and ".transpose(" not in forward
    if name in ("softmax", "log_softmax", "sparsemax", "glu"):
        assert "dim=1)" in forward and "dim=-1)" in forward  # channels-first map, and Keras layout


@pytest.mark.parametrize("name, code", [
    pytest.param("gelu", "F.gelu(self.fc(x))", id="gelu-exact-erf"),
    pytest.param("hard_sigmoid", "F.hardsigmoid(", id="hard-sigmoid-keras3"),
    pytest.param("leaky_relu", "F.leaky_relu(self.fc(x), 0.2)", id="leaky-relu-0.2"),
    pytest.param("selu", "F.selu(", id="selu"),
    pytest.param("swish", "F.silu(", id="swish"),
    pytest.param("hard_swish", "F.hardswish(", id="hard-swish"),
    pytest.param("soft_shrink", "F.softshrink(self.fc(x), 0.5)", id="soft-shrink"),
    pytest.param("hard_shrink", "F.hardshrink(self.fc(x), 0.5)", id="hard-shrink"),
    pytest.param("sparse_sigmoid", "torch.clamp(0.5 * (self.fc(x) + 1.0), 0.0, 1.0)", id="sparse-sigmoid"),
    pytest.param("squareplus", "squareplus(self.fc(x))", id="squareplus"),
    pytest.param("softmax", "F.softmax(self.fc(x), dim=-1)", id="softmax"),
])
def test_activation_code_is_plain(name, code):
    conversion = check(keras.Sequential([keras.Input((6,)), L.Dense(8, activation=name, name="fc")]))
    assert code in conversion.source


def test_sparsemax_follows_keras_with_a_large_support():
    """Keras 3.15.1 sums the cumulative sums over the support; our helper must do the same."""
    model = keras.Sequential([keras.Input((6,)), L.Rescaling(0.05), L.Activation("sparsemax")])
    x = np.random.default_rng(0).standard_normal((2, 6)).astype("float32")
    assert (np.asarray(model(x)) > 0).sum(-1).min() >= 3  # the case where Keras differs from the paper
    check(model)


def test_activation_on_flattened_map_keeps_chw_order():
    model = keras.Sequential([keras.Input((7, 5, 3)), L.Conv2D(4, 3), L.Flatten(), L.Activation("softmax"), L.Dense(3)])
    forward = forward_source(check(model))
    assert "F.softmax(x, dim=-1)" in forward and ".permute(" not in forward


def test_glu_on_flattened_map_restores_keras_order():
    model = keras.Sequential([keras.Input((7, 5, 2)), L.Conv2D(4, 3), L.Flatten(), L.Activation("glu")])
    check(model)


# ---------------------------------------------------------------------------------------------
# Keras 2 (tf_keras) semantics, checked against tf_keras' own functions
# ---------------------------------------------------------------------------------------------
def _evaluate(expr, x: torch.Tensor) -> np.ndarray:
    namespace = {"torch": torch, "F": F, "x": x, **inline.available(helpers)}
    return eval(render(expr), namespace).numpy()  # noqa: S307 - our own rendered expression


@pytest.mark.parametrize("name", ["hard_sigmoid", "gelu", "relu", "elu", "selu", "softplus", "softsign", "swish",
                                  "tanh", "sigmoid", "exponential", "mish", "softmax", "leaky_relu", "log_softmax",
                                  "relu6", "silu", "linear"])
def test_keras2_activation_matches_tf_keras(name):
    tf_keras = pytest.importorskip("tf_keras")
    import tensorflow as tf
    ctx = types.SimpleNamespace(origin="keras2", unsupported=lambda why, hint="": UnsupportedError(why, hint))
    x = np.random.default_rng(1).uniform(-4, 4, (3, 5, 8)).astype("float32")
    expected = np.asarray(tf_keras.activations.get(name)(tf.constant(x)))
    got = _evaluate(activation(ctx, Ref("x"), name, -1), torch.from_numpy(x))
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()


def test_keras2_hard_sigmoid_differs_from_keras3():
    ctx2 = types.SimpleNamespace(origin="keras2")
    ctx3 = types.SimpleNamespace(origin="keras3")
    assert render(activation(ctx2, Ref("x"), "hard_sigmoid")) == "torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)"
    assert render(activation(ctx3, Ref("x"), "hard_sigmoid")) == "F.hardsigmoid(x)"


def test_keras2_model_hard_sigmoid():
    tf_keras = pytest.importorskip("tf_keras")
    pytest.importorskip("tf2torch.frontend.keras2", reason="the Keras 2 front-end is not there yet")
    model = tf_keras.Sequential([tf_keras.Input((6,)), tf_keras.layers.Dense(5, activation="hard_sigmoid"),
                                 tf_keras.layers.LeakyReLU(), tf_keras.layers.Activation("hard_sigmoid")])
    conversion = check(model)
    assert "torch.clamp(" in conversion.source and "nn.LeakyReLU(0.3)" in conversion.source


def test_threshold_is_refused():
    ctx = types.SimpleNamespace(origin="keras3", unsupported=lambda why, hint="": UnsupportedError(why, hint))
    with pytest.raises(UnsupportedError, match="threshold"):
        activation(ctx, Ref("x"), "threshold")


# ---------------------------------------------------------------------------------------------
# Activation layers
# ---------------------------------------------------------------------------------------------
def _on_image(layer):
    return keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), layer, L.Conv2D(2, 1)])


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({}, "nn.ReLU()", id="plain"),
    pytest.param({"max_value": 6.0}, "nn.ReLU6()", id="relu6"),
    pytest.param({"negative_slope": 0.1}, "nn.LeakyReLU(0.1)", id="slope"),
    pytest.param({"threshold": 0.3}, "nn.Threshold(0.3, 0.0)", id="threshold"),
    pytest.param({"max_value": 0.8}, "torch.clamp(x, 0.0, 0.8)", id="max-value"),
    pytest.param({"max_value": 0.8, "threshold": 0.3}, "torch.clamp(F.threshold(x, 0.3, 0.0), 0.0, 0.8)", id="max-threshold"),
    pytest.param({"max_value": 0.8, "negative_slope": 0.1}, "torch.where(x > 0.0, x.clamp(max=0.8), 0.1 * x)", id="max-slope"),
    pytest.param({"negative_slope": 0.1, "threshold": 0.3}, "torch.where(x > 0.3, x, 0.1 * (x - 0.3))", id="slope-threshold"),
    pytest.param({"max_value": 6.0, "negative_slope": 0.2, "threshold": 0.5}, "x.clamp(max=6.0)", id="all"),
])
def test_relu_layer(kwargs, code):
    conversion = check(_on_image(L.ReLU(**kwargs)))
    assert code in conversion.source
    assert ".permute(" not in forward_source(conversion)


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({}, "nn.LeakyReLU(0.3)", id="layer-default-0.3"),
    pytest.param({"negative_slope": 0.05}, "nn.LeakyReLU(0.05)", id="slope"),
])
def test_leaky_relu_layer(kwargs, code):
    assert code in check(_on_image(L.LeakyReLU(**kwargs))).source


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({}, "nn.ELU()", id="default"),
    pytest.param({"alpha": 0.5}, "nn.ELU(alpha=0.5)", id="alpha"),
])
def test_elu_layer(kwargs, code):
    assert code in check(_on_image(L.ELU(**kwargs))).source


@pytest.mark.parametrize("shape, shared_axes, code", [
    pytest.param((9, 7, 3), None, "BroadcastPReLU((4, 7, 5))", id="image-per-element"),
    pytest.param((9, 7, 3), [1, 2], "nn.PReLU(4)", id="image-per-channel"),
    pytest.param((9, 7, 3), [1, 2, 3], "nn.PReLU()", id="image-one-slope"),
    pytest.param((9, 7, 3), [1], "BroadcastPReLU((4, 1, 5))", id="image-shared-rows"),
    pytest.param((11, 3), [1], "nn.PReLU(4)", id="sequence-channels-first"),
    pytest.param((11, 3), None, "BroadcastPReLU((4, 9))", id="sequence-channels-first-per-element"),
])
def test_prelu_on_feature_maps(shape, shared_axes, code):
    conv = L.Conv2D if len(shape) == 3 else L.Conv1D
    model = keras.Sequential([keras.Input(shape), conv(4, 3), L.PReLU(shared_axes=shared_axes), conv(2, 1)])
    conversion = check(model)
    assert code in conversion.source
    assert ".permute(" not in forward_source(conversion)


@pytest.mark.parametrize("shape, shared_axes, code", [
    pytest.param((6,), None, "nn.PReLU(6)", id="vector"),
    pytest.param((5, 6), None, "BroadcastPReLU((5, 6))", id="sequence"),
    pytest.param((5, 6), [1], "BroadcastPReLU((1, 6))", id="sequence-per-feature"),
    pytest.param((5, 6), [2], "nn.PReLU(5)", id="sequence-per-step"),
])
def test_prelu_in_keras_layout(shape, shared_axes, code):
    model = keras.Sequential([keras.Input(shape), L.PReLU(shared_axes=shared_axes), L.Dense(3)])
    assert code in check(model).source


@pytest.mark.parametrize("shared_axes, code", [
    pytest.param(None, "nn.PReLU(45)", id="per-feature"),
    pytest.param([1], "nn.PReLU()", id="one-slope"),
])
def test_prelu_after_flatten_reorders_its_slopes(shared_axes, code):
    model = keras.Sequential([keras.Input((5, 7, 2)), L.Conv2D(3, 3), L.Flatten(), L.PReLU(shared_axes=shared_axes), L.Dense(4)])
    conversion = check(model)
    assert code in conversion.source and ".permute(" not in forward_source(conversion)


@pytest.mark.parametrize("shape, axis, code", [
    pytest.param((9, 7, 3), -1, "nn.Softmax(dim=1)", id="image-channels"),
    pytest.param((9, 7, 3), 1, "nn.Softmax(dim=2)", id="image-rows"),
    pytest.param((9, 7, 3), (1, 2), "torch.logsumexp(x, dim=(2, 3), keepdim=True)", id="image-spatial"),
    pytest.param((9, 7, 3), (-1,), "nn.Softmax(dim=1)", id="image-tuple-of-one"),
    pytest.param((11, 3), 1, "nn.Softmax(dim=-1)", id="sequence-channels-first-time"),
])
def test_softmax_layer_on_feature_maps(shape, axis, code):
    conv = L.Conv2D if len(shape) == 3 else L.Conv1D
    model = keras.Sequential([keras.Input(shape), conv(4, 3), L.Softmax(axis=axis), conv(2, 1)])
    conversion = check(model)
    assert code in conversion.source
    assert ".permute(" not in forward_source(conversion)


@pytest.mark.parametrize("shape, axis, code", [
    pytest.param((6,), -1, "nn.Softmax(dim=-1)", id="vector"),
    pytest.param((5, 6), 1, "nn.Softmax(dim=1)", id="sequence-time"),
    pytest.param((5, 6), (1, 2), "dim=(1, 2)", id="sequence-all"),
])
def test_softmax_layer_in_keras_layout(shape, axis, code):
    model = keras.Sequential([keras.Input(shape), L.Softmax(axis=axis)])
    assert code in check(model).source


@pytest.mark.parametrize("layer, code", [
    pytest.param(L.LeakyReLU(0.1), "F.leaky_relu(self.fc(x), 0.1)", id="leaky-relu"),
    pytest.param(L.ELU(alpha=0.7), "F.elu(self.fc(x), alpha=0.7)", id="elu"),
    pytest.param(L.ReLU(max_value=6.0), "F.relu6(self.fc(x))", id="relu6"),
    pytest.param(L.Softmax(), "F.softmax(self.fc(x), dim=-1)", id="softmax"),
])
def test_layer_object_as_dense_activation(layer, code):
    model = keras.Sequential([keras.Input((6,)), L.Dense(5, activation=layer, name="fc")])
    assert code in check(model).source


def test_unsupported_layer_object_activation_is_reported():
    model = keras.Sequential([keras.Input((6,)), L.Dense(5, activation=L.ReLU(threshold=0.5))])
    with pytest.raises(ConversionError, match="ReLU layer object"):
        tf2torch.convert(model)


# ----------------------------------------------------------------------------------------------
# Softmax with a mask (keras/src/layers/activations/softmax.py)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask_shape, mask_dtype, axis", [
    pytest.param((1, 7), "bool", -1, id="bool-broadcast"),
    pytest.param((5, 7), "float32", -1, id="float-gt-half"),
    pytest.param((5, 7), "bool", (1, 2), id="two-axes"),
    pytest.param((5, 1), "bool", 1, id="time-axis"),
])
def test_softmax_with_mask(mask_shape, mask_dtype, axis):
    inp, mask = keras.Input((5, 7)), keras.Input(mask_shape, dtype=mask_dtype)
    model = keras.Model([inp, mask], L.Softmax(axis=axis)(inp, mask=mask))
    conv = check(model)
    forward = forward_source(conv)
    assert "-1000000000.0" in forward and ", 0.0)" in forward
    assert (" > 0.5" in forward) == (mask_dtype != "bool")
    # explicit batch: a fully masked row gives zeros (Keras zeroes after the softmax)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    m = rng.uniform(size=(3,) + mask_shape).astype(np.float32)
    m[0] = 0.0
    m = (m > 0.5) if mask_dtype == "bool" else m
    expected = np.asarray(model([x, m], training=False))
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(x), torch.from_numpy(np.asarray(m))).numpy()
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()
    assert not got[0].any() and got[1:].any()


def test_keras2_softmax_with_mask_adds_a_large_negative():
    """tf_keras Softmax (robust_masking=False): x + (1 - mask) * -1e9, nothing zeroed after."""
    import tf_keras

    inp, mask = tf_keras.Input((5, 7)), tf_keras.Input((5, 7))
    model = tf_keras.Model([inp, mask], tf_keras.layers.Softmax()(inp, mask=mask))
    conv = tf2torch.convert(model)
    assert conv.report["verification"]["passed"]
    assert "(1.0 - " in forward_source(conv)
    rng = np.random.default_rng(6)
    x, m = rng.standard_normal((2, 5, 7)).astype(np.float32), (rng.uniform(size=(2, 5, 7)) > 0.5).astype(np.float32)
    m[0] = 0.0
    expected = model([x, m], training=False).numpy()
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(x), torch.from_numpy(m)).numpy()
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()
    assert np.allclose(got[0].sum(-1), 1.0)  # fully masked rows are uniform in Keras 2, not zeroed

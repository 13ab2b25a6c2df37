"""Convolutions against Keras: Conv1D/2D/3D, transposed, depthwise and separable convolutions.

Odd (and mixed odd/even) spatial sizes exercise TF's asymmetric 'same' padding; the emitted
source is checked where readability matters (plain torch layers, F.pad or a slice only when TF's
padding is asymmetric, no permutes).
"""
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tf2torch
from kerascheck import TOLERANCE, check, forward_source, randomize
from tf2torch.converters.conv import transpose_crops
from tf2torch.errors import ConversionError
from tf2torch.verify import Spec, compare
from tf2torch import verify as verifier

L = keras.layers


def build(shape, layer):
    return keras.Sequential([keras.Input(shape), layer])


def torch_layers(conversion) -> list[str]:
    """The constructor lines of the generated __init__ (without 'self.<name> = ')."""
    return [line.split(" = ", 1)[1] for layer in conversion.report["layers"] for line in layer["torch"]]


def assert_source(conversion, ctor=None, has=(), lacks=()):
    forward = forward_source(conversion)
    assert ".permute(" not in forward
    if ctor is not None:
        assert torch_layers(conversion) == ([ctor] if isinstance(ctor, str) else list(ctor))
    for text in has:
        assert text in forward, forward
    for text in lacks:
        assert text not in forward, forward


def check_other_sizes(model, conversion, shapes):
    """Dynamic-size models: run the torch module on other sizes too, against Keras itself."""
    rng = np.random.default_rng(1)
    for shape in shapes:
        x = rng.standard_normal((2,) + shape).astype("float32")
        expected = keras.ops.convert_to_numpy(model(x, training=False))
        with torch.inference_mode():
            got = conversion.module(torch.from_numpy(np.moveaxis(x, -1, 1).copy())).numpy()
        result = compare(expected, np.moveaxis(got, 1, -1))
        assert result.get("max_rel_error", np.inf) <= TOLERANCE, (shape, result)


# ----------------------------------------------------------------------------------------------
# Conv1D / Conv2D / Conv3D
# ----------------------------------------------------------------------------------------------
CONV_CASES = [
    # id, input shape, layer, expected torch constructor, forward must contain, forward must lack
    ("2d-valid", (9, 7, 1), lambda: L.Conv2D(32, 3), "nn.Conv2d(1, 32, kernel_size=3)", (), ("F.pad",)),
    ("2d-same-s1", (9, 7, 3), lambda: L.Conv2D(4, 3, padding="same"), "nn.Conv2d(3, 4, kernel_size=3, padding=1)",
     (), ("F.pad",)),
    ("2d-same-s1-even-kernel", (9, 7, 3), lambda: L.Conv2D(4, 4, padding="same"), "nn.Conv2d(3, 4, kernel_size=4)",
     ("F.pad(x, (1, 2, 1, 2))",), ()),
    ("2d-same-s2-symmetric", (9, 13, 3), lambda: L.Conv2D(4, 3, strides=2, padding="same"),
     "nn.Conv2d(3, 4, kernel_size=3, stride=2, padding=1)", (), ("F.pad",)),
    # H=10: P=1 -> (0, 1); W=13: P=2 -> (1, 1)
    ("2d-same-s2-asymmetric", (10, 13, 3), lambda: L.Conv2D(4, 3, strides=2, padding="same"),
     "nn.Conv2d(3, 4, kernel_size=3, stride=2)", ("F.pad(x, (1, 1, 0, 1))",), ()),
    # H=11: P=2 -> (1, 1); W=14: P=3 -> (1, 2)
    ("2d-same-rect-s3", (11, 14, 2), lambda: L.Conv2D(3, (3, 5), strides=(2, 3), padding="same"),
     "nn.Conv2d(2, 3, kernel_size=(3, 5), stride=(2, 3))", ("F.pad(x, (1, 2, 1, 1))",), ()),
    ("2d-valid-s3", (13, 11, 2), lambda: L.Conv2D(3, 4, strides=3), "nn.Conv2d(2, 3, kernel_size=4, stride=3)", (), ()),
    ("2d-dilation-same", (13, 11, 2), lambda: L.Conv2D(3, 3, padding="same", dilation_rate=2),
     "nn.Conv2d(2, 3, kernel_size=3, padding=2, dilation=2)", (), ("F.pad",)),
    ("2d-dilation-rect", (13, 11, 2), lambda: L.Conv2D(3, (2, 3), dilation_rate=(3, 2), padding="same"),
     "nn.Conv2d(2, 3, kernel_size=(2, 3), dilation=(3, 2))", ("F.pad(x, (2, 2, 1, 2))",), ()),
    ("2d-groups", (9, 7, 6), lambda: L.Conv2D(4, 3, groups=2), "nn.Conv2d(6, 4, kernel_size=3, groups=2)", (), ()),
    ("2d-groups-same-s2", (9, 8, 4), lambda: L.Conv2D(8, 3, strides=2, groups=4, padding="same"),
     "nn.Conv2d(4, 8, kernel_size=3, stride=2, groups=4)", ("F.pad(x, (0, 1, 1, 1))",), ()),
    ("2d-no-bias", (9, 7, 3), lambda: L.Conv2D(4, 3, use_bias=False), "nn.Conv2d(3, 4, kernel_size=3, bias=False)", (), ()),
    ("2d-relu", (9, 7, 3), lambda: L.Conv2D(4, 3, activation="relu"), None, ("F.relu(",), ()),
    ("2d-softmax-channels", (9, 7, 3), lambda: L.Conv2D(4, 3, activation="softmax"), None, ("F.softmax(", "dim=1"), ()),
    ("2d-sigmoid", (9, 7, 3), lambda: L.Conv2D(4, 1, activation="sigmoid"), "nn.Conv2d(3, 4, kernel_size=1)",
     ("torch.sigmoid(",), ()),
    ("1d-valid", (11, 3), lambda: L.Conv1D(5, 3), "nn.Conv1d(3, 5, kernel_size=3)", (), ()),
    ("1d-same-s2", (11, 3), lambda: L.Conv1D(5, 4, strides=2, padding="same"), "nn.Conv1d(3, 5, kernel_size=4, stride=2)",
     ("F.pad(x, (1, 2))",), ()),
    ("1d-causal", (11, 3), lambda: L.Conv1D(5, 3, padding="causal"), "nn.Conv1d(3, 5, kernel_size=3)", ("F.pad(x, (2, 0))",), ()),
    ("1d-causal-dilation", (13, 3), lambda: L.Conv1D(5, 3, padding="causal", dilation_rate=3),
     "nn.Conv1d(3, 5, kernel_size=3, dilation=3)", ("F.pad(x, (6, 0))",), ()),
    ("1d-causal-stride", (13, 3), lambda: L.Conv1D(5, 2, padding="causal", strides=2), None, ("F.pad(x, (1, 0))",), ()),
    ("1d-groups-tanh", (11, 4), lambda: L.Conv1D(6, 3, groups=2, activation="tanh"), None, ("torch.tanh(",), ()),
    ("3d-valid", (5, 7, 9, 2), lambda: L.Conv3D(3, 3), "nn.Conv3d(2, 3, kernel_size=3)", (), ()),
    ("3d-same-s2", (5, 7, 8, 2), lambda: L.Conv3D(3, 3, strides=2, padding="same"), "nn.Conv3d(2, 3, kernel_size=3, stride=2)",
     ("F.pad(x, (0, 1, 1, 1, 1, 1))",), ()),
    ("3d-rect-dilation", (7, 9, 5, 2), lambda: L.Conv3D(3, (3, 2, 1), dilation_rate=(2, 1, 1), padding="same"), None, (), ()),
    ("3d-groups", (5, 7, 5, 4), lambda: L.Conv3D(6, 2, groups=2, use_bias=False), None, (), ()),
]


@pytest.mark.parametrize("shape, make, ctor, has, lacks", [pytest.param(*c[1:], id=c[0]) for c in CONV_CASES])
def test_conv(shape, make, ctor, has, lacks):
    conversion = check(build(shape, make()))
    assert_source(conversion, ctor, has, lacks)


@pytest.mark.parametrize("make, uses_helper", [
    pytest.param(lambda: L.Conv2D(4, 3, strides=2, padding="same"), True, id="same-s2"),
    pytest.param(lambda: L.Conv2D(4, (4, 3), strides=(3, 2), padding="same", activation="relu"), True, id="same-s3-rect"),
    pytest.param(lambda: L.Conv2D(4, 3, padding="same"), False, id="same-s1-static-pads"),
    pytest.param(lambda: L.Conv2D(4, 3, strides=2), False, id="valid"),
])
def test_conv_dynamic_size(make, uses_helper):
    model = build((None, None, 3), make())
    conversion = check(model)
    assert_source(conversion, has=("pad_same(",) if uses_helper else (), lacks=() if uses_helper else ("pad_same(",))
    assert ("def pad_same" in conversion.source) == uses_helper
    check_other_sizes(model, conversion, [(10, 12, 3), (13, 8, 3), (5, 17, 3)])


def test_conv_1d_dynamic_length():
    model = build((None, 3), L.Conv1D(4, 5, strides=3, padding="same"))
    conversion = check(model)
    assert "pad_same(x, (5,), (3,), (1,))" in forward_source(conversion)
    check_other_sizes(model, conversion, [(7, 3), (12, 3), (16, 3)])


def test_channels_first_is_refused():
    model = build((3, 9, 9), L.Conv2D(4, 3, data_format="channels_first", name="cf"))
    with pytest.raises(ConversionError, match=r"cf: Conv2D: data_format='channels_first' is not supported"):
        tf2torch.convert(model, verify=False)


# ----------------------------------------------------------------------------------------------
# Transposed convolutions
# ----------------------------------------------------------------------------------------------
TRANSPOSE_CASES = [
    ("2d-valid", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3), "nn.ConvTranspose2d(3, 4, kernel_size=3)", (), ("[",)),
    ("2d-valid-s2", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, strides=2),
     "nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2)", (), ()),
    # default output_padding = max(k, s) - k appends a zero (bias only) row/column
    ("2d-valid-s3-k2", (7, 9, 3), lambda: L.Conv2DTranspose(4, 2, strides=3),
     "nn.ConvTranspose2d(3, 4, kernel_size=2, stride=3, output_padding=1)", (), ()),
    ("2d-valid-output-padding", (7, 9, 3), lambda: L.Conv2DTranspose(4, (3, 5), strides=(2, 3), output_padding=(1, 2)),
     "nn.ConvTranspose2d(3, 4, kernel_size=(3, 5), stride=(2, 3), output_padding=(1, 2))", (), ()),
    # the popular padding=1, output_padding=1 would be shifted by one pixel: TF crops (0, 1)
    ("2d-same-k3-s2", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same"),
     "nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2)", ("(x)[:, :, :-1, :-1]",), ()),
    ("2d-same-k4-s2", (7, 9, 3), lambda: L.Conv2DTranspose(4, 4, strides=2, padding="same"),
     "nn.ConvTranspose2d(3, 4, kernel_size=4, stride=2, padding=1)", (), ("[",)),
    ("2d-same-k5-s2", (7, 9, 3), lambda: L.Conv2DTranspose(4, 5, strides=2, padding="same"),
     "nn.ConvTranspose2d(3, 4, kernel_size=5, stride=2)", ("(x)[:, :, 1:-2, 1:-2]",), ()),
    ("2d-same-k1-s2", (7, 9, 3), lambda: L.Conv2DTranspose(4, 1, strides=2, padding="same"),
     "nn.ConvTranspose2d(3, 4, kernel_size=1, stride=2, output_padding=1)", (), ("[",)),
    ("2d-same-s1", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, padding="same"),
     "nn.ConvTranspose2d(3, 4, kernel_size=3, padding=1)", (), ("[",)),
    ("2d-same-rect", (7, 9, 3), lambda: L.Conv2DTranspose(4, (3, 4), strides=2, padding="same"),
     "nn.ConvTranspose2d(3, 4, kernel_size=(3, 4), stride=2)", ("(x)[:, :, :-1, 1:-1]",), ()),
    ("2d-same-output-padding-0", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=0),
     "nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2, padding=1)", (), ("[",)),
    ("2d-same-output-padding-1", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1),
     None, ("(x)[:, :, :-1, :-1]",), ()),
    ("2d-same-s3-output-padding", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, strides=3, padding="same", output_padding=2),
     None, (), ()),
    ("2d-no-bias-relu", (7, 9, 3), lambda: L.Conv2DTranspose(4, 3, strides=2, use_bias=False, activation="relu"),
     "nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2, bias=False)", ("F.relu(",), ()),
    ("1d-valid-s2", (11, 3), lambda: L.Conv1DTranspose(5, 3, strides=2),
     "nn.ConvTranspose1d(3, 5, kernel_size=3, stride=2)", (), ()),
    ("1d-same-s3", (11, 3), lambda: L.Conv1DTranspose(5, 5, strides=3, padding="same"),
     "nn.ConvTranspose1d(3, 5, kernel_size=5, stride=3, padding=1)", (), ("[",)),
    ("1d-same-s2-k3", (11, 3), lambda: L.Conv1DTranspose(5, 3, strides=2, padding="same"), None, ("(x)[:, :, :-1]",), ()),
    ("3d-same-s2", (3, 5, 7, 2), lambda: L.Conv3DTranspose(3, 3, strides=2, padding="same"),
     "nn.ConvTranspose3d(2, 3, kernel_size=3, stride=2)", ("(x)[:, :, :-1, :-1, :-1]",), ()),
    ("3d-valid-output-padding", (3, 5, 4, 2), lambda: L.Conv3DTranspose(3, 2, strides=(1, 2, 3), output_padding=(0, 1, 2)),
     None, (), ()),
]


@pytest.mark.parametrize("shape, make, ctor, has, lacks", [pytest.param(*c[1:], id=c[0]) for c in TRANSPOSE_CASES])
def test_conv_transpose(shape, make, ctor, has, lacks):
    conversion = check(build(shape, make()))
    assert_source(conversion, ctor, has, lacks)


def test_conv_transpose_dynamic_size():
    model = build((None, None, 3), L.Conv2DTranspose(4, 3, strides=2, padding="same"))
    conversion = check(model)
    assert_source(conversion, has=("[:, :, :-1, :-1]",))
    check_other_sizes(model, conversion, [(6, 9, 3), (1, 4, 3)])


def check_under_xla(model):
    """Keras runs dilated transposed convs on CPU only under XLA (TF has no CPU kernel for them)."""
    randomize(model)
    conversion = tf2torch.convert(model, verify=False)
    keras_xla = tf.function(model, jit_compile=True)
    spec = lambda e: Spec(e["name"], tuple(e["keras_shape"]), e["dtype"], tuple(e["permutation"]))  # noqa: E731
    result = verifier.verify(conversion.module, lambda arrays: [keras_xla(arrays[0]).numpy()],
                    [spec(e) for e in conversion.report["inputs"]], [spec(e) for e in conversion.report["outputs"]], TOLERANCE)
    assert result["passed"], result
    return conversion


@pytest.mark.parametrize("shape, make, ctor", [
    pytest.param((9, 7, 3), lambda: L.Conv2DTranspose(4, 3, dilation_rate=2),
                 "nn.ConvTranspose2d(3, 4, kernel_size=3, dilation=2)", id="2d-valid"),
    pytest.param((9, 7, 3), lambda: L.Conv2DTranspose(4, 3, dilation_rate=2, padding="same"),
                 "nn.ConvTranspose2d(3, 4, kernel_size=3, padding=2, dilation=2)", id="2d-same"),
    pytest.param((9, 7, 3), lambda: L.Conv2DTranspose(4, (2, 3), dilation_rate=(3, 2), padding="same"),
                 None, id="2d-same-rect"),
    pytest.param((11, 3), lambda: L.Conv1DTranspose(4, 2, dilation_rate=2, padding="same"), None, id="1d-same-k2-dilated"),
])
def test_conv_transpose_dilation(shape, make, ctor):
    conversion = check_under_xla(build(shape, make()))
    assert_source(conversion, ctor)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_transpose_crops_match_keras_torch_backend(padding):
    """Our crops (from the TF backend's output size) equal Keras' own torch-backend crops."""
    from keras.src.backend.common.backend_utils import compute_conv_transpose_output_crops_for_torch as keras_crops

    for k in range(1, 7):
        for s in range(1, 5):
            for d in ((1, 2, 3) if s == 1 else (1,)):
                for op in [None, *range(s)]:
                    expected = keras_crops((1, 9, 1), (k, 1, 1), s, padding, op, d)[0]
                    assert transpose_crops(k, s, d, padding, op) == tuple(expected), (k, s, d, op)


# ----------------------------------------------------------------------------------------------
# Depthwise and separable convolutions
# ----------------------------------------------------------------------------------------------
DEPTHWISE_CASES = [
    ("2d-valid", (9, 7, 3), lambda: L.DepthwiseConv2D(3), "nn.Conv2d(3, 3, kernel_size=3, groups=3)", ()),
    ("2d-multiplier", (9, 7, 3), lambda: L.DepthwiseConv2D(3, depth_multiplier=4),
     "nn.Conv2d(3, 12, kernel_size=3, groups=3)", ()),
    ("2d-same-s2-asymmetric", (10, 13, 3), lambda: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
     "nn.Conv2d(3, 6, kernel_size=3, stride=2, groups=3)", ("F.pad(x, (1, 1, 0, 1))",)),
    ("2d-dilation", (11, 9, 3), lambda: L.DepthwiseConv2D(3, dilation_rate=2, padding="same"),
     "nn.Conv2d(3, 3, kernel_size=3, padding=2, dilation=2, groups=3)", ()),
    # Keras 3 decomposes stride + dilation (pad SAME, dilated conv, subsample): torch does it at once
    ("2d-stride-and-dilation", (13, 12, 2), lambda: L.DepthwiseConv2D(3, strides=2, dilation_rate=2, padding="same"),
     "nn.Conv2d(2, 2, kernel_size=3, stride=2, dilation=2, groups=2)", ("F.pad(",)),
    ("2d-no-bias-relu6", (9, 7, 3), lambda: L.DepthwiseConv2D(3, use_bias=False, activation="relu6"),
     "nn.Conv2d(3, 3, kernel_size=3, groups=3, bias=False)", ("F.relu6(",)),
    ("1d-valid", (11, 3), lambda: L.DepthwiseConv1D(3, depth_multiplier=2), "nn.Conv1d(3, 6, kernel_size=3, groups=3)", ()),
    ("1d-same-s2", (11, 3), lambda: L.DepthwiseConv1D(4, strides=2, padding="same"),
     "nn.Conv1d(3, 3, kernel_size=4, stride=2, groups=3)", ("F.pad(x, (1, 2))",)),
    ("1d-same-s2-symmetric", (12, 3), lambda: L.DepthwiseConv1D(4, strides=2, padding="same"),
     "nn.Conv1d(3, 3, kernel_size=4, stride=2, padding=1, groups=3)", ()),
]


@pytest.mark.parametrize("shape, make, ctor, has", [pytest.param(*c[1:], id=c[0]) for c in DEPTHWISE_CASES])
def test_depthwise_conv(shape, make, ctor, has):
    conversion = check(build(shape, make()))
    assert_source(conversion, ctor, has)


SEPARABLE_CASES = [
    ("2d-valid", (9, 7, 3), lambda: L.SeparableConv2D(5, 3, name="sep"),
     ["nn.Conv2d(3, 3, kernel_size=3, groups=3, bias=False)", "nn.Conv2d(3, 5, 1)"],
     ("self.sep_pointwise(self.sep_depthwise(x))",)),
    ("2d-multiplier-same-s2", (10, 13, 3), lambda: L.SeparableConv2D(5, 3, strides=2, padding="same", depth_multiplier=2),
     ["nn.Conv2d(3, 6, kernel_size=3, stride=2, groups=3, bias=False)", "nn.Conv2d(6, 5, 1)"], ("F.pad(x, (1, 1, 0, 1))",)),
    ("2d-dilation-no-bias-relu", (11, 9, 4), lambda: L.SeparableConv2D(6, 3, dilation_rate=2, use_bias=False, activation="relu"),
     ["nn.Conv2d(4, 4, kernel_size=3, dilation=2, groups=4, bias=False)", "nn.Conv2d(4, 6, 1, bias=False)"], ("F.relu(",)),
    ("1d-same", (11, 3), lambda: L.SeparableConv1D(4, 3, padding="same", depth_multiplier=3),
     ["nn.Conv1d(3, 9, kernel_size=3, padding=1, groups=3, bias=False)", "nn.Conv1d(9, 4, 1)"], ()),
    ("1d-same-s2", (12, 2), lambda: L.SeparableConv1D(4, 2, strides=2, padding="same"), None, ()),
]


@pytest.mark.parametrize("shape, make, ctors, has", [pytest.param(*c[1:], id=c[0]) for c in SEPARABLE_CASES])
def test_separable_conv(shape, make, ctors, has):
    conversion = check(build(shape, make()))
    assert_source(conversion, ctors, has)


def test_separable_modules_are_named_after_the_layer():
    conversion = check(build((9, 7, 3), L.SeparableConv2D(4, 3, name="block1_sepconv")))
    assert "self.block1_sepconv_depthwise = nn.Conv2d(" in conversion.source
    assert "self.block1_sepconv_pointwise = nn.Conv2d(" in conversion.source


def test_depthwise_and_separable_dynamic_size():
    inp = keras.Input((None, None, 3))
    x = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)(inp)
    model = keras.Model(inp, L.SeparableConv2D(4, 3, strides=2, padding="same")(x))
    conversion = check(model)
    assert forward_source(conversion).count("pad_same(") == 2
    check_other_sizes(model, conversion, [(10, 12, 3), (17, 6, 3)])


def test_chain_runs_channels_first_without_permutes():
    model = keras.Sequential([
        keras.Input((13, 11, 3)),
        L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.DepthwiseConv2D(3, padding="same", depth_multiplier=2),
        L.SeparableConv2D(8, 3, padding="same", activation="relu"),
        L.Conv2DTranspose(4, 3, strides=2, padding="same"),
        L.Conv2D(2, 1),
    ])
    conversion = check(model)
    assert conversion.report["permutes_in_forward"] == 0
    assert ".permute(" not in forward_source(conversion)


# ----------------------------------------------------------------------------------------------
# Property test over Conv2D configurations
# ----------------------------------------------------------------------------------------------
@st.composite
def conv2d_configs(draw):
    groups = draw(st.sampled_from([1, 2, 3]))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (1, 1) if max(stride) > 1 else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))  # Keras: not both
    return {
        "size": (draw(st.integers(5, 17)), draw(st.integers(5, 17))),
        "channels": groups * draw(st.integers(1, 2)),
        "filters": groups * draw(st.integers(1, 2)),
        "kernel_size": (draw(st.integers(1, 5)), draw(st.integers(1, 5))),
        "strides": stride,
        "dilation_rate": dilation,
        "padding": draw(st.sampled_from(["valid", "same"])),
        "groups": groups,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv2d_configs())
def test_conv2d_property(cfg):
    size, channels = cfg.pop("size"), cfg.pop("channels")
    if cfg["padding"] == "valid":  # Keras refuses an empty output
        assume(all(s >= (k - 1) * d + 1 for s, k, d in zip(size, cfg["kernel_size"], cfg["dilation_rate"])))
    conversion = check(build(size + (channels,), L.Conv2D(**cfg)))
    assert ".permute(" not in forward_source(conversion)


# ----------------------------------------------------------------------------------------------
# Legacy Keras 2 files: weight names ('depthwise_kernel') and tf_keras' transposed-conv sizes
# ----------------------------------------------------------------------------------------------
def test_keras2_h5_depthwise_separable_transpose(tmp_path):
    import tf_keras

    K = tf_keras.layers
    model = tf_keras.Sequential([
        tf_keras.Input((10, 13, 3)),
        K.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
        K.SeparableConv2D(4, 3, padding="same", activation="relu"),
        K.Conv2DTranspose(4, 3, strides=2, padding="same"),
        K.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1),
        K.Conv2DTranspose(2, 2, strides=3, output_padding=2),
    ])
    randomize(model)
    model.save(tmp_path / "model.h5")
    conversion = tf2torch.convert(tmp_path / "model.h5", tolerance=TOLERANCE)
    assert conversion.report["verification"]["passed"]
    assert ".permute(" not in forward_source(conversion)

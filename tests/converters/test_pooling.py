"""Pooling against Keras: max/average 1D/2D/3D (valid, TF 'same' incl. asymmetric pads, dynamic
sizes) and global max/average pooling (keepdims, channels-first maps, sequences)."""
import itertools

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import tf2torch
from kerascheck import TOLERANCE, check, forward_source, same_as_keras
from tf2torch.converters.pooling import torch_pool_out_size
from tf2torch.errors import ConversionError

L = keras.layers
MAX = {1: L.MaxPooling1D, 2: L.MaxPooling2D, 3: L.MaxPooling3D}
AVG = {1: L.AveragePooling1D, 2: L.AveragePooling2D, 3: L.AveragePooling3D}
TORCH = {MAX[n]: f"nn.MaxPool{n}d(" for n in MAX} | {AVG[n]: f"nn.AvgPool{n}d(" for n in AVG}


def pool_model(shape, layer):
    return keras.Sequential([keras.Input(shape), layer])


def check_at_sizes(model, conversion, shapes):
    """The converted module against Keras at other input sizes (dynamic dims: the verifier uses 11)."""
    in_perm = conversion.report["inputs"][0]["permutation"]
    out_perm = conversion.report["outputs"][0]["permutation"]
    rng = np.random.default_rng(1)
    for shape in shapes:
        x = rng.standard_normal((2, *shape)).astype("float32")
        expected = np.asarray(model(x))
        with torch.inference_mode():
            got = conversion.module(torch.from_numpy(np.ascontiguousarray(x.transpose(in_perm)))).numpy()
        got = got.transpose(np.argsort(out_perm))
        assert got.shape == expected.shape, (shape, got.shape, expected.shape)
        rel = np.abs(got - expected).max() / np.abs(expected).max()
        assert rel <= TOLERANCE, (shape, rel)


# ---- max / average pooling, static sizes ------------------------------------------------------
STATIC = [  # (dims, input shape, pool_size, strides, padding); odd sizes exercise TF's extra end pad
    pytest.param(1, (11, 3), 2, None, "valid", id="1d-valid-default-stride"),
    pytest.param(1, (13, 2), 3, 2, "valid", id="1d-valid-pool3-stride2"),
    pytest.param(1, (13, 2), 3, 2, "same", id="1d-same-symmetric"),
    pytest.param(1, (12, 2), 3, 2, "same", id="1d-same-asymmetric"),
    pytest.param(1, (9, 2), 2, 1, "same", id="1d-same-even-pool-stride1"),
    pytest.param(2, (9, 11, 3), 2, None, "valid", id="2d-valid-default-stride"),
    pytest.param(2, (9, 11, 3), (3, 2), (2, 1), "valid", id="2d-valid-rect"),
    pytest.param(2, (9, 9, 3), 3, 2, "same", id="2d-same-symmetric"),
    pytest.param(2, (8, 10, 3), 3, 2, "same", id="2d-same-asymmetric"),
    pytest.param(2, (9, 11, 3), 2, None, "same", id="2d-same-pool2-odd"),
    pytest.param(2, (7, 9, 3), (3, 2), (1, 2), "same", id="2d-same-mixed-dims"),
    pytest.param(2, (9, 7, 2), 2, 1, "same", id="2d-same-even-pool-stride1"),
    pytest.param(2, (11, 13, 2), 2, 3, "same", id="2d-same-stride-gt-pool"),
    pytest.param(3, (7, 9, 5, 2), 2, None, "valid", id="3d-valid"),
    pytest.param(3, (7, 9, 11, 2), (2, 3, 3), (2, 1, 2), "same", id="3d-same-mixed"),
    pytest.param(3, (6, 7, 5, 2), 2, 1, "same", id="3d-same-even-pool-stride1"),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("dims,shape,pool,strides,padding", STATIC)
def test_pooling_static(kind, dims, shape, pool, strides, padding):
    cls = (MAX if kind == "max" else AVG)[dims]
    conv = check(pool_model(shape, cls(pool, strides=strides, padding=padding)))
    forward = forward_source(conv)
    assert ".permute(" not in forward
    stride1_even = strides == 1 and pool == 2 and padding == "same"  # pads (0, 1) at any size
    if kind == "avg" and stride1_even:
        assert "avg_pool_same(x" in forward
    else:
        assert TORCH[cls] in conv.source


# The generated layers read like hand-written torch: TF's pads become torch's own arguments.
@pytest.mark.parametrize("shape,layer,expected", [
    pytest.param((9, 9, 3), L.MaxPooling2D(3, 2, padding="same"), "nn.MaxPool2d(3, stride=2, padding=1)", id="max-symmetric"),
    pytest.param((8, 8, 3), L.MaxPooling2D(3, 2, padding="same"), "nn.MaxPool2d(3, stride=2, ceil_mode=True)", id="max-asymmetric"),
    pytest.param((9, 9, 3), L.AveragePooling2D(3, 2, padding="same"),
                 "nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)", id="avg-symmetric"),
    pytest.param((8, 9, 3), L.AveragePooling2D(3, 2, padding="same"),
                 "nn.AvgPool2d(3, stride=2, padding=(0, 1), ceil_mode=True, count_include_pad=False)", id="avg-mixed"),
    pytest.param((9, 9, 3), L.AveragePooling2D(2), "nn.AvgPool2d(2)", id="avg-valid"),
    pytest.param((9, 7, 3), L.MaxPooling2D(2, 1, padding="same"), "F.pad(x, (0, 1, 0, 1), value=-math.inf)", id="max-pad-before-pool"),
])
def test_pooling_source(shape, layer, expected):
    conv = check(pool_model(shape, layer))
    assert expected in conv.source
    assert "pad_same" not in conv.source


@pytest.mark.parametrize("ceil_mode", [False, True], ids=["floor", "ceil"])
def test_torch_pool_out_size_matches_torch(ceil_mode):
    for n, k, s, p in itertools.product(range(1, 12), range(1, 5), range(1, 4), range(0, 3)):
        if 2 * p > k or n + 2 * p < k:
            continue
        got = F.max_pool1d(torch.zeros(1, 1, n), k, s, p, ceil_mode=ceil_mode).shape[-1]
        assert torch_pool_out_size(n, k, s, p, ceil_mode) == got, (n, k, s, p)


# ---- dynamic (None) spatial sizes ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,pool,strides,expect_helper", [
    pytest.param((None, None, 3), 3, 2, True, id="2d-stride2"),
    pytest.param((None, None, 3), 3, 1, False, id="2d-stride1-odd-pool"),
    pytest.param((None, 9, 3), (2, 3), (2, 2), True, id="2d-one-dim-dynamic"),
    pytest.param((None, 2), 4, 3, True, id="1d-stride3"),
    pytest.param((None, None, None, 2), 2, 2, True, id="3d-stride2"),
])
def test_pooling_same_dynamic(kind, shape, pool, strides, expect_helper):
    cls = (MAX if kind == "max" else AVG)[len(shape) - 1]
    model = pool_model(shape, cls(pool, strides=strides, padding="same"))
    conv = check(model)
    helper = "pad_same(x" if kind == "max" else "avg_pool_same(x"
    assert (helper in forward_source(conv)) == expect_helper
    sizes = (8, 9, 12, 13)  # even and odd: TF's pads change with the size at stride > 1
    shapes = [tuple(sizes[(i + j) % 4] if d is None else d for j, d in enumerate(shape)) for i in range(4)]
    check_at_sizes(model, conv, shapes)


def test_pooling_valid_dynamic():
    model = pool_model((None, None, 2), L.AveragePooling2D(3, strides=2))
    conv = check(model)
    assert "nn.AvgPool2d(3, stride=2)" in conv.source
    check_at_sizes(model, conv, [(8, 9, 2), (12, 13, 2)])


def test_pooling_same_pads_never_count_on_negative_inputs():
    # all inputs < -1: a zero pad would win a max and pull an average towards 0
    inp = keras.Input((8, 9, 2))
    model = keras.Model(inp, [L.MaxPooling2D(3, 2, padding="same")(inp), L.AveragePooling2D(2, 1, padding="same")(inp)])
    conv = check(model)
    a = -np.abs(np.random.default_rng(2).standard_normal((2, 8, 9, 2)).astype("float32")) - 1.0
    expected = [np.asarray(e) for e in model(a)]
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy().transpose(0, 2, 3, 1), e, rtol=1e-5, atol=0)


def test_pooling_after_conv_has_no_permute():
    model = keras.Sequential([keras.Input((13, 11, 3)), L.Conv2D(4, 3, padding="same"),
                              L.MaxPooling2D(3, 2, padding="same"), L.AveragePooling2D(2, padding="same"),
                              L.Conv2D(2, 1)])
    conv = check(model)
    assert ".permute(" not in forward_source(conv)


def test_pooling_channels_first_is_refused():
    model = pool_model((3, 9, 9), L.MaxPooling2D(2, data_format="channels_first"))
    with pytest.raises(ConversionError, match="channels_first"):
        tf2torch.convert(model)


# ---- hypothesis: 2D configs --------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(height=st.integers(5, 17), width=st.integers(5, 17), pool=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       strides=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=st.sampled_from(["valid", "same"]),
       kind=st.sampled_from(["max", "avg"]))
def test_pooling2d_configs(height, width, pool, strides, padding, kind):
    layer = (L.MaxPooling2D if kind == "max" else L.AveragePooling2D)(pool, strides=strides, padding=padding)
    conv = check(pool_model((height, width, 2), layer))
    assert ".permute(" not in forward_source(conv)


# ---- global pooling ------------------------------------------------------------------------------
GLOBAL_AVG = {1: L.GlobalAveragePooling1D, 2: L.GlobalAveragePooling2D, 3: L.GlobalAveragePooling3D}
GLOBAL_MAX = {1: L.GlobalMaxPooling1D, 2: L.GlobalMaxPooling2D, 3: L.GlobalMaxPooling3D}
CONV = {1: L.Conv1D, 2: L.Conv2D, 3: L.Conv3D}
SHAPES = {1: (11, 3), 2: (9, 7, 3), 3: (5, 7, 3, 2)}


@pytest.mark.parametrize("keepdims", [False, True], ids=["flat", "keepdims"])
@pytest.mark.parametrize("kind", ["mean", "amax"])
@pytest.mark.parametrize("dims", [1, 2, 3], ids=["1d", "2d", "3d"])
def test_global_pooling_after_conv(dims, kind, keepdims):
    cls = (GLOBAL_AVG if kind == "mean" else GLOBAL_MAX)[dims]
    model = keras.Sequential([keras.Input(SHAPES[dims]), CONV[dims](4, 3), cls(keepdims=keepdims)])
    conv = check(model)
    forward = forward_source(conv)
    axes = tuple(range(2, dims + 2))
    reduced = f"x.{kind}({axes[0] if dims == 1 else axes}" + (", keepdim=True)" if keepdims else ")")
    assert reduced in forward and ".permute(" not in forward
    expected = [None, 4] + [1] * dims if keepdims else [None, 4]  # keepdims stays channels-first
    assert conv.report["outputs"][0]["torch_shape"] == expected


@pytest.mark.parametrize("cls", [L.GlobalAveragePooling2D, L.GlobalMaxPooling2D], ids=["avg", "max"])
def test_global_pooling_on_image_input_is_channels_first(cls):
    conv = check(pool_model((9, 7, 3), cls()))
    assert conv.report["inputs"][0]["permutation"] == [0, 3, 1, 2]
    assert "(2, 3))" in forward_source(conv)


def test_global_pooling_keepdims_feeds_a_conv():
    model = keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), L.GlobalAveragePooling2D(keepdims=True),
                              L.Conv2D(5, 1)])
    conv = check(model)
    assert ".permute(" not in forward_source(conv) and "keepdim=True" in conv.source


@pytest.mark.parametrize("cls,reduce", [(L.GlobalAveragePooling1D, "mean"), (L.GlobalMaxPooling1D, "amax")],
                         ids=["avg", "max"])
def test_global_pooling_1d_on_sequence_keeps_keras_layout(cls, reduce):
    model = keras.Sequential([keras.Input((9, 5)), L.Dense(4), cls()])
    conv = check(model)
    forward = forward_source(conv)
    assert "nn.Linear(5, 4)" in conv.source and f"x.{reduce}(1)" in forward and ".permute(" not in forward


@pytest.mark.parametrize("keepdims", [False, True], ids=["flat", "keepdims"])
@pytest.mark.parametrize("cls", [L.GlobalAveragePooling2D, L.GlobalMaxPooling2D], ids=["avg", "max"])
def test_global_pooling_channels_first_data_format(cls, keepdims):
    check(pool_model((3, 9, 7), cls(data_format="channels_first", keepdims=keepdims)))


def test_global_pooling_dynamic_sizes():
    model = keras.Sequential([keras.Input((None, None, 3)), L.Conv2D(4, 3), L.GlobalMaxPooling2D()])
    conv = check(model)
    check_at_sizes(model, conv, [(8, 13, 3), (5, 6, 3)])


# Token rows of 7 steps (0 pads): pre-padded, post-padded, fully masked, holes inside, unpadded
TOKENS = np.array([[0, 0, 3, 5, 2, 7, 1], [4, 2, 6, 0, 0, 0, 0], [0] * 7, [3, 0, 5, 0, 2, 9, 0], [1, 2, 3, 4, 5, 6, 7]],
                  np.int32)


@pytest.mark.filterwarnings("ignore:Layer 'global_max_pooling1d")
@pytest.mark.parametrize("keepdims", [False, True], ids=["flat", "keepdims"])
def test_global_average_pooling_1d_under_an_embedding_mask(keepdims):
    """keras/src/layers/pooling/global_average_pooling1d.py: the mean over the unmasked steps only."""
    inp = keras.Input((None,), dtype="int32")
    x = L.Embedding(11, 5, mask_zero=True)(inp)
    model = keras.Model(inp, [L.GlobalAveragePooling1D(keepdims=keepdims)(x), L.GlobalMaxPooling1D()(x)])
    conv = check(model)
    forward = forward_source(conv)
    assert "torch.where(" in forward and ".amax(1)" in forward  # Keras' max pooling has no mask argument
    same_as_keras(conv, model, [TOKENS])
    assert np.isnan(np.asarray(model(TOKENS)[0])[2]).all()  # the fully masked row: 0 / 0 in Keras too


def test_global_average_pooling_1d_masked_mean_differs_from_the_mean():
    """A test that fails if the mask were dropped: the masked mean is not the plain mean."""
    inp = keras.Input((7,), dtype="int32")
    model = keras.Model(inp, L.GlobalAveragePooling1D()(L.Embedding(11, 5, mask_zero=True)(inp)))
    conv = check(model)
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(TOKENS[:2])).numpy()
    embedded = np.asarray(model.layers[1](TOKENS[:2]))
    assert np.abs(got - embedded.mean(1)).max() > 1e-3


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling_1d_with_explicit_mask(data_format):
    shape = (7, 3) if data_format == "channels_last" else (3, 7)
    inp, mask = keras.Input(shape), keras.Input((7,), dtype="bool")
    model = keras.Model([inp, mask], L.GlobalAveragePooling1D(data_format=data_format)(inp, mask=mask))
    conv = tf2torch.convert(model, verify=False)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5,) + shape).astype(np.float32)
    same_as_keras(conv, model, [x, TOKENS != 0])


def test_global_average_pooling_1d_after_masking():
    """Masking's mask passes through a Dense to the pooling."""
    model = keras.Sequential([keras.Input((7, 3)), L.Masking(0.0), L.Dense(4), L.GlobalAveragePooling1D()])
    conv = check(model)
    assert "torch.where(" in forward_source(conv)
    x = np.random.default_rng(2).standard_normal((4, 7, 3)).astype(np.float32)
    x[0, :3] = 0.0
    x[1, 4:] = 0.0
    x[2] = 0.0
    same_as_keras(conv, model, [x])

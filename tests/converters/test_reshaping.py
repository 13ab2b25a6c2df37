"""Reshaping layers against Keras: Flatten, Reshape, Permute, ZeroPadding, Cropping, UpSampling.

Beyond the numbers, these tests count the permutes in forward: a permute is only allowed where
the element order really changes (Keras reshapes channels-last, feature maps run channels-first).
"""
import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerascheck import check, forward_source
from tf2torch.errors import ConversionError

L = keras.layers


def permutes(conversion) -> int:
    return conversion.report["permutes_in_forward"]


def functional(inp, *layers):
    x = inp
    for layer in layers:
        x = layer(x)
    return keras.Model(inp, x)


# ---- Flatten ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 7, 3), (9, 2), (3, 5, 7, 2)], ids=["2d", "1d", "3d"])
def test_flatten_order_is_folded_into_dense(shape):
    conv_layer = {2: L.Conv1D, 3: L.Conv2D, 4: L.Conv3D}[len(shape)]
    conv = check(keras.Sequential([keras.Input(shape), conv_layer(4, 1), L.Flatten(), L.Dense(6)]))
    assert permutes(conv) == 0 and "x.flatten(1)" in forward_source(conv)


def test_flatten_of_a_unit_map_keeps_keras_order():
    # (N, C, 1, 1) flattens to the Keras order already: no unflatten/permute before the output
    model = keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), L.MaxPooling2D((7, 5)), L.Flatten()])
    conv = check(model)
    assert permutes(conv) == 0 and "unflatten" not in forward_source(conv)


# ---- Reshape ----------------------------------------------------------------------------------
def _se_block(pool):
    inp = keras.Input((9, 7, 6))
    x = L.Conv2D(8, 3, padding="same")(inp)
    s = pool(x)
    s = L.Reshape((8,))(s) if len(s.shape) == 4 else s
    s = L.Dense(2, activation="relu")(s)
    s = L.Dense(8, activation="sigmoid")(s)
    s = L.Reshape((1, 1, 8))(s)
    return keras.Model(inp, L.Conv2D(3, 1)(L.Multiply()([x, s])))


def _channel_shuffle():  # ShuffleNet: (H, W, g, C/g) -> swap -> (H, W, C)
    inp = keras.Input((9, 7, 3))
    x = L.Conv2D(6, 1)(inp)
    x = L.Reshape((9, 7, 2, 3))(x)
    x = L.Permute((1, 2, 4, 3))(x)
    x = L.Reshape((9, 7, 6))(x)
    return keras.Model(inp, L.Conv2D(4, 3)(x))


RESHAPES = [
    # (id, model factory, permutes allowed in forward, text the forward must contain)
    ("se-block-gap", lambda: _se_block(L.GlobalAveragePooling2D()), 0, ".reshape(-1, 8, 1, 1)"),
    ("se-block-full-pool", lambda: _se_block(L.MaxPooling2D((9, 7))), 0, ".reshape(-1, 8, 1, 1)"),
    ("dense-to-map", lambda: keras.Sequential([keras.Input((12,)), L.Dense(7 * 5 * 4), L.Reshape((7, 5, 4)),
                                               L.Conv2D(3, 3)]), 1, ".reshape(-1, 7, 5, 4).permute(0, 3, 1, 2)"),
    ("flatten-then-back", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 1), L.Flatten(),
                                                    L.Reshape((9, 7, 4)), L.Conv2D(2, 3)]), 0, ".reshape(-1, 4, 9, 7)"),
    ("regroup-rows", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 1), L.Reshape((7, 9, 4)),
                                               L.Conv2D(2, 3)]), 0, ".reshape(-1, 4, 7, 9)"),
    ("map-to-sequence", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 1), L.Reshape((-1, 4)),
                                                  L.Dense(5)]), 1, ".permute(0, 2, 3, 1).reshape(-1, 63, 4)"),
    ("rows-to-conv1d", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 1), L.Reshape((9, 28)),
                                                 L.Conv1D(5, 3)]), 1, ".permute(0, 3, 1, 2).reshape(-1, 28, 9)"),
    ("split-channels-conv3d", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(6, 1), L.Reshape((9, 7, 2, 3)),
                                                        L.Conv3D(2, 1)]), 1, ".reshape(-1, 2, 3, 9, 7).permute(0, 2, 3, 4, 1)"),
    ("channel-shuffle", _channel_shuffle, 1, ".transpose(1, 2).reshape(-1, 6, 9, 7)"),
    ("sequence-minus-one", lambda: keras.Sequential([keras.Input((6, 4)), L.Reshape((-1, 2, 2))]), 0,
     ".reshape(-1, 6, 2, 2)"),
    ("sequence-to-vector", lambda: keras.Sequential([keras.Input((6, 4)), L.Reshape((24,)), L.Dense(3)]), 0,
     ".flatten(1)"),
    ("unknown-length", lambda: keras.Sequential([keras.Input((None, 4)), L.Reshape((-1, 2, 2))]), 0,
     ".unflatten(1, (-1, 2, 2))"),
    ("unknown-size-map", lambda: keras.Sequential([keras.Input((None, None, 3)), L.Conv2D(4, 1), L.Reshape((-1, 4)),
                                                   L.Dense(5)]), 1, ".permute(0, 2, 3, 1).flatten(1).unflatten(1, (-1, 4))"),
    ("add-channel-axis", lambda: keras.Sequential([keras.Input((9, 7)), L.Reshape((9, 7, 1)), L.Conv2D(2, 3)]), 0,
     ".reshape(-1, 1, 9, 7)"),
    ("vector-to-conv1d", lambda: keras.Sequential([keras.Input((10,)), L.Reshape((5, 2)), L.Conv1D(3, 3)]), 1,
     ".reshape(-1, 5, 2).transpose(1, 2)"),
]


@pytest.mark.parametrize("make, allowed, text", [pytest.param(*r[1:], id=r[0]) for r in RESHAPES])
def test_reshape(make, allowed, text):
    conv = check(make())
    assert permutes(conv) == allowed
    assert text in forward_source(conv)


@st.composite
def regroupings(draw):
    """A channels-last map (h, w, c) and a random regrouping of its elements into 1 to 4 axes."""
    shape = tuple(draw(st.sampled_from([1, 2, 3, 5, 6])) for _ in range(3))
    primes = [p for d in shape for p in {1: [], 2: [2], 3: [3], 5: [5], 6: [2, 3]}[d]]
    rank = draw(st.integers(1, 4))
    target = [1] * rank
    for p in draw(st.permutations(primes)):
        target[draw(st.integers(0, rank - 1))] *= p
    return shape, tuple(target), draw(st.booleans())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regroupings())
def test_reshape_property(case):
    """Any regrouping of a channels-first map, read by a spatial layer (channels-first again: at
    most a permute on each side) or by Dense (Keras order: at most the one back to channels-last)."""
    shape, target, spatial = case
    consumer = {2: L.Conv1D(2, 1), 3: L.Conv2D(2, 1), 4: L.Conv3D(2, 1)}.get(len(target)) if spatial else None
    layers = [keras.Input(shape), L.Conv2D(shape[-1], 1), L.Reshape(target), consumer or L.Dense(2)]
    conv = check(keras.Sequential(layers))
    assert permutes(conv) <= (2 if consumer else 1)


# ---- Permute ----------------------------------------------------------------------------------
PERMUTES = [
    ("sequence", lambda: keras.Sequential([keras.Input((5, 3)), L.Permute((2, 1)), L.Dense(4)]), 1,
     ".transpose(1, 2)"),
    ("swap-image-axes", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), L.Permute((2, 1, 3)),
                                                  L.Conv2D(2, 3)]), 1, ".transpose(2, 3)"),
    ("cancels-channels-first", lambda: keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), L.Permute((3, 1, 2)),
                                                         L.Dense(2)]), 0, None),
    ("volume", lambda: keras.Sequential([keras.Input((5, 3, 7, 2)), L.Conv3D(4, 1), L.Permute((3, 1, 2, 4)),
                                         L.Conv3D(2, 1)]), 1, ".permute(0, 1, 4, 2, 3)"),
    ("unit-axis-moves", lambda: keras.Sequential([keras.Input((1, 5, 3)), L.Permute((2, 1, 3)), L.Dense(4)]), 0,
     ".reshape(-1, 5, 1, 3)"),
    ("chained-identity", lambda: keras.Sequential([keras.Input((2, 3, 4)), L.Permute((2, 3, 1)), L.Permute((3, 1, 2)),
                                                   L.Dense(5)]), 0, None),
]


@pytest.mark.parametrize("make, allowed, text", [pytest.param(*r[1:], id=r[0]) for r in PERMUTES])
def test_permute(make, allowed, text):
    conv = check(make())
    assert permutes(conv) == allowed
    if text is None:  # the permute cancels: the data is not touched at all
        assert ".reshape(" not in forward_source(conv)
    else:
        assert text in forward_source(conv)


# ---- ZeroPadding / Cropping / UpSampling ------------------------------------------------------
def _map(shape, layer, conv=True):
    """`layer` between two convolutions (channels-first) or alone on the Keras-order input."""
    if not conv:
        return keras.Sequential([keras.Input(shape), layer])
    conv_layer = {2: L.Conv1D, 3: L.Conv2D, 4: L.Conv3D}[len(shape)]
    return keras.Sequential([keras.Input(shape), conv_layer(3, 1), layer, conv_layer(2, 1)])


SPATIAL = [
    # (id, model factory, text the forward or __init__ must contain)
    ("pad1d-sequence", lambda: _map((9, 4), L.ZeroPadding1D((1, 2)), conv=False), "F.pad(x, (0, 0, 1, 2))"),
    ("pad1d-map", lambda: _map((9, 4), L.ZeroPadding1D(2)), "nn.ZeroPad1d(2)"),
    ("pad2d-int", lambda: _map((9, 7, 2), L.ZeroPadding2D(1)), "nn.ZeroPad2d(1)"),
    ("pad2d-pair", lambda: _map((9, 7, 2), L.ZeroPadding2D((1, 2))), "nn.ZeroPad2d((2, 2, 1, 1))"),
    ("pad2d-pairs", lambda: _map((9, 7, 2), L.ZeroPadding2D(((0, 1), (2, 3)))), "nn.ZeroPad2d((2, 3, 0, 1))"),
    ("pad3d", lambda: _map((5, 3, 7, 2), L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))), "nn.ZeroPad3d((1, 1, 0, 2, 1, 0))"),
    ("crop1d-sequence", lambda: _map((9, 4), L.Cropping1D((2, 0)), conv=False), "x[:, 2:]"),
    ("crop1d-map", lambda: _map((9, 4), L.Cropping1D((1, 3))), "x[:, :, 1:-3]"),
    ("crop2d-int", lambda: _map((9, 7, 2), L.Cropping2D(1)), "x[:, :, 1:-1, 1:-1]"),
    ("crop2d-pair", lambda: _map((9, 7, 2), L.Cropping2D((2, 0))), "x[:, :, 2:-2]"),
    ("crop2d-pairs", lambda: _map((9, 7, 2), L.Cropping2D(((0, 3), (1, 0)))), "x[:, :, :-3, 1:]"),
    ("crop3d", lambda: _map((5, 7, 9, 2), L.Cropping3D(((1, 0), (0, 2), (1, 1)))), "x[:, :, 1:, :-2, 1:-1]"),
    ("up1d-sequence", lambda: _map((9, 4), L.UpSampling1D(3), conv=False), "x.repeat_interleave(3, dim=1)"),
    ("up1d-map", lambda: _map((9, 4), L.UpSampling1D(2)), "nn.Upsample(scale_factor=2, mode='nearest')"),
    ("up2d-nearest", lambda: _map((9, 7, 2), L.UpSampling2D((2, 4))),
     "nn.Upsample(scale_factor=(2, 4), mode='nearest')"),
    ("up2d-nearest-odd", lambda: _map((9, 7, 2), L.UpSampling2D((3, 2))),
     "nn.Upsample(scale_factor=(3, 2), mode='nearest-exact')"),
    ("up2d-bilinear", lambda: _map((9, 7, 2), L.UpSampling2D((2, 3), interpolation="bilinear")),
     "nn.Upsample(scale_factor=(2, 3), mode='bilinear', align_corners=False)"),
    ("up2d-bilinear-alone", lambda: _map((9, 7, 2), L.UpSampling2D(3, interpolation="bilinear"), conv=False),
     "mode='bilinear'"),
    ("up3d", lambda: _map((3, 5, 7, 2), L.UpSampling3D((2, 1, 3))),
     "nn.Upsample(scale_factor=(2, 1, 3), mode='nearest-exact')"),
]


@pytest.mark.parametrize("make, text", [pytest.param(*r[1:], id=r[0]) for r in SPATIAL])
def test_padding_cropping_upsampling(make, text):
    conv = check(make())
    assert text in conv.source
    assert permutes(conv) == 0


def test_sequence_model_is_not_permuted():
    model = keras.Sequential([keras.Input((9, 4)), L.Dense(5), L.ZeroPadding1D(1), L.Cropping1D((0, 2)),
                              L.UpSampling1D(2), L.Dense(3)])
    conv = check(model)
    assert permutes(conv) == 0 and "F.pad(x, (0, 0, 1, 1))" in conv.source


@pytest.mark.parametrize("layer, message", [
    pytest.param(L.UpSampling2D(2, interpolation="bicubic"), "interpolation='bicubic'", id="bicubic"),
    pytest.param(L.ZeroPadding2D(1, data_format="channels_first"), "channels_first", id="channels-first"),
])
def test_refused(layer, message):
    with pytest.raises(ConversionError, match=message):
        check(keras.Sequential([keras.Input((5, 7, 3)), layer]))


# ---- legacy Keras 2 files ---------------------------------------------------------------------
def test_keras2_h5(tmp_path):
    import tf_keras

    import tf2torch
    from kerascheck import TOLERANCE, randomize

    K = tf_keras.layers
    inp = tf_keras.Input((9, 7, 3))
    x = K.Conv2D(4, 3)(inp)
    x = K.ZeroPadding2D(((1, 0), (2, 1)))(x)
    x = K.Cropping2D(((0, 1), 1))(x)
    x = K.UpSampling2D((2, 3), interpolation="bilinear")(x)
    x = K.Conv2D(4, 1)(x)
    x = K.Reshape((-1, 4))(x)
    x = K.Permute((2, 1))(x)
    x = K.UpSampling1D(2)(K.Cropping1D((1, 2))(K.ZeroPadding1D(2)(x)))
    model = tf_keras.Model(inp, K.Dense(3)(K.Flatten()(x)))
    randomize(model)
    model.save(tmp_path / "model.h5")
    conversion = tf2torch.convert(tmp_path / "model.h5", tolerance=TOLERANCE)
    assert conversion.report["verification"]["passed"]
    assert permutes(conversion) == 0


@pytest.mark.parametrize("n", [1, 5], ids=["once", "five"])
def test_repeat_vector(n):
    inp = keras.Input((7,))
    model = keras.Model(inp, [L.RepeatVector(n)(L.Dense(3)(inp)), L.Conv1D(2, 1)(L.RepeatVector(n)(inp))])
    conv = check(model)
    forward = forward_source(conv)
    assert f".unsqueeze(1).repeat(1, {n}, 1)" in forward  # (N, n, D) for the output
    assert f".unsqueeze(2).repeat(1, 1, {n})" in forward  # channels-first (N, D, n) for the conv
    assert ".permute(" not in forward and ".transpose(" not in forward


def test_repeat_vector_of_flattened_map_restores_keras_order():
    model = keras.Sequential([keras.Input((5, 4, 3)), L.Conv2D(2, 1), L.Flatten(), L.RepeatVector(3), L.LSTM(4)])
    check(model)

"""keras.ops nodes of functional graphs, against Keras: arithmetic with tensors and constants,
element-wise ops and activations, reductions, shape ops and indexing, in Keras and channels-first
layouts (a Conv2D makes a feature map channels-first; odd sizes throughout)."""
import keras
import numpy as np
import pytest

import tf2torch
from kerascheck import check, forward_source
from tf2torch.errors import ConversionError

L = keras.layers
ops = keras.ops
RNG = np.random.default_rng(1)


def feature_map(shape=(9, 7, 3), filters=4):
    """An input and a channels-first feature map computed from it (a Conv2D)."""
    inp = keras.Input(shape)
    return inp, L.Conv2D(filters, 3)(inp)  # (N, 7, 5, 4) in Keras, NCHW in torch


def model_of(fn, shape=(9, 7, 3), spatial=True):
    """fn(x) -> outputs, applied to a channels-first feature map (or the Keras-layout input)."""
    inp, x = feature_map(shape) if spatial else (keras.Input(shape),) * 2
    out = fn(x)
    return keras.Model(inp, list(out) if isinstance(out, (list, tuple)) else out)


def assert_no_permute(conv, before_return=False):
    """No permute in forward (or none before the return, where odd layouts go back to Keras)."""
    forward = forward_source(conv)
    assert ".permute(" not in (forward.rsplit("return", 1)[0] if before_return else forward)


# ----------------------------------------------------------------------------------------------
# arithmetic
# ----------------------------------------------------------------------------------------------
ARITHMETIC = {
    "python-operators": lambda x: [x + 1, 2 * x, x - 0.5, 1.5 - x, x / (ops.abs(x) + 1.0), -x, x ** 2, 2.0 ** x,
                                   3.0 / (x * x + 1.0), x * x],
    "ops-functions": lambda x: [ops.add(x, x), ops.subtract(x, 1.0), ops.multiply(0.5, x), ops.divide(x, 3.0),
                                ops.true_divide(1.0, ops.abs(x) + 1.0), ops.power(ops.abs(x), 0.5),
                                ops.negative(x), ops.square(x)],
    "floor-div-mod": lambda x: [x // 0.7, x % 0.7, ops.floor_divide(x, 2.0), ops.mod(x, 1.5)],
}


@pytest.mark.parametrize("spatial", [True, False], ids=["channels-first", "keras-layout"])
@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_arithmetic(name, spatial):
    conv = check(model_of(ARITHMETIC[name], spatial=spatial))
    assert_no_permute(conv)


def test_python_operators_read_naturally():
    conv = check(model_of(lambda x: [x * 2.0 + 1, -x, x ** 2]))
    forward = forward_source(conv)
    for text in ("* 2.0", "+ 1", "= -", "** 2"):
        assert text in forward


CONSTANTS = {
    "channel-vector": lambda x: x + RNG.normal(size=(4,)).astype("float32"),
    "row-matrix-left": lambda x: ops.subtract(RNG.normal(size=(5, 4)).astype("float32"), x),
    "full-rank": lambda x: x * RNG.normal(size=(1, 7, 5, 4)).astype("float32"),
    "column": lambda x: ops.divide(x, RNG.uniform(1, 2, size=(7, 1, 1)).astype("float32")),
    "size-one": lambda x: x * np.array([3.0], "float32"),
    "float64-array": lambda x: ops.maximum(x, RNG.normal(size=(4,))),
}


@pytest.mark.parametrize("name", list(CONSTANTS))
def test_numpy_constants_are_buffers_in_torch_layout(name):
    conv = check(model_of(CONSTANTS[name]))
    assert_no_permute(conv)
    if name != "size-one":
        assert "register_buffer" in conv.source
    else:
        assert "register_buffer" not in conv.source and "* 3.0" in forward_source(conv)


def test_constant_on_sequence_and_flat_features():
    inp = keras.Input((6, 5))
    bias = RNG.normal(size=(5,)).astype("float32")
    seq = inp * bias  # Keras layout: a plain broadcast
    flat = L.Flatten()(L.Conv1D(3, 1)(inp))  # reordered features: a constant needs Keras order
    model = keras.Model(inp, [seq, flat + RNG.normal(size=(18,)).astype("float32"), flat * 2.0])
    check(model)


def test_two_tensors_in_different_layouts():
    inp, x = feature_map()
    other = keras.Input((7, 5, 4))  # Keras layout, same shape as the feature map
    model = keras.Model([inp, other], [x * other, other - x, ops.maximum(x, other)])
    check(model)


def test_lower_rank_tensor_broadcasts_on_trailing_axes():
    # (N, H, W, C) - (H, W, C): a batch statistic broadcast over the batch, channels-first
    model = model_of(lambda x: [x - ops.mean(x, axis=0), x * ops.max(x, axis=(0, 1))])
    conv = check(model)
    assert_no_permute(conv)


# ----------------------------------------------------------------------------------------------
# element-wise ops and activations
# ----------------------------------------------------------------------------------------------
ELEMENTWISE = {
    "activations": lambda x: [ops.relu(x), ops.sigmoid(x), ops.tanh(x), ops.silu(x), ops.swish(x), ops.relu6(x * 4),
                              ops.softplus(x), ops.softsign(x), ops.log_sigmoid(x), ops.selu(x), ops.hard_sigmoid(x * 4),
                              ops.hard_silu(x * 4), ops.hard_tanh(x * 2), ops.tanh_shrink(x)],
    "parametric": lambda x: [ops.gelu(x), ops.gelu(x, approximate=False), ops.leaky_relu(x), ops.leaky_relu(x, 0.1),
                             ops.elu(x), ops.elu(x, alpha=0.5), ops.celu(x, alpha=2.0), ops.soft_shrink(x, 0.3),
                             ops.hard_shrink(x), ops.threshold(x, 0.2, -1.0)],
    "softmax": lambda x: [ops.softmax(x), ops.softmax(x, axis=1), ops.log_softmax(x, axis=-2), ops.softmax(x, axis=None),
                          ops.glu(x, axis=-1)],
    "math": lambda x: [ops.abs(x), ops.absolute(x), ops.sqrt(ops.abs(x)), ops.exp(x), ops.log(ops.abs(x) + 0.5),
                       ops.sin(x), ops.cos(x), ops.floor(x * 3), ops.ceil(x * 3), ops.sign(x),
                       ops.reciprocal(ops.abs(x) + 1), ops.log1p(ops.abs(x)), ops.expm1(x),
                       ops.rsqrt(ops.abs(x) + 0.1), ops.erf(x)],
    "clip-max-min": lambda x: [ops.clip(x, -0.5, 0.5), ops.maximum(x, 0.0), ops.minimum(0.25, x),
                               ops.maximum(x, x * x), ops.minimum(x, -x)],
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise(name):
    conv = check(model_of(ELEMENTWISE[name]))
    assert_no_permute(conv)


def test_gelu_approximation_and_softmax_axis_are_explicit():
    conv = check(model_of(lambda x: [ops.gelu(x), ops.gelu(x, approximate=False), ops.softmax(x, axis=-1)]))
    forward = forward_source(conv)
    assert "approximate='tanh'" in forward and "approximate='none'" in forward
    assert "F.softmax(x, dim=1)" in forward  # Keras' channel axis, channels-first in torch


def test_softmax_on_flattened_features_keeps_their_order():
    inp = keras.Input((5, 3, 2))
    flat = L.Flatten()(L.Conv2D(3, 1)(inp))
    model = keras.Model(inp, L.Dense(4)(ops.softmax(flat)))
    conv = check(model)
    assert_no_permute(conv)


def test_where_and_comparisons():
    def fn(x):
        return [ops.where(x > 0, x, 0.1 * x), ops.where(x <= 0.2, 1.0, 0.0), ops.where(ops.equal(x, x), x, -x),
                x >= 0.5, ops.less(x, ops.abs(x) - 0.1), ops.not_equal(x, 0.0),
                ops.logical_and(x > -0.5, x < 0.5), ops.logical_not(x > 0), ops.logical_or(x > 1, x < -1),
                ops.where(ops.greater(x, RNG.normal(size=(4,)).astype("float32")), x, 2.0)]
    check(model_of(fn))


def test_dtypes():
    inp = keras.Input((6, 5), dtype="int32")
    x = ops.cast(inp, "float32")
    outs = [x * 0.5, inp * 2, inp + 0.5, ops.sum(inp > 4, axis=-1), ops.mean(inp, axis=1), ops.sqrt(inp),
            ops.cast(x * 0.7, "int32"), ops.cast(x - 4, "bool"), ops.cast(x / 3, "float16"), ops.max(inp, axis=-1)]
    model = keras.Model(inp, outs)
    conv = check(model)
    assert "torch.float16" in conv.source


# ----------------------------------------------------------------------------------------------
# reductions
# ----------------------------------------------------------------------------------------------
AXES = [
    pytest.param({"axis": -1}, id="channels"),
    pytest.param({"axis": (1, 2), "keepdims": True}, id="spatial-keepdims"),
    pytest.param({"axis": 1}, id="height"),
    pytest.param({"axis": (0, 2)}, id="batch-width"),
    pytest.param({"axis": None}, id="all"),
    pytest.param({"axis": None, "keepdims": True}, id="all-keepdims"),
]


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod", "amax", "logsumexp"])
def test_reductions(reduce):
    fn = getattr(ops, reduce)
    model = model_of(lambda x: [fn(x, **p.values[0]) for p in AXES])
    conv = check(model)
    assert_no_permute(conv, before_return=True)  # (0, 2) leaves (C, H) in torch: Keras order at return


def test_ops_keras_mask_code_uses():
    """any/all, zeros_like/ones_like and convert_to_tensor: what Keras' compute_mask code records."""
    def fn(x):
        return [ops.any(x > 0.5, axis=-1), ops.all(x > -1.0, axis=(1, 2)), ops.any(x > 1.0), ops.all(x < 2.0, axis=1, keepdims=True),
                ops.zeros_like(x > 0) | (x > 0.3), ops.ones_like(x) + x, ops.zeros_like(x, dtype="bool") | (x < 0),
                ops.convert_to_tensor(x) * 2.0]
    conv = check(model_of(fn))
    assert "torch.zeros_like(" in conv.source and ".any(" in conv.source and ".all(" in conv.source


def test_global_average_by_hand_feeds_dense_without_permute():
    conv = check(model_of(lambda x: L.Dense(3)(ops.mean(x, axis=[1, 2]))))
    assert "x.mean(dim=(2, 3))" in forward_source(conv)
    assert_no_permute(conv)


def test_reductions_on_flattened_features():
    inp = keras.Input((5, 3, 2))
    flat = L.Flatten()(L.Conv2D(3, 1)(inp))
    model = keras.Model(inp, [ops.sum(flat, axis=-1), ops.max(flat, axis=1, keepdims=True), ops.mean(flat, axis=0)])
    check(model)


# ----------------------------------------------------------------------------------------------
# shape ops and indexing
# ----------------------------------------------------------------------------------------------
INDEXING = {
    "first-row": lambda x: x[:, 0],
    "channels": lambda x: x[..., :3],
    "last-channel": lambda x: x[..., -1],
    "strided": lambda x: x[:, 1:6:2, ::2],
    "newaxis-mixed": lambda x: x[:, 1:4:2, ..., None, 0],
    "newaxis-front": lambda x: x[:, None],
    "batch-index": lambda x: x[0],
    "list-key": lambda x: ops.get_item(x, [slice(None), slice(2, None)]),
}


@pytest.mark.parametrize("spatial", [True, False], ids=["channels-first", "keras-layout"])
@pytest.mark.parametrize("name", list(INDEXING))
def test_get_item(name, spatial):
    check(model_of(lambda x: [INDEXING[name](x), INDEXING[name](x) * 2.0], spatial=spatial))


def test_slicing_a_feature_map_stays_channels_first():
    inp, x = feature_map()
    model = keras.Model(inp, [L.Conv2D(2, 1)(x[..., :3]), L.Conv1D(2, 1)(x[:, 0]), L.Conv2D(2, 1)(x[:, 1:, ::2])])
    conv = check(model)
    forward = forward_source(conv)
    assert_no_permute(conv)
    assert "[:, :3]" in forward and "[:, :, 0]" in forward


SHAPES = {
    "reshape": lambda x: ops.reshape(x, (-1, x.shape[1] * x.shape[2], x.shape[3])),
    "reshape-split": lambda x: [ops.reshape(x, (-1, x.shape[2], x.shape[1], x.shape[3], 1)),
                                ops.reshape(x, (2, -1))],
    "transpose": lambda x: ops.transpose(x, (0, 2, 1, 3)),
    "transpose-default": lambda x: ops.transpose(x),
    "expand-dims": lambda x: [ops.expand_dims(x, 1), ops.expand_dims(x, -1), ops.expand_dims(x, (0, 2))],
    "squeeze": lambda x: [ops.squeeze(x[:, :1], axis=1), ops.squeeze(x[..., :1]), ops.squeeze(x[:, :1, :, :1], (1, -1))],
    "concatenate": lambda x: [ops.concatenate([x, x * 2.0], axis=-1), ops.concatenate([x, -x, x], axis=1)],
    "stack": lambda x: [ops.stack([x, x * 2.0], axis=1), ops.stack([x, -x], axis=-1), ops.stack([x, x])],
}


@pytest.mark.parametrize("spatial", [True, False], ids=["channels-first", "keras-layout"])
@pytest.mark.parametrize("name", list(SHAPES))
def test_shape_ops(name, spatial):
    check(model_of(SHAPES[name], spatial=spatial))


def test_shape_ops_feed_spatial_layers_without_permute():
    inp = keras.Input((9, 7))
    x = L.Conv2D(3, 3)(ops.expand_dims(inp, -1))  # (N, H, W) -> (N, 1, H, W): an unsqueeze
    y = L.Conv3D(2, 1)(ops.stack([x, x * 2.0], axis=1))  # stacked depth, channels-first
    z = L.Conv2D(2, 1)(ops.transpose(ops.transpose(x, (0, 3, 1, 2)), (0, 2, 3, 1)))
    w = L.Conv2D(2, 1)(ops.concatenate([x, z], axis=-1))
    conv = check(keras.Model(inp, [y, w, ops.squeeze(L.Conv2D(1, 1)(x), -1)]))
    assert_no_permute(conv)
    assert "unsqueeze(1)" in forward_source(conv)


def test_reshape_flatten_folds_into_dense():
    conv = check(model_of(lambda x: L.Dense(3)(ops.reshape(x, (-1, 7 * 5 * 4)))))
    assert_no_permute(conv)
    assert "flatten(1)" in forward_source(conv)


def test_reshape_to_feature_map_goes_channels_first_once():
    inp = keras.Input((12,))
    x = ops.reshape(L.Dense(5 * 3 * 4)(inp), (-1, 5, 3, 4))
    conv = check(keras.Model(inp, L.Conv2D(2, 3, padding="same")(x)))
    assert forward_source(conv).count(".permute(") == 1


# ----------------------------------------------------------------------------------------------
# refused
# ----------------------------------------------------------------------------------------------
def test_saved_keras_file_round_trip(tmp_path):
    inp, x = feature_map()
    model = keras.Model(inp, [ops.mean(x * 2.0 + np.arange(4, dtype="float32"), axis=(1, 2)), x[:, 0, ..., :2]])
    model.save(tmp_path / "ops.keras")
    conv = check(str(tmp_path / "ops.keras"), randomize_weights=False)
    assert "register_buffer" in conv.source
    assert_no_permute(conv)


def test_unsupported_ops_are_all_reported():
    inp = keras.Input((7, 5))
    outs = [inp[:, ::-1], ops.cumsum(inp, axis=1), ops.max(inp, axis=1, initial=0.5), ops.where(inp > 0)]
    with pytest.raises(ConversionError) as info:
        tf2torch.convert(keras.Model(inp, outs))
    text = str(info.value)
    assert "4 problem" in text and "step -1" in text and "Cumsum is not supported" in text
    assert "initial" in text and "returns indices" in text

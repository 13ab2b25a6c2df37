"""Merging layers against Keras: element-wise merges, Concatenate on any axis, mixed layouts, merges
under Keras masks, Dot.

Functional graphs with branches and several inputs; the forward must read like hand-written
torch (`a + b`, `torch.cat([a, b], dim=1)`) and permute only where layouts really differ.
"""
import keras
import numpy as np
import pytest

from kerascheck import TOLERANCE, check, forward_source, same_as_keras

L = keras.layers


def permutes(conversion) -> int:
    return conversion.report["permutes_in_forward"]


def two_branches(merge, shape=(9, 7, 3), n=2):
    """n convolution branches of one image merged, then a convolution (all channels-first)."""
    inp = keras.Input(shape)
    conv = {2: L.Conv1D, 3: L.Conv2D, 4: L.Conv3D}[len(shape)]
    branches = [conv(4, 1 + 2 * i, padding="same")(inp) for i in range(n)]
    return keras.Model(inp, conv(2, 1)(merge(branches)))


ELEMENTWISE = [
    ("add", L.Add, 2, " + "),
    ("subtract", L.Subtract, 2, " - "),
    ("multiply", L.Multiply, 2, " * "),
    ("average", L.Average, 2, ") / 2"),
    ("maximum", L.Maximum, 2, "torch.maximum("),
    ("minimum", L.Minimum, 2, "torch.minimum("),
    ("add-3", L.Add, 3, " + "),
    ("average-3", L.Average, 3, ") / 3"),
    ("maximum-3", L.Maximum, 3, "torch.maximum(torch.maximum("),
    ("multiply-3", L.Multiply, 3, " * "),
]


@pytest.mark.parametrize("cls, n, text", [pytest.param(*e[1:], id=e[0]) for e in ELEMENTWISE])
def test_elementwise_on_feature_maps(cls, n, text):
    conv = check(two_branches(cls(), n=n))
    assert text in forward_source(conv)
    assert permutes(conv) == 0


def test_several_graph_inputs():
    a, b, c = keras.Input((5,), name="a"), keras.Input((5,), name="b"), keras.Input((5,), name="c")
    y = L.Dense(3)(L.Average()([L.Dense(5)(a), b, c]))
    model = keras.Model([a, b, c], [y, L.Subtract()([a, b])])
    conv = check(model)
    assert "(dense + b + c) / 3" in forward_source(conv) or "+ b + c) / 3" in forward_source(conv)


def test_residual_blocks():
    inp = keras.Input((11, 9, 4))
    x = inp
    for _ in range(2):
        y = L.Conv2D(4, 3, padding="same", activation="relu")(x)
        y = L.Conv2D(4, 3, padding="same")(y)
        x = L.Add()([x, y])
    model = keras.Model(inp, L.Dense(3)(L.Flatten()(x)))
    conv = check(model)
    assert permutes(conv) == 0 and forward_source(conv).count(" + ") == 2


@pytest.mark.parametrize("shape", [(9, 7, 3), (13, 3), (5, 3, 7, 2)], ids=["2d", "1d", "3d"])
def test_vector_broadcasts_over_a_map(shape):
    # Keras inserts the missing axes after the batch axis: (N, C) -> (N, 1, 1, C); channels-first (N, C, 1, 1)
    inp, vec = keras.Input(shape), keras.Input((4,))
    conv = {2: L.Conv1D, 3: L.Conv2D, 4: L.Conv3D}[len(shape)]
    x = conv(4, 1)(inp)
    model = keras.Model([inp, vec], conv(2, 1)(L.Add()([x, L.Dense(4)(vec)])))
    conversion = check(model)
    assert "[:, :" + ", None" * (len(shape) - 1) + "]" in forward_source(conversion)
    assert permutes(conversion) == 0


def test_sequence_broadcasts_over_a_map():
    # (N, W, C) against (N, H, W, C): Keras makes it (N, 1, W, C); channels-first (N, C, 1, W)
    img, seq = keras.Input((9, 7, 3)), keras.Input((7, 3))
    model = keras.Model([img, seq], L.Conv2D(2, 1)(L.Subtract()([L.Conv2D(4, 3, padding="same")(img),
                                                                 L.Conv1D(4, 3, padding="same")(seq)])))
    conv = check(model)
    assert "[:, :, None]" in forward_source(conv) and permutes(conv) == 0


def test_vector_broadcasts_over_a_sequence_in_keras_order():
    seq, vec = keras.Input((6, 4)), keras.Input((4,))
    model = keras.Model([seq, vec], L.Multiply()([seq, vec]))
    conv = check(model)
    assert "[:, None]" in forward_source(conv) and permutes(conv) == 0


def test_same_rank_broadcast_of_unit_axes():
    inp = keras.Input((9, 7, 3))
    x = L.Conv2D(4, 3)(inp)
    gate = L.Reshape((1, 1, 4))(L.Dense(4, activation="sigmoid")(L.GlobalAveragePooling2D()(x)))
    conv = check(keras.Model(inp, L.Conv2D(2, 1)(L.Multiply()([x, gate]))))
    assert permutes(conv) == 0


@pytest.mark.parametrize("order", [(0, 1), (1, 0), (0, 1, 2), (1, 0, 2)], ids=["map-first", "vector-first",
                                                                           "majority-map", "majority-vector-first"])
def test_mixed_layouts_permute_only_the_odd_ones(order):
    # channels-first conv outputs beside a Keras-order reshaped vector (its consumers are not spatial)
    img, vec = keras.Input((9, 7, 3)), keras.Input((5,))
    v = L.Reshape((9, 7, 2))(L.Dense(9 * 7 * 2)(vec))
    maps = [L.Conv2D(2, 3, padding="same")(img), L.Conv2D(2, 1)(img)]
    inputs = [[maps[0], v, maps[1]][k] for k in order]
    conv = check(keras.Model([img, vec], L.Dense(3)(L.Flatten()(L.Add()(inputs)))))
    assert permutes(conv) == 1


def test_flat_inputs_keep_their_shared_order():
    # two flattened channels-first maps of one shape add in their common (C, H, W) order
    inp = keras.Input((9, 7, 3))
    a = L.Flatten()(L.Conv2D(4, 3)(inp))
    b = L.Flatten()(L.Conv2D(4, 3, activation="relu")(inp))
    conv = check(keras.Model(inp, L.Dense(5)(L.Maximum()([a, b]))))
    assert permutes(conv) == 0 and "unflatten" not in forward_source(conv)


CONCATS = [
    # (id, input shape, axis, expected dim in torch.cat) on channels-first maps between convolutions
    ("channels", (9, 7, 3), -1, "dim=1"),
    ("channels-positive", (9, 7, 3), 3, "dim=1"),
    ("height", (9, 7, 3), 1, "dim=2"),
    ("width-negative", (9, 7, 3), -2, "dim=3"),
    ("height-negative", (9, 7, 3), -3, "dim=2"),
    ("1d-channels", (13, 3), -1, "dim=1"),
    ("1d-time", (13, 3), 1, "dim=2"),
    ("3d-depth", (5, 3, 7, 2), 1, "dim=2"),
]


@pytest.mark.parametrize("shape, axis, dim", [pytest.param(*c[1:], id=c[0]) for c in CONCATS])
def test_concatenate_feature_maps(shape, axis, dim):
    conv = check(two_branches(L.Concatenate(axis=axis), shape=shape, n=3))
    assert f"torch.cat([" in forward_source(conv) and dim in forward_source(conv)
    assert permutes(conv) == 0


@pytest.mark.parametrize("axis, dim", [(-1, "dim=-1"), (1, "dim=1"), (2, "dim=2")], ids=["last", "time", "features"])
def test_concatenate_sequences_in_keras_order(axis, dim):
    a, b = keras.Input((6, 4)), keras.Input((6, 4))
    model = keras.Model([a, b], L.Dense(3)(L.Concatenate(axis=axis)([a, L.Dense(4)(b)])))
    conv = check(model)
    assert dim in forward_source(conv) and permutes(conv) == 0


def test_concatenate_of_flattened_maps():
    # different maps flattened: no single feature order describes the result, Keras order it is
    inp = keras.Input((9, 7, 3))
    a = L.Flatten()(L.Conv2D(4, 3)(inp))
    b = L.Flatten()(L.Conv2D(2, 5)(inp))
    check(keras.Model(inp, L.Dense(5)(L.Concatenate()([a, b]))))


def test_inception_style_block():
    inp = keras.Input((13, 11, 3))
    b1 = L.Conv2D(4, 1)(inp)
    b2 = L.Conv2D(3, 3, padding="same")(L.Conv2D(2, 1)(inp))
    b3 = L.Conv2D(2, 1)(L.MaxPooling2D(3, strides=1, padding="same")(inp))
    x = L.Concatenate()([b1, b2, b3])
    y = L.Add()([L.Conv2D(9, 1)(x), x])
    conv = check(keras.Model(inp, L.GlobalAveragePooling2D()(y)))
    assert "torch.cat([" in forward_source(conv) and "dim=1" in forward_source(conv)
    assert permutes(conv) == 0


# ----------------------------------------------------------------------------------------------
# Merges under Keras masks (keras/src/layers/merging/multiply.py, base_merge.py)
# ----------------------------------------------------------------------------------------------
# Token rows of 7 steps (0 pads): pre-padded, post-padded, fully masked, holes inside, unpadded
TOKENS = np.array([[0, 0, 3, 5, 2, 7, 1], [4, 2, 6, 0, 0, 0, 0], [0] * 7, [3, 0, 5, 0, 2, 9, 0], [1, 2, 3, 4, 5, 6, 7]],
                  np.int32)


MASKED_MERGES = [pytest.param(L.Multiply, id="multiply"), pytest.param(L.Maximum, id="maximum"),
                 pytest.param(L.Minimum, id="minimum")]


@pytest.mark.parametrize("pattern", ["mm", "mu", "um", "mum"])  # m: the input carries a mask, u: not
@pytest.mark.parametrize("cls", MASKED_MERGES)
def test_merge_under_masks(cls, pattern):
    ins = [keras.Input((7,), dtype="int32") for _ in pattern]
    xs = [L.Embedding(10, 5, mask_zero=p == "m")(i) for p, i in zip(pattern, ins)]
    model = keras.Model(ins, cls()(xs))
    conv = check(model)
    assert "torch.where(" in forward_source(conv)
    # each input its own padding (rows shifted), a fully masked row included
    arrays = [np.roll(TOKENS, k, axis=0) for k in range(len(pattern))]
    got = same_as_keras(conv, model, arrays)
    plain = [np.asarray(layer(a)) for layer, a in zip(model.layers[len(pattern):], arrays)]
    unmasked = {L.Multiply: np.prod, L.Maximum: np.max, L.Minimum: np.min}[cls](np.stack(plain), axis=0)
    assert np.abs(got - unmasked).max() > 1e-3  # the masks change the values


@pytest.mark.parametrize("cls", MASKED_MERGES)
def test_merge_with_a_lower_rank_input(cls):
    """Merge.call expands the lower-rank input (b[:, None]): the full-rank input keeps its mask."""
    a, b = keras.Input((7,), dtype="int32"), keras.Input((5,))
    model = keras.Model([a, b], cls()([L.Embedding(10, 5, mask_zero=True)(a), L.Dense(5)(b)]))
    conv = check(model)
    assert "torch.where(" in forward_source(conv)
    same_as_keras(conv, model, [TOKENS, np.random.default_rng(0).standard_normal((5, 5)).astype(np.float32)])


@pytest.mark.parametrize("cls", [L.Add, L.Subtract, L.Average], ids=["add", "subtract", "average"])
def test_merges_that_pass_masks_on(cls):
    """Their values ignore the masks (only compute_mask reads them); the mask reaches the next pooling."""
    a, b = keras.Input((7,), dtype="int32"), keras.Input((7,), dtype="int32")
    emb = L.Embedding(10, 4, mask_zero=True)
    model = keras.Model([a, b], L.GlobalAveragePooling1D()(cls()([emb(a), emb(b)])))
    conv = check(model)
    same_as_keras(conv, model, [TOKENS, TOKENS[::-1].copy()])


# ----------------------------------------------------------------------------------------------
# Dot (keras/src/layers/merging/dot.py, batch_dot)
# ----------------------------------------------------------------------------------------------
DOTS = [
    pytest.param((7,), (7,), 1, "(input_layer * input_layer_1).sum(-1, keepdim=True)", id="vectors"),
    pytest.param((5, 7), (3, 7), 2, "torch.matmul(", id="seq-last-axes"),
    pytest.param((7, 5), (7, 3), 1, "torch.matmul(", id="seq-first-axes"),
    pytest.param((5, 7), (7, 3), (2, 1), "torch.matmul(", id="seq-matmul"),
    pytest.param((7,), (3, 7), (1, 2), "torch.einsum('bz,bjz->bj'", id="vector-seq"),
    pytest.param((5, 7), (7,), (-1, -1), "torch.einsum('biz,bz->bi'", id="seq-vector"),
    pytest.param((4, 5, 7), (7, 2, 3), (-1, 1), "torch.einsum('bijz,bzmn->bijmn'", id="rank4"),
]


@pytest.mark.parametrize("normalize", [False, True], ids=["plain", "normalize"])
@pytest.mark.parametrize("shape_a, shape_b, axes, code", DOTS)
def test_dot(shape_a, shape_b, axes, code, normalize):
    a, b = keras.Input(shape_a), keras.Input(shape_b)
    conv = check(keras.Model([a, b], L.Dot(axes, normalize=normalize)([a, b])))
    forward = forward_source(conv)
    assert (code if not normalize or "(input_layer" not in code else ".sum(-1, keepdim=True)") in forward
    assert ("F.normalize(" in forward) == normalize and ("eps=1e-07" in forward) == normalize


def test_dot_of_flattened_maps_keeps_their_feature_order():
    inp = keras.Input((5, 4, 3))
    x, y = L.Flatten()(L.Conv2D(4, 1)(inp)), L.Flatten()(L.Conv2D(4, 3, padding="same")(inp))
    conv = check(keras.Model(inp, L.Dot(1, normalize=True)([x, y])))
    assert permutes(conv) == 0


def test_keras2_h5(tmp_path):
    import tf_keras

    import tf2torch
    from kerascheck import randomize

    K = tf_keras.layers
    inp, vec = tf_keras.Input((9, 7, 3)), tf_keras.Input((4,))
    a, b = K.Conv2D(4, 3, padding="same")(inp), K.Conv2D(4, 1)(inp)
    x = K.Concatenate(axis=-3)([K.Add()([a, b]), K.Maximum()([a, b]), K.Average()([a, b, a])])
    x = K.Multiply()([K.Subtract()([x, K.Minimum()([K.Concatenate(axis=1)([b, a, b]), x])]), K.Dense(4)(vec)])
    model = tf_keras.Model([inp, vec], K.Conv2D(2, 1)(x))
    randomize(model)
    model.save(tmp_path / "model.h5")
    conversion = tf2torch.convert(tmp_path / "model.h5", tolerance=TOLERANCE)
    assert conversion.report["verification"]["passed"]
    assert permutes(conversion) == 0

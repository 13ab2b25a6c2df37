"""MultiHeadAttention, GroupQueryAttention, Attention and AdditiveAttention against Keras.

Every model is checked by the verifier (random weights, padded rows when a mask is made upstream)
and, where masks matter, on explicit batches: pre- and post-padded rows and fully masked rows,
compared to `model(x, training=False)`.
"""
import keras
import numpy as np
import pytest

import tf2torch
from kerascheck import TOLERANCE, check, same_as_keras
from tf2torch.errors import ConversionError

pytestmark = pytest.mark.filterwarnings("ignore:Layer '.*' \\(of type EinsumDense\\) was passed an input with a mask")

L = keras.layers
VOCAB, T_Q, T_V = 11, 7, 9  # odd lengths; query and value lengths differ in cross attention


def model_source(conv) -> str:
    """The generated model class (the helpers before it have their own forward)."""
    return conv.source.split(f"class {conv.class_name}(nn.Module)", 1)[1]


def padded_ids(n_rows: int, time: int, seed: int = 0) -> np.ndarray:
    """Rows: post-padded, pre-padded, fully padded (every step masked), unpadded, then random."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, (n_rows, time)).astype("int32")
    ids[0, time - 3:] = 0
    ids[1, :2] = 0
    ids[2, :] = 0
    return ids


def embedded(time: int, name: str):
    ids = keras.Input((time,), dtype="int32", name=name)
    return ids, L.Embedding(VOCAB, 8, mask_zero=True)(ids)


# ----------------------------------------------------------------------------------------------
# MultiHeadAttention
MHA_CONFIGS = [
    pytest.param({}, id="default"),
    pytest.param({"num_heads": 3, "key_dim": 5}, id="key-dim-not-features"),
    pytest.param({"value_dim": 3}, id="value-dim"),
    pytest.param({"output_shape": 6}, id="output-int"),
    pytest.param({"output_shape": (2, 3)}, id="output-tuple"),
    pytest.param({"use_bias": False}, id="no-bias"),
    pytest.param({"dropout": 0.3}, id="dropout-explicit-path"),
    pytest.param({"use_gate": True}, id="gate"),
    pytest.param({"sliding_window": 2}, id="sliding-window"),
]


@pytest.mark.parametrize("kwargs", MHA_CONFIGS)
def test_mha_self_attention(kwargs):
    kwargs = {"num_heads": 2, "key_dim": 4, **kwargs}
    x = keras.Input((T_Q, 8))
    conv = check(keras.Model(x, L.MultiHeadAttention(**kwargs)(x, x)))
    source = model_source(conv)
    assert "MultiHeadAttention(num_heads=" in source and ".permute(" not in source
    assert "nn.Linear(query_features" in conv.source
    assert "F.scaled_dot_product_attention(" in conv.source


CALLS = [
    pytest.param({}, id="plain"),
    pytest.param({"use_causal_mask": True}, id="causal"),
    pytest.param({"return_attention_scores": True}, id="scores"),
    pytest.param({"use_causal_mask": True, "return_attention_scores": True}, id="causal-scores"),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("with_key", [False, True], ids=["key-is-value", "key"])
def test_mha_cross_attention(call, with_key):
    q, v, k = keras.Input((T_Q, 8)), keras.Input((T_V, 6)), keras.Input((T_V, 5))
    inputs = [q, v, k] if with_key else [q, v]
    model = keras.Model(inputs, L.MultiHeadAttention(2, 4)(*inputs, **call))
    conv = check(model)
    # (the symbolic scores shape Keras reports is (B, N, T, T): same_as_keras() checks the real (B, N, T, S))
    rng = np.random.default_rng(3)
    same_as_keras(conv, model, [rng.standard_normal((3,) + tuple(t.shape[1:])).astype("float32") for t in inputs])


@pytest.mark.parametrize("call", CALLS)
def test_mha_explicit_attention_mask(call):
    """attention_mask as a second model input (bool, True = may attend), with fully masked rows."""
    x, mask = keras.Input((T_Q, 8)), keras.Input((T_Q, T_Q), dtype="bool")
    model = keras.Model([x, mask], L.MultiHeadAttention(2, 4)(x, x, attention_mask=mask, **call))
    conv = check(model)
    assert "attention_mask=" in model_source(conv)
    rng = np.random.default_rng(1)
    m = rng.random((3, T_Q, T_Q)) < 0.5
    m[0, 2] = False  # query 2 of row 0 may attend to nothing
    m[2] = False  # nothing at all
    same_as_keras(conv, model, [rng.standard_normal((3, T_Q, 8)).astype("float32"), m])


@pytest.mark.parametrize("call", CALLS[:3])
def test_mha_fully_masked_rows_large_logits(call):
    """Logits far above 1: a masked logit must be replaced (as Keras does), not shifted by -1e9,
    whose float32 spacing (64) would leave a fully masked row non-uniform."""
    x, mask = keras.Input((T_Q, 8)), keras.Input((T_Q, T_Q), dtype="bool")
    model = keras.Model([x, mask], L.MultiHeadAttention(2, 4)(x, x, attention_mask=mask, **call))
    conv = check(model)
    rng = np.random.default_rng(2)
    m = rng.random((2, T_Q, T_Q)) < 0.5
    m[:, 1] = False
    m[1] = False
    same_as_keras(conv, model, [300 * rng.standard_normal((2, T_Q, 8)).astype("float32"), m])


MASKED = [
    pytest.param({}, {}, id="fused"),
    pytest.param({}, {"use_causal_mask": True}, id="fused-causal"),
    pytest.param({"dropout": 0.2}, {}, id="explicit-dropout"),
    pytest.param({}, {"return_attention_scores": True}, id="explicit-scores"),
    pytest.param({"use_gate": True, "value_dim": 3}, {"use_causal_mask": True, "return_attention_scores": True},
                 id="explicit-causal-gate"),
]


@pytest.mark.parametrize("kwargs, call", MASKED)
def test_mha_embedding_mask(kwargs, call):
    """Keras masks of Embedding(mask_zero=True): padded queries attend uniformly (fused path) or to
    nothing (explicit path); a fully padded row is all masked."""
    ids, e = embedded(T_Q, "ids")
    model = keras.Model(ids, L.MultiHeadAttention(2, 4, **kwargs)(e, e, **call))
    conv = check(model)
    source = model_source(conv)
    assert "query_mask=mask, value_mask=mask" in source and "key_mask" not in source
    same_as_keras(conv, model, [padded_ids(5, T_Q)])


def test_mha_cross_attention_two_masks():
    q_ids, q = embedded(T_Q, "query_ids")
    v_ids, v = embedded(T_V, "value_ids")
    k = L.Dense(5)(v)  # Dense passes the value mask on: Keras ANDs it in as key_mask
    model = keras.Model([q_ids, v_ids], L.MultiHeadAttention(3, 2)(q, v, k))
    conv = check(model)
    assert "key_mask=" not in model_source(conv)  # the same mask tensor as value_mask
    same_as_keras(conv, model, [padded_ids(4, T_Q, 1), padded_ids(4, T_V, 2)[::-1].copy()])


def test_mha_masking_layer_and_attention_mask():
    x = keras.Input((T_Q, 4))
    mask = keras.Input((T_Q, T_Q), dtype="bool")
    h = L.Masking(0.0)(x)
    model = keras.Model([x, mask], L.MultiHeadAttention(2, 4)(h, h, attention_mask=mask, use_causal_mask=True))
    conv = check(model)
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((3, T_Q, 4)).astype("float32")
    xs[0, :3] = 0.0
    xs[1, -2:] = 0.0
    same_as_keras(conv, model, [xs, rng.random((3, T_Q, T_Q)) < 0.7])


def test_transformer_encoder_block():
    ids, e = embedded(T_V, "ids")
    attn = L.MultiHeadAttention(2, 4, name="self_attention")(e, e)
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([e, attn]))
    ff = L.Dense(8)(L.Dense(16, activation="relu")(h))
    h = L.LayerNormalization(epsilon=1e-6)(L.Add()([h, ff]))
    model = keras.Model(ids, L.Dense(3)(h))
    conv = check(model)
    source = model_source(conv)
    assert "self.self_attention = MultiHeadAttention(" in source and ".permute(" not in source
    same_as_keras(conv, model, [padded_ids(5, T_V, 5)])


def test_mha_dynamic_time():
    q, v = keras.Input((None, 8)), keras.Input((None, 8))
    model = keras.Model([q, v], L.MultiHeadAttention(2, 4)(q, v, use_causal_mask=True))
    conv = check(model)
    rng = np.random.default_rng(6)
    same_as_keras(conv, model, [rng.standard_normal((2, 5, 8)).astype("float32"), rng.standard_normal((2, 3, 8)).astype("float32")])


def test_mha_weights_are_linear():
    x = keras.Input((T_Q, 8))
    layer = L.MultiHeadAttention(2, 4, value_dim=3, name="mha")
    conv = check(keras.Model(x, layer(x, x)))
    sd = conv.state_dict
    assert tuple(sd["mha.query.weight"].shape) == (8, 8) and tuple(sd["mha.value.weight"].shape) == (6, 8)
    assert tuple(sd["mha.output.weight"].shape) == (8, 6) and tuple(sd["mha.query.bias"].shape) == (8,)
    kernel = layer.query_dense.kernel.numpy()  # (features, heads, key_dim)
    np.testing.assert_array_equal(sd["mha.query.weight"].numpy(), kernel.reshape(8, 8).T)


REFUSED = [
    pytest.param(lambda: L.MultiHeadAttention(2, 4, attention_axes=(1, 2)), (5, 6, 8), "attention_axes|rank", id="axes"),
    pytest.param(lambda: L.MultiHeadAttention(2, 4), (5, 6, 8), "rank 4", id="rank-4"),
]


@pytest.mark.parametrize("make, shape, message", REFUSED)
def test_mha_refused(make, shape, message):
    x = keras.Input(shape)
    with pytest.raises(ConversionError, match=message):
        tf2torch.convert(keras.Model(x, make()(x, x)), verify=False)


# ----------------------------------------------------------------------------------------------
# GroupQueryAttention
@pytest.mark.parametrize("kwargs, call", [
    pytest.param({}, {}, id="default"),
    pytest.param({"use_bias": False, "use_gate": True}, {"use_causal_mask": True}, id="gate-causal"),
    pytest.param({}, {"return_attention_scores": True}, id="scores"),
    pytest.param({"dropout": 0.1, "sliding_window": 3}, {}, id="dropout-window"),
])
def test_group_query_attention(kwargs, call):
    ids, e = embedded(T_Q, "ids")
    model = keras.Model(ids, L.GroupQueryAttention(4, 4, 2, **kwargs)(e, e, **call))
    conv = check(model)
    assert "num_key_value_heads=2" in model_source(conv)
    same_as_keras(conv, model, [padded_ids(4, T_Q, 7)])


def test_group_query_cross_attention_one_kv_head():
    q, v = keras.Input((T_Q, 8)), keras.Input((T_V, 8))
    check(keras.Model([q, v], L.GroupQueryAttention(3, 4, 1)(q, v, use_causal_mask=True)))


# ----------------------------------------------------------------------------------------------
# Attention (Luong) and AdditiveAttention (Bahdanau)
SCORE_LAYERS = [
    pytest.param(lambda: L.Attention(), "LuongAttention()", id="dot"),
    pytest.param(lambda: L.Attention(use_scale=True), "LuongAttention(use_scale=True)", id="dot-scale"),
    pytest.param(lambda: L.Attention(score_mode="concat"), "LuongAttention(score_mode='concat')", id="concat"),
    pytest.param(lambda: L.Attention(use_scale=True, score_mode="concat", dropout=0.4),
                 "LuongAttention(use_scale=True, score_mode='concat')", id="concat-scale-dropout"),
    pytest.param(lambda: L.AdditiveAttention(), "BahdanauAttention(8)", id="additive"),
    pytest.param(lambda: L.AdditiveAttention(use_scale=False), "BahdanauAttention(8, use_scale=False)", id="additive-no-scale"),
]
SCORE_CALLS = [
    pytest.param(2, {}, id="qv"),
    pytest.param(3, {"use_causal_mask": True}, id="qvk-causal"),
    pytest.param(2, {"return_attention_scores": True}, id="scores"),
]


@pytest.mark.parametrize("n_inputs, call", SCORE_CALLS)
@pytest.mark.parametrize("make, ctor", SCORE_LAYERS)
def test_score_attention(make, ctor, n_inputs, call):
    q_ids, q = embedded(T_Q, "query_ids")
    v_ids, v = embedded(T_V, "value_ids")
    inputs = [q, v] + ([L.Dense(8)(v)] if n_inputs == 3 else [])
    model = keras.Model([q_ids, v_ids], make()(inputs, **call))
    conv = check(model)
    source = model_source(conv)
    assert ctor in source and "query_mask=mask" in source
    same_as_keras(conv, model, [padded_ids(4, T_Q, 8), padded_ids(4, T_V, 9)[::-1].copy()])


def test_attention_without_masks():
    q, v = keras.Input((T_Q, 6)), keras.Input((T_V, 6))
    conv = check(keras.Model([q, v], L.Attention(use_scale=True)([q, v], use_causal_mask=True)))
    assert "_mask" not in model_source(conv).replace("use_causal_mask", "")


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_keras2_mha(tmp_path):
    """tf.keras 2 MultiHeadAttention: the same weights and math without masks; with a mask it adds
    -1e9 to masked logits (not Keras 3's replacement), which is refused."""
    import tf_keras

    K2 = tf_keras.layers
    x = K2.Input((T_Q, 8))
    plain = tf_keras.Model(x, K2.MultiHeadAttention(2, 4, value_dim=3)(x, x, use_causal_mask=True))
    ids = K2.Input((T_Q,), dtype="int32")
    e = K2.Embedding(VOCAB, 8, mask_zero=True)(ids)
    masked = tf_keras.Model(ids, K2.MultiHeadAttention(2, 4)(e, e))
    rng = np.random.default_rng(0)
    for model, name in ((plain, "plain"), (masked, "masked")):
        for w in model.weights:
            w.assign(rng.normal(0.0, 0.5, w.shape).astype("float32"))
        model.save(tmp_path / f"{name}.h5")
    conv = tf2torch.convert(tmp_path / "plain.h5", tolerance=TOLERANCE)
    assert conv.report["verification"]["passed"]
    with pytest.raises(ConversionError, match="Keras 2"):
        tf2torch.convert(tmp_path / "masked.h5", verify=False)


def test_attention_explicit_mask_list():
    """Attention(...)(inputs, mask=[query_mask, value_mask]) with masks given as model inputs."""
    q, v = keras.Input((T_Q, 6)), keras.Input((T_V, 6))
    qm, vm = keras.Input((T_Q,), dtype="bool"), keras.Input((T_V,), dtype="bool")
    model = keras.Model([q, v, qm, vm], L.Attention(use_scale=True)([q, v], mask=[qm, vm], return_attention_scores=True))
    conv = check(model)
    rng = np.random.default_rng(10)
    masks = [rng.random((3, T_Q)) < 0.6, rng.random((3, T_V)) < 0.6]
    masks[1][0] = False  # every value masked
    same_as_keras(conv, model, [rng.standard_normal((3, T_Q, 6)).astype("float32"),
                          rng.standard_normal((3, T_V, 6)).astype("float32")] + masks)


@pytest.mark.parametrize("axes", [(1,), (-2,)], ids=["1", "-2"])
def test_mha_default_attention_axes_spelled_out(axes):
    x = keras.Input((T_Q, 8))
    check(keras.Model(x, L.MultiHeadAttention(2, 4, attention_axes=axes)(x, x)))

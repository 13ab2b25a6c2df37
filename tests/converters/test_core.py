"""Dense, against Keras: plain, no bias, activations, on sequences, after Flatten (order folded)."""
import keras
import pytest

from kerascheck import check, forward_source

L = keras.layers


@pytest.mark.parametrize("kwargs", [
    pytest.param({}, id="plain"),
    pytest.param({"use_bias": False}, id="no-bias"),
    pytest.param({"activation": "relu"}, id="relu"),
    pytest.param({"activation": "softmax"}, id="softmax"),
])
def test_dense_rank2(kwargs):
    model = keras.Sequential([keras.Input((7,)), L.Dense(5, **kwargs)])
    conv = check(model)
    assert "nn.Linear(7, 5" in conv.source


def test_dense_on_sequence_keeps_last_axis():
    model = keras.Sequential([keras.Input((4, 6)), L.Dense(3, activation="tanh")])
    conv = check(model)
    assert ".permute(" not in forward_source(conv)


def test_dense_on_feature_map_is_a_pointwise_conv():
    model = keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), L.Dense(5), L.Conv2D(2, 1)])
    conv = check(model)
    assert "nn.Conv2d(4, 5, 1)" in conv.source
    assert ".permute(" not in forward_source(conv)


@pytest.mark.parametrize("shape", [(5, 7, 3), (9, 2), (3, 5, 7, 2)], ids=["2d", "1d", "3d"])
def test_flatten_order_is_folded_into_dense(shape):
    conv_layer = {2: L.Conv1D, 3: L.Conv2D, 4: L.Conv3D}[len(shape)]
    model = keras.Sequential([keras.Input(shape), conv_layer(4, 1), L.Flatten(), L.Dense(6)])
    conv = check(model)
    forward = forward_source(conv)
    assert ".permute(" not in forward and "x.flatten(1)" in forward


def test_flatten_as_output_restores_keras_order():
    model = keras.Sequential([keras.Input((5, 3, 2)), L.Conv2D(3, 1), L.Flatten()])
    check(model)


def test_functional_branch_after_flatten():
    inp = keras.Input((5, 5, 2))
    x = L.Flatten()(L.Conv2D(3, 2)(inp))
    model = keras.Model(inp, [L.Dense(2)(x), L.Dense(3, activation="sigmoid")(x)])
    check(model)


def test_identity_is_no_module():
    inp = keras.Input((9, 7, 3))
    x = L.Identity(name="same")(L.Conv2D(4, 3)(inp))
    conv = check(keras.Model(inp, L.Conv2D(2, 1)(x)))
    assert "same" not in conv.source and ".permute(" not in forward_source(conv)


def test_identity_passes_a_mask_on():
    inp = keras.Input((7,), dtype="int32")
    x = L.Identity()(L.Embedding(10, 4, mask_zero=True)(inp))
    conv = check(keras.Model(inp, L.GlobalAveragePooling1D()(x)))
    assert "torch.where(" in forward_source(conv)

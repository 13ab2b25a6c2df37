"""Embedding against Keras: id dtypes, ranks, a text classifier, mask_zero (never padding_idx)."""
import keras
import numpy as np
import pytest

import tf2torch
from kerascheck import check, forward_source
from tf2torch.errors import ConversionError

L = keras.layers


@pytest.mark.parametrize("dtype, cast", [
    pytest.param("int32", False, id="int32"),
    pytest.param("int64", False, id="int64"),
    pytest.param("float32", True, id="float32"),  # Keras casts to int32 (truncation), torch .long()
])
def test_embedding_id_dtypes(dtype, cast):
    model = keras.Sequential([keras.Input((11,), dtype=dtype), L.Embedding(37, 6, name="embedding")])
    conv = check(model)
    assert "nn.Embedding(37, 6)" in conv.source
    assert ("self.embedding(x.long())" in forward_source(conv)) == cast
    assert conv.report["inputs"][0]["value_range"] == [0, 37]  # verification fed valid ids only
    np.testing.assert_array_equal(conv.state_dict["embedding.weight"].numpy(), model.layers[0].get_weights()[0])


@pytest.mark.parametrize("shape", [(), (9,), (3, 5)], ids=["rank1", "rank2", "rank3"])
def test_embedding_id_ranks(shape):
    inp = keras.Input(shape, dtype="int32")
    model = keras.Model(inp, L.Dense(3)(L.Embedding(13, 4)(inp)))
    conv = check(model)
    assert ".permute(" not in forward_source(conv)


def test_text_classifier():
    """Embedding -> LSTM -> Dense, the usual text classifier."""
    model = keras.Sequential([
        keras.Input((13,), dtype="int32"),
        L.Embedding(100, 16, name="embedding"),
        L.Dropout(0.2),
        L.LSTM(8, name="lstm"),
        L.Dense(1, activation="sigmoid", name="dense"),
    ])
    conv = check(model)
    forward = forward_source(conv)
    assert "x = self.embedding(x)" in forward and "_, (h_n, _) = self.lstm(x)" in forward
    assert ".permute(" not in forward


def test_text_cnn_pooling():
    model = keras.Sequential([keras.Input((15,), dtype="int32"), L.Embedding(50, 8), L.Conv1D(4, 3),
                              L.GlobalMaxPooling1D(), L.Dense(2, activation="softmax")])
    conv = check(model)
    forward = forward_source(conv)
    assert forward.count(".transpose(1, 2)") == 1 and ".permute(" not in forward  # (N, T, E) to (N, E, T), once


def test_mask_zero_without_mask_readers_is_plain_lookup():
    # nothing reads the mask: row 0 is looked up like any other (ids include 0), no padding_idx
    model = keras.Sequential([keras.Input((9,), dtype="int32"), L.Embedding(7, 5, mask_zero=True), L.Dense(3)])
    conv = check(model)
    assert "padding_idx" not in conv.source
    assert conv.report["inputs"][0]["value_range"][0] == 0


def test_a_mask_a_converter_ignores_is_refused(monkeypatch):
    """A converter that does not read a mask Keras gives its layer is refused, naming the layer."""
    from tf2torch import fragment as fr
    from tf2torch import registry
    from tf2torch.layout import Layout

    def mask_blind(ctx):  # a converter that forgot the mask
        return fr.Fragment([ctx.input_keras(0).method("mean", 1)], [Layout.keras(2)])

    model = keras.Sequential([keras.Input((9,), dtype="int32"), L.Embedding(7, 5, mask_zero=True, name="embedding"),
                              L.GlobalAveragePooling1D(name="pool")])
    entry = registry.lookup(L.GlobalAveragePooling1D)
    monkeypatch.setitem(registry._REGISTRY, L.GlobalAveragePooling1D,
                        registry.Entry(entry.cls, mask_blind, entry.layout, entry.family, entry.note))
    with pytest.raises(ConversionError, match="applies a mask .* that this converter ignores") as info:
        tf2torch.convert(model, verify=False)
    assert [p.where for p in info.value.problems] == ["pool"]

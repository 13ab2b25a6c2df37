"""Issue 5 acceptance: whole sequence models with Keras masks, against Keras on padded batches.

Each model is verified by the converter (which feeds post-, pre-, both-ends- and inside-padded
rows) and then run here on explicit batches of variable-length sequences, pre- and post-padded
like `keras.utils.pad_sequences` makes them.
"""
import keras
import numpy as np
import pytest

from kerascheck import check, forward_source, same_as_keras

L = keras.layers
VOCAB, TIME = 40, 13


def padded_batch(padding: str, seed: int = 0, lengths=(13, 9, 4, 1, 7)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sequences = [rng.integers(1, VOCAB, n).tolist() for n in lengths]
    return keras.utils.pad_sequences(sequences, maxlen=TIME, padding=padding).astype("int32")


@pytest.fixture(params=["pre", "post"])
def padding(request):
    return request.param


def text_classifier():
    ids = keras.Input((TIME,), dtype="int32", name="tokens")
    x = L.Embedding(VOCAB, 8, mask_zero=True, name="embedding")(ids)
    x = L.Bidirectional(L.LSTM(6), name="bilstm")(x)
    return keras.Model(ids, L.Dense(3, activation="softmax", name="classifier")(x))


def test_text_classifier_bilstm_with_mask(padding):
    model = text_classifier()
    conversion = check(model)
    assert conversion.report["inputs"][0]["padding"] == 0  # the verifier fed padded rows
    same_as_keras(conversion, model, padded_batch(padding))
    assert "!= 0" in forward_source(conversion)  # the mask is explicit in the generated code


def seq2seq_encoder(cell):
    ids = keras.Input((TIME,), dtype="int32", name="source")
    x = L.Embedding(VOCAB, 8, mask_zero=True, name="embedding")(ids)
    outputs = cell(10, return_sequences=True, return_state=True, name="encoder")(x)
    return keras.Model(ids, outputs)


@pytest.mark.parametrize("cell", [L.LSTM, L.GRU], ids=["lstm", "gru"])
def test_seq2seq_encoder_return_state(cell, padding):
    model = seq2seq_encoder(cell)
    conversion = check(model)
    assert len(conversion.report["outputs"]) == (3 if cell is L.LSTM else 2)
    same_as_keras(conversion, model, padded_batch(padding, seed=1))


def transformer_encoder():
    ids = keras.Input((TIME,), dtype="int32", name="tokens")
    x = L.Embedding(VOCAB, 16, mask_zero=True, name="embedding")(ids)
    attended = L.MultiHeadAttention(num_heads=2, key_dim=8, name="self_attention")(x, x)
    x = L.LayerNormalization(epsilon=1e-6, name="norm_1")(L.Add(name="residual_1")([x, attended]))
    ff = L.Dense(16, name="ff_out")(L.Dense(32, activation="relu", name="ff_in")(x))
    x = L.LayerNormalization(epsilon=1e-6, name="norm_2")(L.Add(name="residual_2")([x, ff]))
    x = L.GlobalAveragePooling1D(name="pool")(x)
    return keras.Model(ids, L.Dense(4, name="head")(x))


def test_small_transformer_encoder_with_padding_mask(padding):
    model = transformer_encoder()
    conversion = check(model)
    same_as_keras(conversion, model, padded_batch(padding, seed=2))
    forward = forward_source(conversion)
    assert "mask = tokens != 0" in forward or "mask = x != 0" in forward
    assert "logical_or" not in forward  # Keras' Add combines one mask with itself: no op for that

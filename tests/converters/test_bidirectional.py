"""Bidirectional against Keras: merge modes, sequences, states, custom backward layers, custom cells, masks."""
import keras
import numpy as np
import pytest

from kerascheck import check, forward_source
from test_recurrent import T, check_masked, padded_ids

L = keras.layers

MERGES = [pytest.param(m, id=str(m)) for m in ("concat", "sum", "mul", "ave", None)]


def model_of(bidirectional, masked):
    if masked:
        inp = keras.Input((T,), dtype="int32")
        x = L.Embedding(20, 5, mask_zero=True)(inp)
    else:
        inp = x = keras.Input((T, 5))
    out = bidirectional(x)
    return keras.Model(inp, list(out) if isinstance(out, (list, tuple)) else out)


def model_class(conv) -> str:
    return conv.source.split("class Model", 1)[1]


@pytest.mark.parametrize("sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("merge_mode", MERGES)
def test_merge_modes_masked_lstm(merge_mode, sequences):
    """One nn.LSTM(bidirectional=True) and every merge mode, under a mask of every padding."""
    model = model_of(L.Bidirectional(L.LSTM(6, return_sequences=sequences), merge_mode=merge_mode), masked=True)
    conv = check(model)
    check_masked(conv, model, padded_ids())
    source, forward = model_class(conv), forward_source(conv)
    assert "nn.LSTM(5, 6, batch_first=True, bidirectional=True)" in source
    assert "keras_rnn(self.bidirectional, " in forward
    assert ("zero_output=True" in forward) == sequences  # Bidirectional sets zero_output_for_mask
    if not sequences:
        assert "h_n[0]" in forward and "h_n[1]" in forward and "[:, -1" not in forward


CELLS = [
    pytest.param(L.LSTM, {}, "nn.LSTM(5, 6, batch_first=True, bidirectional=True)", id="lstm"),
    pytest.param(L.GRU, {}, "nn.GRU(5, 6, batch_first=True, bidirectional=True)", id="gru"),
    pytest.param(L.SimpleRNN, {"activation": "relu", "use_bias": False},
                 "nn.RNN(5, 6, bias=False, nonlinearity='relu', batch_first=True, bidirectional=True)", id="rnn-relu-no-bias"),
    pytest.param(L.GRU, {"reset_after": False}, "KerasGRU(5, 6, reset_after=False)", id="gru-reset-before"),
    pytest.param(L.LSTM, {"recurrent_activation": "hard_sigmoid"}, "KerasLSTM(5, 6, recurrent_activation=F.hardsigmoid)", id="lstm-hard-sigmoid"),
]
CONFIGS = [
    pytest.param({"return_state": True}, "concat", id="state"),
    pytest.param({"return_state": True, "return_sequences": True}, None, id="state-sequences-none"),
    pytest.param({"return_sequences": True}, "sum", id="sequences-sum"),
]


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("kwargs, merge_mode", CONFIGS)
@pytest.mark.parametrize("cell, cell_kwargs, ctor", CELLS)
def test_cells_states(cell, cell_kwargs, ctor, kwargs, merge_mode, masked):
    """Outputs in Keras' order: merged output(s), forward states, backward states."""
    model = model_of(L.Bidirectional(cell(6, **cell_kwargs, **kwargs), merge_mode=merge_mode), masked)
    conv = check(model)
    if masked:
        check_masked(conv, model, padded_ids())
    source = model_class(conv)
    assert ctor in source
    fused = "bidirectional=True" in source
    assert fused == ("Keras" not in ctor)  # one torch module where exact, else one module per direction
    assert ("_backward = " in source) == (not fused)


def test_custom_backward_layer():
    """A GRU backward layer for an LSTM: two modules; the backward sequence is flipped back."""
    layer = L.Bidirectional(L.LSTM(6, return_sequences=True),
                            backward_layer=L.GRU(6, return_sequences=True, go_backwards=True, name="back"))
    for masked in (False, True):
        keras.utils.clear_session()
        model = model_of(layer.__class__.from_config(layer.get_config()), masked)
        conv = check(model)
        if masked:
            check_masked(conv, model, padded_ids())
        source, forward = model_class(conv), forward_source(conv)
        assert "_forward = nn.LSTM(5, 6, batch_first=True)" in source and "_backward = nn.GRU(5, 6, batch_first=True)" in source
        assert ".flip(1)" in forward


def test_backward_layer_reading_forward():
    """Keras only needs the two go_backwards to differ: a forward layer reading backwards works too."""
    layer = L.Bidirectional(L.SimpleRNN(4, go_backwards=True, return_sequences=True),
                            backward_layer=L.SimpleRNN(4, return_sequences=True), merge_mode="ave")
    model = model_of(layer, masked=True)
    conv = check(model)
    check_masked(conv, model, padded_ids())
    assert "bidirectional=True" not in model_class(conv)


def test_initial_state():
    enc_in, dec_in = keras.Input((T, 3), name="encoder_in"), keras.Input((T, 5), name="decoder_in")
    _, fh, fc, bh, bc = L.Bidirectional(L.LSTM(6, return_state=True), name="encoder")(enc_in)
    out = L.Bidirectional(L.LSTM(6, return_sequences=True), name="decoder")(dec_in, initial_state=[fh, fc, bh, bc])
    conv = check(keras.Model([enc_in, dec_in], out))
    # Keras' [fh, fc, bh, bc] as torch's (h0, c0), each (2, N, U), forward direction first
    assert "self.decoder(decoder_in, (torch.stack([encoder_1, encoder_3]), torch.stack([encoder_2, encoder_4])))[0]" in forward_source(conv)


def test_masked_initial_state():
    """Explicit mask= with initial states: a fully masked row's last output is zeros, not its state."""
    enc_in, dec_in = keras.Input((T, 3), name="encoder_in"), keras.Input((T,), dtype="int32", name="decoder_in")
    _, fh, bh = L.Bidirectional(L.GRU(6, return_state=True), name="encoder")(enc_in)
    emb = L.Embedding(20, 5, mask_zero=True)(dec_in)
    out = L.Bidirectional(L.GRU(6), name="decoder")(emb, initial_state=[fh, bh], mask=keras.ops.not_equal(dec_in, 0))
    model = keras.Model([enc_in, dec_in], out)
    conv = check(model)
    x = np.random.default_rng(1).standard_normal((8, T, 3)).astype("float32")
    check_masked(conv, model, [x, padded_ids()])
    forward = forward_source(conv)
    assert "seq[:, -1, :6]" in forward and "seq[:, 0, 6:]" in forward

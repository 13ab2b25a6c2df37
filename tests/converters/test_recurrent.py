"""LSTM, GRU and SimpleRNN against Keras: outputs, states, go_backwards, initial states, refusals."""
import keras
import numpy as np
import pytest
import torch

import tf2torch
from kerascheck import TOLERANCE, check, forward_source
from tf2torch.errors import ConversionError

L = keras.layers

CELLS = [
    pytest.param(L.LSTM, {}, id="lstm"),
    pytest.param(L.GRU, {}, id="gru"),
    pytest.param(L.SimpleRNN, {}, id="rnn-tanh"),
    pytest.param(L.SimpleRNN, {"activation": "relu"}, id="rnn-relu"),
]

CONFIGS = [
    pytest.param({}, id="last"),
    pytest.param({"return_sequences": True}, id="sequences"),
    pytest.param({"go_backwards": True}, id="backwards"),
    pytest.param({"go_backwards": True, "return_sequences": True}, id="backwards-sequences"),
    pytest.param({"return_state": True}, id="state"),
    pytest.param({"return_state": True, "return_sequences": True, "go_backwards": True}, id="state-sequences-backwards"),
    pytest.param({"use_bias": False}, id="no-bias"),
    pytest.param({"dropout": 0.3, "recurrent_dropout": 0.2}, id="dropout"),  # identity at inference
]


def check_batches(conversion, model, sizes=(1, 3, 4), time=9, seed=1, high=None):
    """The converted module against Keras on several batch sizes (the verifier runs batch 2)."""
    spec = conversion.report["inputs"][0]
    rng = np.random.default_rng(seed)
    for n in sizes:
        shape = (n,) + tuple(time if d is None else d for d in spec["keras_shape"][1:])
        if high is None:
            x = rng.standard_normal(shape).astype(spec["dtype"])
        else:
            x = rng.integers(0, high, shape).astype(spec["dtype"])
        expected = model(x, training=False)
        expected = [np.asarray(e) for e in (expected if isinstance(expected, (list, tuple)) else [expected])]
        with torch.inference_mode():
            got = conversion.module(torch.from_numpy(np.ascontiguousarray(np.transpose(x, spec["permutation"]))))
        got = [got] if isinstance(got, torch.Tensor) else list(got)
        assert len(got) == len(expected)
        for g, e, out in zip(got, expected, conversion.report["outputs"]):
            g = np.transpose(g.numpy(), np.argsort(out["permutation"]))
            assert g.shape == e.shape
            assert np.abs(g - e).max() <= TOLERANCE * np.abs(e).max(), (n, out["name"])


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")
def test_seed_lstm_classifier():
    """The seed model: Sequential([LSTM(64, input_shape=(timesteps, features)), Dense(softmax)])."""
    timesteps, features, num_classes = 13, 7, 5
    model = keras.Sequential([L.LSTM(64, input_shape=(timesteps, features), name="lstm"),
                              L.Dense(num_classes, activation="softmax", name="dense")])
    conv = check(model)
    source, forward = conv.source, forward_source(conv)
    assert "nn.LSTM(7, 64, batch_first=True)" in source
    assert "_, (h_n, _) = self.lstm(x)" in forward and "x = h_n[-1]" in forward
    assert ".permute(" not in forward
    assert conv.state_dict["lstm.bias_hh_l0"].abs().sum() == 0  # Keras' single bias lives in bias_ih
    check_batches(conv, model, time=timesteps)


@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("cell, cell_kwargs", CELLS)
def test_recurrent_layer(cell, cell_kwargs, kwargs):
    model = keras.Sequential([keras.Input((9, 5)), cell(6, **cell_kwargs, **kwargs)])
    conv = check(model)
    torch_class = {L.LSTM: "LSTM", L.GRU: "GRU", L.SimpleRNN: "RNN"}[cell]
    assert f"nn.{torch_class}(5, 6, " in conv.source and "batch_first=True" in conv.source
    assert ("bias=False" in conv.source) == (kwargs.get("use_bias") is False)
    assert (".flip(1)" in conv.source) == bool(kwargs.get("go_backwards"))
    assert ".permute(" not in forward_source(conv)


@pytest.mark.parametrize("cell", [L.LSTM, L.GRU, L.SimpleRNN], ids=["lstm", "gru", "rnn"])
@pytest.mark.parametrize("time", [7, 11], ids=["t7", "t11"])
def test_batch_sizes_and_lengths(cell, time):
    model = keras.Sequential([keras.Input((time, 3)), cell(4, return_sequences=True), cell(5)])
    conv = check(model)
    check_batches(conv, model, time=time)


def test_dynamic_time_dimension():
    model = keras.Sequential([keras.Input((None, 4)), L.GRU(6, return_sequences=True, name="gru"), L.LSTM(3)])
    conv = check(model)  # the verifier runs unknown dims at an odd length
    check_batches(conv, model, sizes=(2, 3), time=13)
    forward = forward_source(conv)
    assert "x = self.gru(x)[0]" in forward


def test_encoder_decoder_initial_state():
    enc_in, dec_in = keras.Input((9, 4), name="encoder_in"), keras.Input((7, 3), name="decoder_in")
    _, h, c = L.LSTM(6, return_state=True, name="encoder")(enc_in)
    lstm_seq = L.LSTM(6, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    _, gh = L.GRU(5, return_state=True, name="gru_encoder")(enc_in)
    gru_seq = L.GRU(5, return_sequences=True, name="gru_decoder")(dec_in, initial_state=gh)
    model = keras.Model([enc_in, dec_in], [L.Dense(2)(lstm_seq), gru_seq])
    conv = check(model)
    forward = forward_source(conv)
    assert "_, (h_n, c_n) = self.encoder(encoder_in)" in forward
    assert "self.decoder(decoder_in, (h.unsqueeze(0), c.unsqueeze(0)))[0]" in forward
    assert forward.count("h_n[-1]") == 1  # the last output and the state h are one variable


def test_conv_features_into_lstm():
    model = keras.Sequential([keras.Input((13, 3)), L.Conv1D(4, 3, padding="same"), L.MaxPooling1D(2), L.LSTM(5)])
    conv = check(model)
    forward = forward_source(conv)
    assert forward.count(".transpose(1, 2)") == 1 and ".permute(" not in forward  # (N, C, T) back to (N, T, C), once


REFUSED = [
    pytest.param(L.LSTM, {"stateful": True}, "stateful=True", id="stateful"),
    pytest.param(L.LSTM, {"recurrent_activation": "hard_sigmoid"}, "recurrent_activation='hard_sigmoid'", id="lstm-hard-sigmoid"),
    pytest.param(L.LSTM, {"activation": "relu"}, "activation='relu'", id="lstm-relu"),
    pytest.param(L.GRU, {"reset_after": False}, "reset_after=False", id="gru-reset-before"),
    pytest.param(L.SimpleRNN, {"activation": "sigmoid"}, "activation 'sigmoid'", id="rnn-sigmoid"),
]


@pytest.mark.parametrize("cell, kwargs, message", REFUSED)
def test_refused_configurations(cell, kwargs, message):
    batch = 2 if kwargs.get("stateful") else None  # a stateful RNN needs a fixed batch size
    model = keras.Sequential([keras.Input((7, 3), batch_size=batch), cell(4, **kwargs)])
    with pytest.raises(ConversionError, match=message):
        tf2torch.convert(model, verify=False)


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_keras2_h5_file(tmp_path):
    import tf_keras

    K2 = tf_keras.layers
    model = tf_keras.Sequential([K2.Embedding(30, 5, input_length=9), K2.LSTM(6, return_sequences=True),
                                 K2.GRU(4, go_backwards=True), K2.Dense(2)])
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.5, w.shape).astype("float32"))
    model.save(tmp_path / "model.h5")
    conv = tf2torch.convert(tmp_path / "model.h5", tolerance=TOLERANCE)
    assert conv.report["verification"]["passed"]
    assert "self.embedding(x.long())" in forward_source(conv)  # tf.keras Input defaults to float ids

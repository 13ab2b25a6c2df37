"""LSTM, GRU, SimpleRNN and RNN(cell) against Keras: outputs, states, go_backwards, initial states,
custom activations, GRU reset_after=False, masks of every padding, refusals."""
import keras
import numpy as np
import pytest

import tf2torch
from kerascheck import TOLERANCE, check, forward_source, same_as_keras
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
        same_as_keras(conversion, model, x, context=f"batch {n}")


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


# ---- custom cells: activations torch's fused modules do not have, GRU reset_after=False ------------
CUSTOM = [
    pytest.param(L.LSTM, {"recurrent_activation": "hard_sigmoid"}, "KerasLSTM(5, 6, recurrent_activation=F.hardsigmoid)", id="lstm-hard-sigmoid"),
    pytest.param(L.LSTM, {"activation": "relu", "use_bias": False}, "KerasLSTM(5, 6, bias=False, activation=F.relu)", id="lstm-relu-no-bias"),
    pytest.param(L.GRU, {"reset_after": False}, "KerasGRU(5, 6, reset_after=False)", id="gru-reset-before"),
    pytest.param(L.GRU, {"reset_after": False, "use_bias": False}, "KerasGRU(5, 6, bias=False, reset_after=False)", id="gru-reset-before-no-bias"),
    pytest.param(L.GRU, {"activation": "softsign", "recurrent_activation": "hard_sigmoid"},
                 "KerasGRU(5, 6, activation=F.softsign, recurrent_activation=F.hardsigmoid)", id="gru-softsign"),
    pytest.param(L.SimpleRNN, {"activation": "sigmoid"}, "KerasSimpleRNN(5, 6, activation=torch.sigmoid)", id="rnn-sigmoid"),
    pytest.param(L.SimpleRNN, {"activation": None}, "KerasSimpleRNN(5, 6, activation=None)", id="rnn-linear"),
]


CUSTOM_CONFIGS = [{}, {"return_sequences": True, "go_backwards": True}, {"return_state": True, "unroll": True}]


@pytest.mark.parametrize("cell, cell_kwargs, ctor", CUSTOM)
def test_custom_cell(cell, cell_kwargs, ctor):
    kwargs = CUSTOM_CONFIGS[[p.values for p in CUSTOM].index((cell, cell_kwargs, ctor)) % 3]  # each cell one config
    model = keras.Sequential([keras.Input((9, 5)), cell(6, **cell_kwargs, **kwargs)])
    conv = check(model)
    model_class = conv.source.split("class Model", 1)[1]
    assert ctor in model_class
    assert "nn.LSTM" not in model_class and "nn.GRU" not in model_class and "nn.RNN" not in model_class
    assert "keras_rnn" not in model_class  # no mask: the module's own forward


# ---- masks ----------------------------------------------------------------------------------------
MASKED_CELLS = [
    pytest.param(L.LSTM, {}, id="lstm"),
    pytest.param(L.GRU, {}, id="gru"),
    pytest.param(L.SimpleRNN, {"activation": "relu"}, id="rnn-relu"),
    pytest.param(L.GRU, {"reset_after": False}, id="gru-reset-before"),
    pytest.param(L.LSTM, {"recurrent_activation": "hard_sigmoid"}, id="lstm-hard-sigmoid"),
]
MASKED_CONFIGS = [
    pytest.param({}, id="last"),
    pytest.param({"return_sequences": True}, id="sequences"),
    pytest.param({"go_backwards": True, "return_sequences": True}, id="backwards-sequences"),
    pytest.param({"go_backwards": True, "return_state": True}, id="backwards-state"),
    pytest.param({"return_sequences": True, "zero_output_for_mask": True}, id="zero-output"),
    pytest.param({"zero_output_for_mask": True, "return_state": True}, id="zero-output-last"),
]
T = 9


def padded_ids(n_rows_extra=0, seed=3, high=20):
    """Id rows of length T: post-, pre-, both-ends-padded, with holes, full, fully masked."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, high, (8 + n_rows_extra, T)).astype("int32")
    ids[0, 5:] = 0  # post
    ids[1, :4] = 0  # pre (pad_sequences' default)
    ids[2, :2] = 0
    ids[2, 7:] = 0  # both ends
    ids[3, [2, 5, 6]] = 0  # holes
    ids[4, :] = 0  # fully masked
    ids[5, 8:] = 0  # one step of padding
    ids[6, :8] = 0  # one unmasked step
    return ids


def check_masked(conversion, model, ids):
    """The converted module against `model(ids, training=False)` on explicit padded rows, then on
    post-padded rows only (the packed path) and on rows with holes only (the step loop)."""
    inputs = ids if isinstance(ids, list) else [ids]
    for rows in (slice(None), [0, 4, 5, 7], [1, 3]):
        same_as_keras(conversion, model, [a[rows] for a in inputs], context=f"rows {rows}")


MASKED = [pytest.param(c.values[0], c.values[1], k.values[0], id=f"{c.id}-{k.id}")
          for i, c in enumerate(MASKED_CELLS) for j, k in enumerate(MASKED_CONFIGS) if (i + j) % 2 == 0 or c.id == "lstm"]


@pytest.mark.parametrize("cell, cell_kwargs, kwargs", MASKED)
def test_masked_layer(cell, cell_kwargs, kwargs):
    model = keras.Sequential([keras.Input((T,), dtype="int32"), L.Embedding(20, 5, mask_zero=True), cell(6, **cell_kwargs, **kwargs)])
    conv = check(model)  # the verifier feeds post-, pre-, both-ends-padded rows and a hole
    check_masked(conv, model, padded_ids())
    forward = forward_source(conv)
    exact = " = Keras" not in conv.source.split("class Model", 1)[1]  # no inline KerasLSTM/KerasGRU module
    assert ("keras_rnn(self." in forward) == exact  # torch's module: packing or the loop, decided per batch
    assert ("mask=mask" in forward) == (not exact)  # the inline module takes the mask itself
    assert (".flip(1)" in forward) == bool(kwargs.get("go_backwards"))
    assert ("zero_output=True" in forward) == bool(kwargs.get("zero_output_for_mask"))


def test_masking_layer_float_inputs():
    model = keras.Sequential([keras.Input((T, 3)), L.Masking(), L.GRU(5, return_sequences=True), L.LSTM(4)])
    conv = check(model)
    x = np.random.default_rng(0).standard_normal((8, T, 3)).astype("float32")
    x[padded_ids() == 0] = 0.0
    check_masked(conv, model, x)
    assert forward_source(conv).count("keras_rnn(") == 2


def test_masked_initial_state_fully_masked_row():
    """An explicit mask= with an initial state: a fully masked row keeps the initial state while its
    output stays zero (Keras' prev_output starts at zeros), so the last output is not h_n[-1]."""
    enc_in, dec_in = keras.Input((T, 3), name="encoder_in"), keras.Input((T,), dtype="int32", name="decoder_in")
    _, h, c = L.LSTM(6, return_state=True, name="encoder")(enc_in)
    emb = L.Embedding(20, 4, mask_zero=True)(dec_in)
    mask = keras.ops.not_equal(dec_in, 0)
    last, h2, _ = L.LSTM(6, return_state=True, name="decoder")(emb, initial_state=[h, c], mask=mask)
    seq = L.GRU(6, return_sequences=True, go_backwards=True, name="gru")(emb, initial_state=h, mask=mask)
    model = keras.Model([enc_in, dec_in], [last, h2, seq])
    conv = check(model)
    x = np.random.default_rng(1).standard_normal((8, T, 3)).astype("float32")
    check_masked(conv, model, [x, padded_ids()])
    forward = forward_source(conv)
    assert "(h.unsqueeze(0), c.unsqueeze(0)))" in forward and "keras_rnn(self.decoder, " in forward
    assert "seq[:, -1]" in forward  # the last output, not h_n[-1]


def test_initial_state_drops_the_implicit_mask():
    """Layer.__call__ fills mask= in only for a single tensor argument (keras/src/layers/layer.py
    step 6): with an initial_state and no explicit mask, Keras runs the layer unmasked."""
    enc_in, dec_in = keras.Input((T, 3), name="encoder_in"), keras.Input((T,), dtype="int32", name="decoder_in")
    _, h = L.GRU(6, return_state=True, name="encoder")(enc_in)
    emb = L.Embedding(20, 4, mask_zero=True)(dec_in)
    model = keras.Model([enc_in, dec_in], L.GRU(6, name="decoder")(emb, initial_state=h))
    conv = check(model)
    x = np.random.default_rng(1).standard_normal((8, T, 3)).astype("float32")
    check_masked(conv, model, [x, padded_ids()])
    assert "keras_rnn" not in conv.source and "self.decoder(x, h.unsqueeze(0))" in forward_source(conv)


# ---- the RNN wrapper ------------------------------------------------------------------------------
RNN_CELLS = [
    pytest.param(lambda: L.LSTMCell(6), "nn.LSTM(5, 6, batch_first=True)", id="lstm-cell"),
    pytest.param(lambda: L.GRUCell(6, reset_after=False), "KerasGRU(5, 6, reset_after=False)", id="gru-cell-reset-before"),
    pytest.param(lambda: L.SimpleRNNCell(6), "nn.RNN(5, 6, batch_first=True)", id="simple-cell"),
    pytest.param(lambda: [L.GRUCell(4), L.LSTMCell(6)], "nn.LSTM(4, 6, batch_first=True)", id="list"),
    pytest.param(lambda: L.StackedRNNCells([L.SimpleRNNCell(3, activation="relu"), L.GRUCell(6)]), "nn.GRU(3, 6, batch_first=True)", id="stacked"),
]


RNN_CASES = [pytest.param(c.values[0], c.values[1], masked, kwargs, id=f"{c.id}-{'masked' if masked else 'plain'}-{name}")
             for i, c in enumerate(RNN_CELLS) for masked in (False, True)
             for name, kwargs in (("last", {}), ("backwards-sequences", {"return_sequences": True, "go_backwards": True}))
             if (i + masked + bool(kwargs)) % 2 == 0 or c.id == "stacked"]


@pytest.mark.parametrize("make_cell, ctor, masked, kwargs", RNN_CASES)
def test_rnn_wrapper(make_cell, ctor, masked, kwargs):
    if masked:
        layers = [keras.Input((T,), dtype="int32"), L.Embedding(20, 5, mask_zero=True)]
    else:
        layers = [keras.Input((T, 5))]
    model = keras.Sequential(layers + [L.RNN(make_cell(), **kwargs)])
    conv = check(model)
    assert ctor in conv.source
    if masked:
        check_masked(conv, model, padded_ids())


def test_rnn_wrapper_state():
    inp = keras.Input((T, 5))
    out = L.RNN(L.LSTMCell(6), return_state=True, return_sequences=True)(inp)
    conv = check(keras.Model(inp, out))
    assert "seq, (h_n, c_n) = self.rnn(x)" in forward_source(conv)


REFUSED = [
    pytest.param(lambda: L.LSTM(4, stateful=True), "stateful=True", id="stateful"),
    pytest.param(lambda: L.LSTM(4, activation="softmax"), "recurrent activation 'softmax'", id="lstm-softmax"),
    pytest.param(lambda: L.GRU(4, recurrent_activation="leaky_relu"), "recurrent activation 'leaky_relu'", id="gru-leaky-relu"),
    pytest.param(lambda: L.RNN(MinimalCell(4)), "RNN around a MinimalCell cell", id="custom-cell"),
]


@keras.saving.register_keras_serializable(package="tf2torch_tests")
class MinimalCell(L.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs, states):
        h = keras.ops.matmul(inputs, self.kernel) + states[0]
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.mark.parametrize("make_layer, message", REFUSED)
def test_refused_configurations(make_layer, message):
    layer = make_layer()
    batch = 2 if getattr(layer, "stateful", False) else None  # a stateful RNN needs a fixed batch size
    model = keras.Sequential([keras.Input((7, 3), batch_size=batch), layer])
    with pytest.raises(ConversionError, match=message):
        tf2torch.convert(model, verify=False)


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_keras2_hard_sigmoid_and_reset_before(tmp_path):
    """tf.keras 2 hard_sigmoid is clip(0.2 x + 0.5, 0, 1) (Keras 3: relu6(x + 3) / 6)."""
    import tf_keras

    K2 = tf_keras.layers
    model = tf_keras.Sequential([K2.InputLayer((T, 5)), K2.LSTM(6, recurrent_activation="hard_sigmoid", return_sequences=True),
                                 K2.GRU(4, reset_after=False, recurrent_activation="hard_sigmoid", return_sequences=True),
                                 K2.SimpleRNN(3, activation="hard_sigmoid")])
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.normal(0.0, 1.0, w.shape).astype("float32"))
    model.save(tmp_path / "model.h5")
    conv = tf2torch.convert(tmp_path / "model.h5", tolerance=TOLERANCE)
    assert conv.report["verification"]["passed"]
    assert conv.source.count("recurrent_activation=keras2_hard_sigmoid") == 2
    assert "KerasSimpleRNN(4, 3, activation=keras2_hard_sigmoid)" in conv.source
    assert "F.hardsigmoid" not in conv.source.split("class Model", 1)[1]


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

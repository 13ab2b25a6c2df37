"""ConvLSTM1D/2D/3D against Keras: padding, strides, outputs, states, masks, initial states, refusals."""
import keras
import numpy as np
import pytest
import torch

from kerascheck import TOLERANCE, check
from tf2torch.errors import ConversionError

L = keras.layers

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")


def forward_of(conversion) -> str:
    """The model's forward (the inline ConvLSTM helper has its own)."""
    return conversion.source.split("class Model", 1)[1].split("def forward", 1)[1]


CONFIGS_2D = [
    pytest.param({}, id="valid-last"),
    pytest.param({"return_sequences": True}, id="sequences"),
    pytest.param({"go_backwards": True}, id="backwards"),
    pytest.param({"go_backwards": True, "return_sequences": True}, id="backwards-sequences"),
    pytest.param({"return_state": True}, id="state"),
    pytest.param({"return_state": True, "return_sequences": True}, id="state-sequences"),
    pytest.param({"use_bias": False}, id="no-bias"),
    pytest.param({"padding": "same"}, id="same"),
    pytest.param({"padding": "same", "strides": 2}, id="same-stride2"),
    pytest.param({"padding": "valid", "strides": (2, 1)}, id="valid-stride"),
    pytest.param({"kernel_size": (2, 4), "padding": "same"}, id="same-even-kernel"),
    pytest.param({"kernel_size": 2, "padding": "same", "strides": 2}, id="same-even-kernel-stride2"),
    pytest.param({"dilation_rate": 2, "padding": "same"}, id="same-dilated"),
    pytest.param({"activation": "relu", "recurrent_activation": "hard_sigmoid"}, id="relu-hard-sigmoid"),
    pytest.param({"activation": None, "recurrent_activation": "sigmoid"}, id="linear"),
    pytest.param({"dropout": 0.3, "recurrent_dropout": 0.2}, id="dropout"),  # identity at inference
]


@pytest.mark.parametrize("kwargs", CONFIGS_2D)
def test_conv_lstm2d(kwargs):
    kwargs = {"kernel_size": 3, **kwargs}
    model = keras.Sequential([keras.Input((5, 9, 7, 3)), L.ConvLSTM2D(4, name="cl", **kwargs)])
    conv = check(model)
    source, forward = conv.source, forward_of(conv)
    assert "self.cl = ConvLSTM(nn.Conv2d(3, 16, " in source
    assert ("bias=False), nn.Conv2d(4, 16" in source) == (kwargs.get("use_bias") is False)
    assert (".flip(1)" in forward) == bool(kwargs.get("go_backwards"))
    assert forward.count(".permute(") <= 2  # Keras layout in, Keras layout of the sequence out


def test_same_stride2_pads_after_like_tensorflow():
    model = keras.Sequential([keras.Input((3, 8, 8, 2)), L.ConvLSTM2D(3, 2, strides=2, padding="same", name="cl")])
    check(model)  # 8 -> 4 with k=2, s=2: no padding
    model = keras.Sequential([keras.Input((3, 9, 8, 2)), L.ConvLSTM2D(3, 4, strides=2, padding="same", name="cl")])
    conv = check(model)  # 9: total 3 (1 before, 2 after); 8: total 2 (1, 1)
    assert "F.pad(" in forward_of(conv)


CONFIGS_1D = [
    pytest.param({}, id="valid"),
    pytest.param({"padding": "same", "strides": 2, "return_sequences": True}, id="same-stride2-sequences"),
    pytest.param({"kernel_size": 4, "padding": "same", "go_backwards": True, "return_state": True}, id="even-backwards-state"),
]


@pytest.mark.parametrize("kwargs", CONFIGS_1D)
def test_conv_lstm1d(kwargs):
    kwargs = {"kernel_size": 3, **kwargs}
    model = keras.Sequential([keras.Input((7, 9, 3)), L.ConvLSTM1D(4, name="cl", **kwargs)])
    conv = check(model)
    assert "ConvLSTM(nn.Conv1d(3, 16, " in conv.source


@pytest.mark.parametrize("kwargs", [
    pytest.param({"kernel_size": 2}, id="valid"),
    pytest.param({"kernel_size": 3, "padding": "same", "return_sequences": True}, id="same-sequences"),
])
def test_conv_lstm3d(kwargs):
    model = keras.Sequential([keras.Input((3, 5, 7, 6, 2)), L.ConvLSTM3D(3, name="cl", **kwargs)])
    conv = check(model)
    assert "ConvLSTM(nn.Conv3d(2, 12, " in conv.source


def test_stacked_after_time_distributed_conv_has_no_permute_between():
    model = keras.Sequential([
        keras.Input((5, 11, 9, 3)),
        L.TimeDistributed(L.Conv2D(4, 3, padding="same"), name="td"),
        L.ConvLSTM2D(5, 3, padding="same", return_sequences=True, name="cl1"),
        L.ConvLSTM2D(3, 3, name="cl2"),
        L.Conv2D(2, 3),
    ])
    conv = check(model)
    forward = forward_of(conv)
    assert forward.count(".permute(") == 1  # the input only: channels-first from there on
    assert "x = self.cl1(x)[0]" in forward and "x = self.cl2(x)[0][:, -1]" in forward


def test_initial_state_from_another_layer():
    inputs = keras.Input((5, 9, 7, 3))
    _, h, c = L.ConvLSTM2D(4, 3, padding="same", return_state=True, name="encoder")(inputs)
    outputs = L.ConvLSTM2D(4, 3, padding="same", return_sequences=True, name="decoder")(inputs, initial_state=[h, c])
    conv = check(keras.Model(inputs, outputs))
    assert "initial_state=(h, c)" in forward_of(conv)


# ----------------------------------------------------------------------------------------------
# Masks: Keras keeps the states at masked steps and repeats the previous output (or zeros)
# ----------------------------------------------------------------------------------------------
def masked_model(masking_5d: bool, **kwargs):
    if masking_5d:  # Masking on (N, T, H, W, C): a mask per pixel, (N, T, H, W), needs 'same'
        inputs = keras.Input((7, 5, 3, 2))
        x = L.Masking()(inputs)
    else:  # a (N, T) mask reaching ConvLSTM through TimeDistributed(Reshape)
        inputs = keras.Input((7, 5 * 3 * 2))
        x = L.TimeDistributed(L.Reshape((5, 3, 2)), name="reshape")(L.Masking()(inputs))
    return keras.Model(inputs, L.ConvLSTM2D(4, 3, padding="same", name="cl", **kwargs)(x))


MASKED = [
    pytest.param(False, {"return_sequences": True}, id="sequences"),
    pytest.param(False, {}, id="last"),
    pytest.param(False, {"go_backwards": True, "return_sequences": True}, id="backwards-sequences"),
    pytest.param(False, {"return_sequences": True, "zero_output_for_mask": True}, id="zero-output"),
    pytest.param(False, {"return_state": True}, id="state"),
    pytest.param(True, {"return_sequences": True}, id="per-pixel"),
]


@pytest.mark.parametrize("masking_5d, kwargs", MASKED)
def test_masks(masking_5d, kwargs):
    model = masked_model(masking_5d, **kwargs)
    conv = check(model)  # the verifier pads rows at the start, the end and inside
    assert "mask=mask" in forward_of(conv) or "mask=mask.flip(1)" in forward_of(conv)
    # padded steps (zeros) at the end, the start and inside, explicitly
    x = np.random.default_rng(3).standard_normal((3,) + tuple(model.input_shape[1:])).astype("float32")
    x[0, 5:] = 0.0
    x[1, :2] = 0.0
    x[2, 3] = 0.0
    if masking_5d:
        x[2, 1, 1:3] = 0.0  # some pixels only
    expected = model(x)
    expected = [np.asarray(e) for e in (expected if isinstance(expected, (list, tuple)) else [expected])]
    plain = L.ConvLSTM2D.from_config(model.get_layer("cl").get_config())  # same weights, no mask
    reshaped = x if masking_5d else x.reshape(3, 7, 5, 3, 2)
    plain.build(reshaped.shape)
    plain.set_weights(model.get_layer("cl").get_weights())
    assert not np.allclose(np.asarray(tree_first(plain(reshaped))), expected[0], atol=1e-3)  # the mask matters
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(x))
    got = [got] if isinstance(got, torch.Tensor) else list(got)
    for g, e, out in zip(got, expected, conv.report["outputs"]):
        g = np.transpose(g.numpy(), np.argsort(out["permutation"]))
        assert np.abs(g - e).max() <= TOLERANCE * np.abs(e).max()


def tree_first(value):
    return value[0] if isinstance(value, (list, tuple)) else value


# ----------------------------------------------------------------------------------------------
REFUSED = [
    pytest.param({"stateful": True}, "stateful=True", id="stateful"),
    pytest.param({"activation": "softmax"}, "activation='softmax'", id="softmax-activation"),
]


@pytest.mark.parametrize("kwargs, message", REFUSED)
def test_refused(kwargs, message):
    model = keras.Sequential([keras.Input((5, 9, 7, 3), batch_size=2), L.ConvLSTM2D(4, 3, name="cl", **kwargs)])
    with pytest.raises(ConversionError, match=message):
        check(model)


def test_channels_first_refused():
    model = keras.Sequential([keras.Input((5, 3, 9, 7)), L.ConvLSTM2D(4, 3, data_format="channels_first", name="cl")])
    with pytest.raises(ConversionError, match="channels_first"):
        check(model)

"""TimeDistributed around supported layers against Keras: folded time, layouts, masks, refusals."""
import re

import keras
import numpy as np
import pytest
import torch

from kerascheck import TOLERANCE, check, forward_source
from tf2torch.errors import ConversionError

L = keras.layers

WRAPPED = [
    # (input shape without batch, wrapped layer, text the forward must contain)
    pytest.param((5, 3), lambda: L.Dense(4), "x = self.td(x)", id="dense"),
    pytest.param((5, 9, 7, 3), lambda: L.Conv2D(4, 3, strides=2, padding="same"), ".flatten(0, 1)", id="conv2d-strided-same"),
    pytest.param((5, 9, 7, 3), lambda: L.Conv2D(4, (2, 3), padding="valid", activation="relu"), ".unflatten(0, (-1, 5))",
                 id="conv2d-valid"),
    pytest.param((5, 9, 3), lambda: L.Conv1D(4, 4, padding="same"), ".flatten(0, 1)", id="conv1d-even-same"),
    pytest.param((5, 9, 7, 3), lambda: L.MaxPooling2D(2), "self.td(", id="max-pool2d"),
    pytest.param((5, 9, 7, 3), lambda: L.AveragePooling2D(2, padding="same"), ".unflatten(0, (-1, 5))", id="avg-pool2d-same"),
    pytest.param((5, 9, 7, 3), lambda: L.Flatten(), ".flatten(2)", id="flatten"),
    pytest.param((5, 9, 3), lambda: L.BatchNormalization(), "self.td(", id="batch-norm"),
    pytest.param((5, 9, 3), lambda: L.LayerNormalization(), "self.td(", id="layer-norm"),
    pytest.param((3, 7, 4), lambda: L.LSTM(6), "h_n[-1].unflatten(0, (-1, 3))", id="lstm"),
    pytest.param((3, 7, 4), lambda: L.GRU(5, return_sequences=True), "self.td(x.flatten(0, 1))[0].unflatten", id="gru-sequences"),
    pytest.param((5, 4), lambda: L.Softmax(), ".unflatten(0, (-1, 5))", id="softmax"),
    pytest.param((5, 6), lambda: L.Reshape((2, 3)), ".unflatten(0, (-1, 5))", id="reshape"),
    pytest.param((5, 4), lambda: L.Activation("gelu"), "F.gelu(x)", id="activation-unfolded"),
]


@pytest.mark.parametrize("shape, make, expected", WRAPPED)
def test_time_distributed(shape, make, expected):
    model = keras.Sequential([keras.Input(shape), L.TimeDistributed(make(), name="td")])
    conv = check(model)
    assert expected in forward_source(conv)


def test_dense_is_just_linear():
    model = keras.Sequential([keras.Input((7, 3)), L.TimeDistributed(L.Dense(4, activation="tanh"), name="td")])
    conv = check(model)
    forward = forward_source(conv)
    assert "self.td = nn.Linear(3, 4)" in conv.source
    assert "x = torch.tanh(self.td(x))" in forward
    assert "flatten" not in forward and "reshape" not in forward and "permute" not in forward


def test_video_classifier_keeps_channels_first_between_wrapped_layers():
    """TimeDistributed conv stack: one permute in, none between the wrapped layers, Dense at the end."""
    model = keras.Sequential([
        keras.Input((5, 11, 9, 3)),
        L.TimeDistributed(L.Conv2D(4, 3, strides=2, padding="same", activation="relu"), name="conv"),
        L.TimeDistributed(L.BatchNormalization(), name="bn"),
        L.TimeDistributed(L.MaxPooling2D(2), name="pool"),
        L.TimeDistributed(L.Flatten(), name="flat"),
        L.TimeDistributed(L.Dense(6), name="dense"),
        L.LSTM(3),
    ])
    conv = check(model)
    forward = forward_source(conv)
    assert forward.count(".permute(") == 2  # (N*T, H, W, C) -> channels-first in, Keras order at Flatten
    assert "self.pool(x.flatten(0, 1)).unflatten(0, (-1, 5))" in forward  # channels-first straight through
    assert "x = self.dense(x)" in forward


def test_dynamic_time_axis():
    model = keras.Sequential([keras.Input((None, 7, 3)), L.TimeDistributed(L.Conv1D(4, 3), name="td")])
    conv = check(model)
    assert "unflatten(0, (-1, x.shape[1]))" in forward_source(conv)
    x = np.random.default_rng(0).standard_normal((2, 11, 7, 3)).astype("float32")
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(x)).numpy()
    expected = np.asarray(model(x))
    perm = conv.report["outputs"][0]["permutation"]
    assert np.abs(np.transpose(got, np.argsort(perm)) - expected).max() <= TOLERANCE * np.abs(expected).max()


def test_embedding_hint_reaches_the_graph_input():
    model = keras.Sequential([keras.Input((4, 6), dtype="int32"), L.TimeDistributed(L.Embedding(11, 3), name="td")])
    conv = check(model)  # ids above 10 would make Keras and torch disagree (or fail)
    assert conv.report["inputs"][0]["value_range"][1] <= 11


def test_mask_reaches_a_layer_that_takes_one():
    """Masking on (N, T1, T2, F): each step's (N, T2) mask reaches GlobalAveragePooling1D."""
    inputs = keras.Input((5, 7, 3))
    outputs = L.TimeDistributed(L.GlobalAveragePooling1D(), name="td")(L.Masking()(inputs))
    model = keras.Model(inputs, outputs)
    conv = check(model)
    assert re.search(r"mask\w*\.flatten\(0, 1\)", forward_source(conv))
    x = np.random.default_rng(1).standard_normal((2, 5, 7, 3)).astype("float32")
    x[0, :, 4:] = 0.0
    x[1, 2, :3] = 0.0
    expected = np.asarray(model(x))
    assert not np.allclose(expected, x.mean(axis=2), atol=1e-3)  # the mask changes the values
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(x)).numpy()
    assert np.abs(got - expected).max() <= TOLERANCE * np.abs(expected).max()


def test_mask_is_ignored_by_a_layer_that_takes_none():
    """Keras gives Dense no mask; the mask passes through to the pooling after it."""
    inputs = keras.Input((7, 3))
    x = L.TimeDistributed(L.Dense(5), name="td")(L.Masking()(inputs))
    model = keras.Model(inputs, L.GlobalAveragePooling1D()(x))
    conv = check(model)
    assert "x = self.td(x)" in forward_source(conv)


REFUSED = [
    pytest.param(lambda: keras.Sequential([L.Dense(2)]), "Sequential is not supported", id="nested-sequential"),
    pytest.param(lambda: L.Conv2D(2, 3, data_format="channels_first"), "channels_first", id="inner-refusal"),
]


@pytest.mark.parametrize("make, message", REFUSED)
def test_refused(make, message):
    model = keras.Sequential([keras.Input((5, 3, 7, 7)), L.TimeDistributed(make(), name="td")])
    with pytest.raises(ConversionError, match=message) as info:
        check(model)
    assert "TimeDistributed" in str(info.value)

"""Issue 6: names are data, configurations are fuzzed. Hypothesis draws names (any unicode) and layer
configurations; the generated code must parse, compile, define its class, bind no name that hides
another, keep hostile names out of code, and verify against Keras, or the converter must refuse
cleanly (ConversionError/InputError with a message), never another exception.
The long run is `python benchmarks/fuzz_names.py --names 1000`."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from keras import layers as L

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fuzz_names  # noqa: E402

from kerascheck import randomize  # noqa: E402

SETTINGS = settings(deadline=None, max_examples=12, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _convert(model, names=()):
    randomize(model)
    outcome, detail = fuzz_names.check_model(model, names)
    assert outcome in ("ok", "refused"), detail
    return outcome, detail


def _build(family, names):
    keras.utils.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fuzz_names.build(family, names)
        except Exception:  # Keras refuses the name ('/', duplicates...): not ours to test
            reject()


name = st.text(max_size=30) | st.sampled_from(fuzz_names.OWN_LOCALS + fuzz_names.WEIRD[:-3] + fuzz_names._helpers())


@SETTINGS
@given(family=st.sampled_from(fuzz_names.FAMILIES), names=st.lists(name, min_size=7, max_size=7))
def test_any_names_convert_or_are_refused_cleanly(family, names):
    model, used = _build(family, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _convert(model, used)


def _check_config(build):
    keras.utils.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = build()
            model(np.zeros((1,) + tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype))
        except Exception:  # a configuration Keras itself refuses (empty output, strides with dilation...)
            reject()
        _convert(model)


@SETTINGS
@given(units=st.integers(1, 9), activation=st.sampled_from(["linear", "relu", "tanh", "gelu", "softmax", "selu", "swish"]),
       use_bias=st.booleans(), features=st.integers(1, 7))
def test_dense_configs(units, activation, use_bias, features):
    def build():
        inp = keras.Input((features,))
        return keras.Model(inp, L.Dense(units, activation=activation, use_bias=use_bias)(inp))
    _check_config(build)


@SETTINGS
@given(rank=st.sampled_from([1, 2]), filters=st.integers(1, 5), kernel=st.integers(1, 4), strides=st.integers(1, 3),
       dilation=st.integers(1, 3), padding=st.sampled_from(["valid", "same", "causal"]), size=st.integers(5, 11),
       channels=st.integers(1, 3))
def test_conv_configs(rank, filters, kernel, strides, dilation, padding, size, channels):
    if padding == "causal" and rank != 1:
        padding = "same"

    def build():
        inp = keras.Input((size,) * rank + (channels,))
        conv = (L.Conv1D if rank == 1 else L.Conv2D)(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation)
        return keras.Model(inp, conv(inp))
    _check_config(build)


@SETTINGS
@given(kind=st.sampled_from(["max", "avg"]), rank=st.sampled_from([1, 2]), pool=st.integers(1, 4), strides=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), size=st.integers(4, 9))
def test_pooling_configs(kind, rank, pool, strides, padding, size):
    layer = {("max", 1): L.MaxPooling1D, ("max", 2): L.MaxPooling2D, ("avg", 1): L.AveragePooling1D, ("avg", 2): L.AveragePooling2D}

    def build():
        inp = keras.Input((size,) * rank + (2,))
        return keras.Model(inp, layer[kind, rank](pool, strides=strides, padding=padding)(inp))
    _check_config(build)


@SETTINGS
@given(cell=st.sampled_from(["LSTM", "GRU"]), units=st.integers(1, 5), return_sequences=st.booleans(),
       go_backwards=st.booleans(), mask_zero=st.booleans(), steps=st.integers(1, 6))
def test_recurrent_configs_with_embedding_masks(cell, units, return_sequences, go_backwards, mask_zero, steps):
    def build():
        inp = keras.Input((steps,), dtype="int32")
        h = L.Embedding(7, 3, mask_zero=mask_zero)(inp)
        return keras.Model(inp, getattr(L, cell)(units, return_sequences=return_sequences, go_backwards=go_backwards)(h))
    _check_config(build)


# ---- regressions found by the fuzzers -----------------------------------------------------------
@pytest.mark.parametrize("bad", ["None", "True", "class", "torch", "F", "Exception", "MultiHeadAttention", "keras_rnn", "x y"])
def test_a_class_name_that_would_break_or_hide_something_is_refused_cleanly(bad):
    import tf2torch
    from tf2torch.errors import InputError

    inp = keras.Input((3,))
    model = keras.Model(inp, L.Dense(2)(inp))
    with pytest.raises(InputError, match="class name"):
        tf2torch.convert(model, class_name=bad, verify=False)


def test_a_model_named_none_is_refused_cleanly_or_converted_not_a_syntax_error():
    # was: SyntaxError from `class None(nn.Module)` (pipeline._class_name gave 'None')
    for model_name in ("none", "true", "layer_scale", "multi_head_attention", "exception"):
        inp = keras.Input((3,))
        model = keras.Model(inp, L.Dense(2)(inp), name=model_name)
        _convert(model, [model_name])


def test_inputs_and_layers_never_hide_an_inline_helper():
    # was: `def forward(self, torch_, MultiHeadAttention)` and a local named after keras_rnn
    q = keras.Input((4, 6), name="MultiHeadAttention")
    v = keras.Input((3, 6), name="keras_rnn")
    h = L.MultiHeadAttention(2, 3, name="apply_attention_scores")(q, v)
    model = keras.Model([q, v], [L.LayerNormalization(name="LayerNormOverDims")(h), h], name="m")
    outcome, _ = _convert(model, ["MultiHeadAttention", "keras_rnn", "LayerNormOverDims"])
    assert outcome == "ok"

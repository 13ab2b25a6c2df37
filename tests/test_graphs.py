"""Functional graphs: several inputs and outputs, shared layers, nested models, layouts at the boundary."""
import ast

import keras
import numpy as np
import pytest
import torch

from kerascheck import check, forward_source

L = keras.layers


def test_two_inputs_two_outputs_keep_keras_order():
    a = keras.Input((7,), name="alpha")
    b = keras.Input((9, 9, 3), name="beta")
    feat = L.Flatten()(L.MaxPooling2D()(L.Conv2D(4, 3, strides=2, padding="same")(b)))
    joined = L.Dense(5, name="joined")(feat)
    out1 = L.Dense(2, name="first")(a)
    model = keras.Model([a, b], [joined, out1])
    conversion = check(model)
    assert [i["name"] for i in conversion.report["inputs"]] == ["alpha", "beta"]
    assert [o["name"] for o in conversion.report["outputs"]][1] == "first"
    assert "def forward(self, alpha, beta)" in conversion.source


def test_shared_layer_is_one_module_called_twice():
    a, b = keras.Input((6,)), keras.Input((6,))
    shared = L.Dense(4, name="shared")
    model = keras.Model([a, b], [shared(a), shared(b)])
    conversion = check(model)
    assert conversion.source.count("nn.Linear(6, 4)") == 1
    assert forward_source(conversion).count("self.shared(") == 2
    assert set(conversion.state_dict) == {"shared.weight", "shared.bias"}


def test_nested_model_is_inlined():
    inner_in = keras.Input((11, 11, 2))
    inner = keras.Model(inner_in, L.Conv2D(3, 3, name="inner_conv")(inner_in), name="backbone")
    outer_in = keras.Input((11, 11, 2))
    x = inner(outer_in)
    x = L.Flatten()(x)
    model = keras.Model(outer_in, L.Dense(2, name="head")(x))
    conversion = check(model)
    assert "self.inner_conv = nn.Conv2d(2, 3, kernel_size=3)" in conversion.source


def test_nested_sequential_called_twice_shares_weights():
    block = keras.Sequential([keras.Input((5,)), L.Dense(3, name="blk")], name="block")
    a, b = keras.Input((5,)), keras.Input((5,))
    model = keras.Model([a, b], [block(a), block(b)])
    conversion = check(model)
    assert conversion.source.count("nn.Linear(5, 3)") == 1


def test_branch_reuses_names_readably():
    inp = keras.Input((13, 13, 3))
    x = L.Conv2D(4, 3, padding="same", name="stem")(inp)
    y = L.Conv2D(4, 3, padding="same", name="branch")(x)
    model = keras.Model(inp, [x, y])
    conversion = check(model)
    forward = forward_source(conversion)
    assert "return (x, branch)" in forward or "return (stem, branch)" in forward or "return (x, y)" in forward


@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_boundary_layout(layout):
    model = keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(2, 3, padding="same")])
    conversion = check(model, input_layout=layout)
    perm = conversion.report["inputs"][0]["permutation"]
    assert perm == ([0, 3, 1, 2] if layout == "torch" else [0, 1, 2, 3])
    x = np.random.default_rng(0).standard_normal((1, 9, 7, 3)).astype("float32")
    expected = model(x).numpy()
    with torch.no_grad():
        got = conversion.module(torch.from_numpy(np.transpose(x, perm).copy())).numpy()
    out_perm = conversion.report["outputs"][0]["permutation"]
    np.testing.assert_allclose(np.transpose(got, np.argsort(out_perm)), expected, rtol=1e-5, atol=1e-5)


def test_sequence_input_stays_batch_first():
    model = keras.Sequential([keras.Input((5, 3)), L.Dense(4)])
    conversion = check(model)
    assert conversion.report["inputs"][0]["permutation"] == [0, 1, 2]


def test_hostile_layer_names_are_sanitised():
    inp = keras.Input((4,), name="in")
    x = L.Dense(3, name="class")(inp)
    x = L.Dense(3, name="forward")(x)
    x = L.Dense(3, name="1 bad; import os")(x)
    x = L.Dense(2, name="parameters")(x)
    model = keras.Model(inp, x, name='evil"""model')
    conversion = check(model)
    compile(conversion.source, "model.py", "exec")
    for attr in ("self.class_ =", "self.forward_ =", "self.parameters_ ="):
        assert attr in conversion.source
    assert "import os" not in conversion.source.replace("1_bad_import_os", "")


def test_unsupported_layers_are_all_listed():
    from tf2torch.errors import ConversionError
    import tf2torch

    class Custom1(L.Layer):
        def call(self, x):
            return x * 2

    class Custom2(L.Layer):
        def call(self, x):
            return x + 1

    inp = keras.Input((3,))
    model = keras.Model(inp, Custom2(name="second")(L.Dense(3)(Custom1(name="first")(inp))))
    with pytest.raises(ConversionError) as info:
        tf2torch.convert(model)
    text = str(info.value)
    assert "first" in text and "second" in text and "Custom1" in text and "Custom2" in text


def test_small_mobile_style_network_runs_channels_first_without_permutes():
    inp = keras.Input((31, 29, 3))
    x = L.Rescaling(1 / 127.5, offset=-1)(inp)
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)
    shortcut = x
    y = L.DepthwiseConv2D(3, padding="same")(x)
    y = L.BatchNormalization()(y)
    y = L.Activation("swish")(y)
    se = L.GlobalAveragePooling2D(keepdims=True)(y)
    se = L.Conv2D(2, 1, activation="relu")(se)
    se = L.Conv2D(8, 1, activation="hard_sigmoid")(se)
    y = L.Multiply()([y, se])
    x = L.Add()([shortcut, y])
    x = L.Concatenate()([x, L.MaxPooling2D(3, 1, padding="same")(x)])
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(5)(L.Dropout(0.2)(x))
    conversion = check(keras.Model(inp, out))
    assert conversion.report["permutes_in_forward"] == 0


@pytest.mark.parametrize("model_name", ['a"""b', "back\\slash", "new\nline", "nul\x00", "ls\u2028ps\u2029", "sur\ud800", "x" * 10000])
def test_model_name_in_the_docstring_cannot_break_out(model_name):
    inp = keras.Input((4,), name="in")
    model = keras.Model(inp, L.Dense(2, name="keras_rnn")(inp), name=model_name)
    conversion = check(model)
    compile(conversion.source.encode("utf-8"), "model.py", "exec")  # as written to model.py
    doc = ast.get_docstring(next(n for n in ast.parse(conversion.source).body if isinstance(n, ast.ClassDef)))
    assert "\n" not in doc and "\u2028" not in doc and len(doc) < 300
    assert "self.keras_rnn_ = " in conversion.source  # never the name of an inline helper

"""EinsumDense against Keras: Linear-shaped equations become nn.Linear, the others torch.einsum."""
import keras
import pytest

import tf2torch
from kerascheck import check
from tf2torch.errors import ConversionError

L = keras.layers

# (input shape without batch, equation, output_shape, bias_axes, expected torch code)
EQUATIONS = [
    pytest.param((7,), "ab,bc->ac", 5, "c", "nn.Linear(7, 5)", id="dense-2d"),
    pytest.param((5, 7), "abc,cd->abd", (None, 6), "d", "nn.Linear(7, 6)", id="dense-3d"),
    pytest.param((5, 7), "abc,cd->abd", (None, 6), None, "nn.Linear(7, 6, bias=False)", id="dense-3d-no-bias"),
    pytest.param((5, 7), "abc,dc->abd", (None, 6), "d", "nn.Linear(7, 6)", id="kernel-transposed"),
    pytest.param((5, 7), "abc,cde->abde", (None, 2, 3), "de", "nn.Linear(7, 6)", id="multi-head-projection"),
    pytest.param((5, 7), "abc,ced->abde", (None, 2, 3), "de", "nn.Linear(7, 6)", id="multi-head-permuted-kernel"),
    pytest.param((3, 5, 7), "...b,bc->...c", 4, "c", "nn.Linear(7, 4)", id="left-ellipsis"),
    pytest.param((5, 7), "abc,cde->abde", (None, 2, 3), "e", "EinsumDense('abc,cde->abde'", id="bias-on-some-new-axes"),
    pytest.param((5, 7), "abc,cd->abd", (5, 6), "bd", "EinsumDense('abc,cd->abd'", id="bias-on-time"),
    pytest.param((5, 7), "abc,cd->abd", (5, 6), "b", "EinsumDense('abc,cd->abd'", id="bias-time-only"),
    pytest.param((5, 2, 3), "abcd,cde->abe", (None, 4), "e", "EinsumDense('abcd,cde->abe'", id="two-contracted"),
    pytest.param((5, 7), "abc,bcd->ad", 4, "d", "EinsumDense('abc,bcd->ad'", id="contract-time"),
    pytest.param((5, 7), "abc,bd->adc", (4, 7), "dc", "EinsumDense('abc,bd->adc'", id="mix-time"),
    pytest.param((5, 7), "abc,cd->abd", (5, 6), None, "nn.Linear(7, 6, bias=False)", id="full-output-shape"),
    pytest.param((5, 7), "ab...,bc->ac...", 4, "c", "EinsumDense('ab...,bc->ac...'", id="right-ellipsis"),
]


@pytest.mark.parametrize("shape, equation, output_shape, bias_axes, code", EQUATIONS)
def test_einsum_dense(shape, equation, output_shape, bias_axes, code):
    model = keras.Sequential([keras.Input(shape), L.EinsumDense(equation, output_shape, bias_axes=bias_axes)])
    conv = check(model)
    assert code in conv.source
    assert ("torch.einsum" in conv.source) == code.startswith("EinsumDense")
    assert ".permute(" not in conv.source.split(f"class {conv.class_name}(nn.Module)", 1)[1]


@pytest.mark.parametrize("activation", ["relu", "gelu", "softmax"])
def test_einsum_dense_activation(activation):
    model = keras.Sequential([keras.Input((5, 7)), L.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de",
                                                                  activation=activation)])
    check(model)


def test_einsum_dense_after_conv():
    """A channels-first conv output goes back to the Keras layout before the einsum."""
    model = keras.Sequential([keras.Input((6, 5, 3)), L.Conv2D(4, 3),
                              L.EinsumDense("abcd,de->abce", (4, 3, 8), bias_axes="e"),
                              L.EinsumDense("abcd,cde->abe", (4, 2), bias_axes="e")])
    check(model)


def test_einsum_dense_lora_refused():
    layer = L.EinsumDense("abc,cd->abd", (None, 6), bias_axes="d")
    model = keras.Sequential([keras.Input((5, 7)), layer])
    layer.enable_lora(2)
    with pytest.raises(ConversionError, match="LoRA"):
        tf2torch.convert(model, verify=False)

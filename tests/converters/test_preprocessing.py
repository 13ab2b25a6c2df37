"""Rescaling and Normalization inside the model, against Keras: scalar and per-channel constants
laid out like the tensor they meet (channels-first maps, sequences, vectors, flattened maps)."""
import keras
import numpy as np
import pytest

import tf2torch
from kerascheck import check, forward_source, randomize
from tf2torch.errors import ConversionError
from tf2torch.registry import support_table

L = keras.layers


def _image(layer, dtype="float32"):
    return keras.Sequential([keras.Input((9, 7, 3), dtype=dtype), layer, L.Conv2D(4, 3)])


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({"scale": 1 / 255}, "x = x * 0.003921569", id="scale"),
    pytest.param({"scale": 1 / 127.5, "offset": -1}, "x = x * 0.007843138 - 1.0", id="scale-offset"),
    pytest.param({"scale": 1.0, "offset": 0.5}, "x = x + 0.5", id="offset-only"),
    pytest.param({"scale": [0.5, 2.0, 4.0]}, "x = x * self.rescaling_scale", id="per-channel-scale"),
    pytest.param({"scale": np.array([0.5, 2.0, 4.0], "float32"), "offset": [0.1, 0.2, 0.3]},
                 "x = x * self.rescaling_scale + self.rescaling_offset", id="per-channel-both"),
])
def test_rescaling_on_images(kwargs, code):
    conversion = check(_image(L.Rescaling(**kwargs, name="rescaling")))
    assert code in forward_source(conversion)
    if "self.rescaling_scale" in code:
        assert "register_buffer('rescaling_scale', torch.zeros((3, 1, 1)" in conversion.source


def test_rescaling_casts_integer_images():
    conversion = check(_image(L.Rescaling(1 / 255), dtype="uint8"))
    assert "x.float() * 0.003921569" in forward_source(conversion)


@pytest.mark.parametrize("shape, scale", [
    pytest.param((6,), np.linspace(0.5, 2.0, 6), id="vector-per-feature"),
    pytest.param((5, 6), np.linspace(0.5, 2.0, 6), id="sequence-per-feature"),
    pytest.param((5, 6), np.linspace(0.5, 2.0, 30).reshape(5, 6), id="sequence-per-element"),
])
def test_rescaling_in_keras_layout(shape, scale):
    check(keras.Sequential([keras.Input(shape), L.Rescaling(scale.astype("float32"), offset=0.25), L.Dense(3)]))


def test_rescaling_per_element_on_a_feature_map():
    scale = np.linspace(0.5, 2.0, 9 * 7 * 3).reshape(9, 7, 3).astype("float32")
    conversion = check(_image(L.Rescaling(scale, name="rescaling")))
    assert "torch.zeros((3, 9, 7)" in conversion.source


def test_rescaling_after_flatten_keeps_chw_order():
    scale = np.linspace(0.5, 2.0, 45).astype("float32")
    model = keras.Sequential([keras.Input((5, 7, 2)), L.Conv2D(3, 3), L.Flatten(), L.Rescaling(scale), L.Dense(4)])
    assert ".permute(" not in forward_source(check(model))


# ---------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------
def _adapted(layer, shape, seed=0):
    data = np.random.default_rng(seed).normal(2.0, 3.0, (16,) + shape).astype("float32")
    layer.adapt(data)
    return layer


def _check_random_statistics(model):
    """Random weights, adapted statistics included: Normalization reads its statistics into the
    tensors it computes with only in finalize_state() (as when a saved model is loaded)."""
    randomize(model)
    for layer in model.layers:
        if isinstance(layer, L.Normalization):
            layer.finalize_state()
    return check(model, randomize_weights=False)


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.25]},
                 "(x - self.normalization_mean) / self.normalization_variance.sqrt().clamp(min=1e-07)", id="given-per-channel"),
    pytest.param({"mean": 0.5, "variance": 4.0}, "x = (x - 0.5) / 2.0", id="given-scalar"),
    pytest.param({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.25], "invert": True},
                 "self.normalization_mean + x * self.normalization_variance.sqrt()", id="invert"),
    pytest.param({"mean": [1.0, 2.0, 3.0], "variance": [1.0, 0.0, 0.25]}, "clamp(min=1e-07)", id="zero-variance"),
])
def test_normalization_given(kwargs, code):
    conversion = check(_image(L.Normalization(**kwargs, name="normalization")), randomize_weights=False)
    assert code in forward_source(conversion)
    assert ".permute(" not in forward_source(conversion)


@pytest.mark.parametrize("axis, buffer_shape", [
    pytest.param(-1, "(3, 1, 1)", id="channels"),
    pytest.param((1, 2), "(9, 7)", id="spatial"),
    pytest.param((1, 2, 3), "(3, 9, 7)", id="per-element"),
])
def test_normalization_adapted_on_images(axis, buffer_shape):
    layer = _adapted(L.Normalization(axis=axis, name="normalization"), (9, 7, 3))
    conversion = check(_image(layer), randomize_weights=False)
    assert f"register_buffer('normalization_mean', torch.zeros({buffer_shape}" in conversion.source


def test_normalization_adapted_over_everything_is_two_numbers():
    layer = _adapted(L.Normalization(axis=None), (9, 7, 3))
    conversion = check(_image(layer), randomize_weights=False)
    assert "register_buffer" not in conversion.source


@pytest.mark.parametrize("shape, axis", [
    pytest.param((6,), -1, id="vector"),
    pytest.param((5, 6), -1, id="sequence"),
    pytest.param((5, 6), 1, id="sequence-time"),
])
def test_normalization_in_keras_layout(shape, axis):
    layer = _adapted(L.Normalization(axis=axis), shape)
    _check_random_statistics(keras.Sequential([keras.Input(shape), layer, L.Dense(3)]))


def test_normalization_given_for_several_axes_aligns_from_the_right():
    # Keras aligns a lower-rank mean with the *last* kept axes (Normalization.build, case 2)
    layer = L.Normalization(axis=(1, 3), mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.25])
    check(_image(layer), randomize_weights=False)


def test_normalization_after_flatten_keeps_chw_order():
    layer = _adapted(L.Normalization(), (45,))
    model = keras.Sequential([keras.Input((5, 7, 2)), L.Conv2D(3, 3), L.Flatten(), layer, L.Dense(4)])
    assert ".permute(" not in forward_source(_check_random_statistics(model))


def test_normalization_of_integer_input():
    layer = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.25])
    conversion = check(_image(layer, dtype="int32"), randomize_weights=False)
    assert "x.float()" in forward_source(conversion)


def test_keras2_preprocessing_layers():
    tf_keras = pytest.importorskip("tf_keras")
    pytest.importorskip("tf2torch.frontend.keras2")
    k2 = tf_keras.layers
    normalization = k2.Normalization(name="normalization")
    normalization.adapt(np.random.default_rng(0).normal(2.0, 3.0, (16, 9, 7, 3)).astype("float32"))
    model = tf_keras.Sequential([tf_keras.Input((9, 7, 3)), k2.Rescaling(1 / 255, offset=0.1), normalization, k2.Conv2D(4, 3)])
    conversion = check(model, randomize_weights=False)
    forward = forward_source(conversion)
    assert "x * 0.003921569 + 0.1" in forward and "self.normalization_variance.sqrt().clamp(min=1e-07)" in forward


def _text_model():
    vectorizer = L.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorizer.adapt(["a b c", "b c d"])
    inp = keras.Input((1,), dtype="string")
    return keras.Model(inp, L.Embedding(20, 3)(vectorizer(inp)))


@pytest.mark.parametrize("build, name", [
    pytest.param(_text_model, "TextVectorization", id="text-vectorization"),
    pytest.param(lambda: keras.Sequential([keras.Input((3,), dtype="string"), L.StringLookup(vocabulary=["a", "b"])]),
                 "StringLookup", id="string-lookup"),
    pytest.param(lambda: keras.Sequential([keras.Input((3,), dtype="int64"), L.IntegerLookup(vocabulary=[3, 5])]),
                 "IntegerLookup", id="integer-lookup"),
    pytest.param(lambda: keras.Sequential([keras.Input((3,), dtype="string"), L.Hashing(7)]), "Hashing", id="hashing"),
    pytest.param(lambda: keras.Sequential([keras.Input((3,), dtype="int32"), L.CategoryEncoding(5, output_mode="multi_hot")]),
                 "CategoryEncoding", id="category-encoding"),
    pytest.param(lambda: (lambda a, b: keras.Model([a, b], L.HashedCrossing(9)((a, b))))(
        keras.Input((1,), dtype="int64"), keras.Input((1,), dtype="string")), "HashedCrossing", id="hashed-crossing"),
])
def test_lookup_and_string_layers_are_refused(build, name):
    with pytest.raises(ConversionError, match=rf"{name}: .*hint: keep it outside the converted model") as info:
        tf2torch.convert(build(), verify=False)
    assert len(info.value.problems) == 1 and info.value.problems[0].kind == "layer"


def test_refused_preprocessing_is_listed_as_refused():
    table = support_table()
    for name in ("TextVectorization", "StringLookup", "IntegerLookup", "Hashing", "HashedCrossing", "CategoryEncoding"):
        assert f"`keras.layers.{name}` | refused" in table

"""BatchNormalization (inference, random moving statistics), LayerNormalization, GroupNormalization,
UnitNormalization and RMSNormalization against Keras,
on vectors, sequences and channels-first feature maps (odd sizes)."""
import keras
import numpy as np
import pytest
import torch

from kerascheck import check, forward_source

L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")


def _spatial(shape, layer, filters=4):
    conv = {2: L.Conv1D, 3: L.Conv2D, 4: L.Conv3D}[len(shape)]
    return keras.Sequential([keras.Input(shape), conv(filters, 3), layer, conv(2, 1)])


@pytest.mark.parametrize("shape, code", [
    pytest.param((11, 3), "nn.BatchNorm1d(4, eps=0.001, momentum=0.01)", id="1d"),
    pytest.param((9, 7, 3), "nn.BatchNorm2d(4, eps=0.001, momentum=0.01)", id="2d"),
    pytest.param((5, 7, 9, 2), "nn.BatchNorm3d(4, eps=0.001, momentum=0.01)", id="3d"),
])
def test_batch_norm_on_feature_maps(shape, code):
    conversion = check(_spatial(shape, L.BatchNormalization()))
    assert code in conversion.source
    forward = forward_source(conversion)
    assert ".permute(" not in forward and ".transpose(" not in forward and ".movedim(" not in forward


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({"center": False}, "nn.BatchNorm2d(4, eps=0.001, momentum=0.01)", id="no-center"),
    pytest.param({"scale": False}, "nn.BatchNorm2d(4, eps=0.001, momentum=0.01)", id="no-scale"),
    pytest.param({"center": False, "scale": False}, "nn.BatchNorm2d(4, eps=0.001, momentum=0.01, affine=False)", id="no-affine"),
    pytest.param({"epsilon": 1e-5, "momentum": 0.9}, "nn.BatchNorm2d(4, eps=1e-05, momentum=0.1)", id="eps-momentum"),
    pytest.param({"renorm": True}, "nn.BatchNorm2d(4, eps=0.001, momentum=0.01)", id="renorm-inference"),
    pytest.param({"axis": 1}, "nn.BatchNorm2d(7, eps=0.001, momentum=0.01)", id="axis-rows"),
])
def test_batch_norm_options(kwargs, code):
    conversion = check(_spatial((9, 7, 3), L.BatchNormalization(**kwargs)))
    assert code in conversion.source
    one_fixed = kwargs.get("center", True) != kwargs.get("scale", True)  # weight or bias fixed, not both
    assert bool(conversion.report["warnings"]) == one_fixed


def test_batch_norm_on_another_axis_moves_it_to_dim_1():
    conversion = check(_spatial((9, 7, 3), L.BatchNormalization(axis=2, name="bn")))
    assert "self.bn(x.movedim(3, 1)).movedim(1, 3)" in forward_source(conversion)


@pytest.mark.parametrize("shape, axis, code, forward", [
    pytest.param((6,), -1, "nn.BatchNorm1d(6, eps=0.001, momentum=0.01)", "self.bn(x)", id="vector"),
    pytest.param((5, 6), -1, "nn.BatchNorm1d(6, eps=0.001, momentum=0.01)", "self.bn(x.transpose(1, 2)).transpose(1, 2)", id="sequence"),
    pytest.param((5, 6), 1, "nn.BatchNorm1d(5, eps=0.001, momentum=0.01)", "self.bn(x)", id="sequence-time-axis"),
])
def test_batch_norm_in_keras_layout(shape, axis, code, forward):
    model = keras.Sequential([keras.Input(shape), L.BatchNormalization(axis=axis, name="bn"), L.Dense(3)])
    conversion = check(model)
    assert code in conversion.source and forward in forward_source(conversion)


def test_batch_norm_after_flatten_reorders_its_statistics():
    model = keras.Sequential([keras.Input((5, 7, 2)), L.Conv2D(3, 3), L.Flatten(), L.BatchNormalization(), L.Dense(4)])
    conversion = check(model)
    assert "nn.BatchNorm1d(45, eps=0.001, momentum=0.01)" in conversion.source
    assert ".permute(" not in forward_source(conversion)


def test_keras2_normalization_layers():
    """tf_keras stores axis as a list ([3]) and float32 numbers: same torch code as Keras 3."""
    tf_keras = pytest.importorskip("tf_keras")
    pytest.importorskip("tf2torch.frontend.keras2")
    k2 = tf_keras.layers
    model = tf_keras.Sequential([tf_keras.Input((9, 7, 3)), k2.Conv2D(4, 3), k2.BatchNormalization(),
                                 k2.LayerNormalization(), k2.Conv2D(2, 1), k2.LayerNormalization(axis=[1, 2, 3])])
    source = check(model).source
    assert "nn.BatchNorm2d(4, eps=0.001, momentum=0.01)" in source
    assert "LayerNormOverDims((4, 1, 1), dims=(1,), eps=0.001)" in source and "nn.LayerNorm((2, 7, 5), eps=0.001)" in source


# ---------------------------------------------------------------------------------------------
# LayerNormalization
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, axis, code", [
    pytest.param((6,), -1, "nn.LayerNorm(6, eps=0.001)", id="vector"),
    pytest.param((5, 6), -1, "nn.LayerNorm(6, eps=0.001)", id="sequence"),
    pytest.param((5, 6), [1, 2], "nn.LayerNorm((5, 6), eps=0.001)", id="sequence-both-axes"),
    pytest.param((5, 6), 1, "LayerNormOverDims((5, 1), dims=(1,), eps=0.001)", id="sequence-time-axis"),
])
def test_layer_norm_in_keras_layout(shape, axis, code):
    model = keras.Sequential([keras.Input(shape), L.LayerNormalization(axis=axis), L.Dense(3)])
    assert code in check(model).source


@pytest.mark.parametrize("shape, axis, code", [
    pytest.param((9, 7, 3), -1, "LayerNormOverDims((4, 1, 1), dims=(1,), eps=0.001)", id="image-channels"),
    pytest.param((9, 7, 3), [1, 2, 3], "nn.LayerNorm((4, 7, 5), eps=0.001)", id="image-all"),
    pytest.param((9, 7, 3), [1, 2], "nn.LayerNorm((7, 5), eps=0.001)", id="image-spatial"),
    pytest.param((9, 7, 3), [1, 3], "LayerNormOverDims((4, 7, 1), dims=(1, 2), eps=0.001)", id="image-rows-channels"),
    pytest.param((11, 3), -1, "LayerNormOverDims((4, 1), dims=(1,), eps=0.001)", id="sequence-channels-first"),
])
def test_layer_norm_on_feature_maps(shape, axis, code):
    conversion = check(_spatial(shape, L.LayerNormalization(axis=axis)))
    assert code in conversion.source
    assert ".permute(" not in forward_source(conversion)


@pytest.mark.parametrize("kwargs, code", [
    pytest.param({"center": False}, "nn.LayerNorm(6, eps=0.001, bias=False)", id="no-center"),
    pytest.param({"scale": False}, "nn.LayerNorm(6, eps=0.001)", id="no-scale"),
    pytest.param({"center": False, "scale": False}, "nn.LayerNorm(6, eps=0.001, elementwise_affine=False)", id="no-affine"),
    pytest.param({"epsilon": 1e-6}, "nn.LayerNorm(6, eps=1e-06)", id="epsilon"),
    pytest.param({"rms_scaling": True}, "LayerNormOverDims((6,), dims=(1,), eps=0.001, rms_scaling=True)", id="rms-scaling"),
])
def test_layer_norm_options(kwargs, code):
    model = keras.Sequential([keras.Input((6,)), L.LayerNormalization(**kwargs), L.Dense(3)])
    assert code in check(model).source


@pytest.mark.parametrize("kwargs", [
    pytest.param({"center": False}, id="no-center"),
    pytest.param({"scale": False}, id="no-scale"),
    pytest.param({"rms_scaling": True}, id="rms-scaling"),
])
def test_layer_norm_options_on_channels(kwargs):
    check(_spatial((9, 7, 3), L.LayerNormalization(**kwargs)))


def test_layer_norm_after_flatten_reorders_its_weights():
    model = keras.Sequential([keras.Input((5, 7, 2)), L.Conv2D(3, 3), L.Flatten(), L.LayerNormalization(), L.Dense(4)])
    conversion = check(model)
    assert "nn.LayerNorm(45, eps=0.001)" in conversion.source
    assert ".permute(" not in forward_source(conversion)


# ----------------------------------------------------------------------------------------------
# GroupNormalization, UnitNormalization, RMSNormalization
# ----------------------------------------------------------------------------------------------
def _flat(layer):
    """A layer on the features of a flattened channels-first map (torch features in CHW order)."""
    return keras.Sequential([keras.Input((5, 4, 3)), L.Conv2D(4, 1), L.Flatten(), layer, L.Dense(3)])


@pytest.mark.parametrize("model, code, moves", [
    pytest.param(_spatial((9, 7, 3), L.GroupNormalization(2), 6), "nn.GroupNorm(2, 6, eps=0.001)", False, id="image"),
    pytest.param(_spatial((11, 3), L.GroupNormalization(-1, epsilon=1e-5), 6), "nn.GroupNorm(6, 6)", False, id="1d-instance"),
    pytest.param(_spatial((5, 7, 9, 2), L.GroupNormalization(3, center=False), 6), "nn.GroupNorm(3, 6, eps=0.001)", False,
                 id="3d-no-center"),
    pytest.param(keras.Sequential([keras.Input((9, 6)), L.GroupNormalization(3)]), "nn.GroupNorm(3, 6, eps=0.001)", True,
                 id="sequence"),
    pytest.param(keras.Sequential([keras.Input((9, 6)), L.GroupNormalization(3, scale=False, center=False)]),
                 "nn.GroupNorm(3, 6, eps=0.001, affine=False)", True, id="sequence-no-affine"),
    pytest.param(keras.Sequential([keras.Input((6, 5, 3)), L.GroupNormalization(3, axis=1)]), "nn.GroupNorm(3, 6", False,
                 id="axis-1"),
    pytest.param(_flat(L.GroupNormalization(5)), "nn.GroupNorm(5, 80, eps=0.001)", True, id="flattened"),  # groups in Keras order
])
def test_group_normalization(model, code, moves):
    """nn.GroupNorm takes the channels at dim 1: channels-first maps need no permute."""
    conv = check(model)
    assert code in conv.source
    forward = forward_source(conv)
    assert any(m in forward for m in (".permute(", ".transpose(", ".movedim(")) == moves


@pytest.mark.parametrize("model, code", [
    pytest.param(keras.Sequential([keras.Input((9, 6)), L.UnitNormalization()]), "F.normalize(x, dim=-1)", id="sequence"),
    pytest.param(_spatial((9, 7, 3), L.UnitNormalization()), "F.normalize(x, dim=1)", id="image-channels"),
    pytest.param(_spatial((9, 7, 3), L.UnitNormalization(axis=[1, 2])), "F.normalize(x, dim=(2, 3))", id="image-spatial"),
    pytest.param(_flat(L.UnitNormalization()), "F.normalize(x, dim=-1)", id="flattened"),
])
def test_unit_normalization(model, code):
    conv = check(model)
    forward = forward_source(conv)
    assert code in forward and ".permute(" not in forward and "unflatten" not in forward


def test_unit_normalization_of_zeros_is_zero():
    """Keras caps 1 / norm at 1e12 (epsilon 1e-12), as F.normalize's eps does: zero rows stay zero."""
    model = keras.Sequential([keras.Input((7,)), L.UnitNormalization()])
    conv = check(model)
    x = np.zeros((2, 7), np.float32)
    x[1, 3] = 1e-13
    with torch.inference_mode():
        got = conv.module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, np.asarray(model(x)), rtol=1e-6)


@pytest.mark.parametrize("model, code", [
    pytest.param(keras.Sequential([keras.Input((9, 6)), L.RMSNormalization()]), "nn.RMSNorm(6, eps=1e-06)", id="sequence"),
    pytest.param(keras.Sequential([keras.Input((5, 9, 6)), L.RMSNormalization(axis=[-2, -1], epsilon=1e-3)]),
                 "nn.RMSNorm((9, 6), eps=0.001)", id="two-axes"),
    pytest.param(_spatial((9, 7, 3), L.RMSNormalization()), "RMSNormOverDims((4, 1, 1), dims=(1,), eps=1e-06)", id="image-channels"),
    pytest.param(_spatial((9, 7, 3), L.RMSNormalization(axis=[2, 3])), "RMSNormOverDims((4, 1, 5), dims=(1, 3)", id="image-two-axes"),
    pytest.param(_flat(L.RMSNormalization()), "nn.RMSNorm(80, eps=1e-06)", id="flattened"),
])
def test_rms_normalization(model, code):
    conv = check(model)
    assert code in conv.source
    forward = forward_source(conv)
    assert ".permute(" not in forward and "unflatten" not in forward

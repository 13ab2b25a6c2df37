"""The layers keras.applications defines for itself (ConvNeXt, InceptionResNetV2), against Keras."""
import keras
import numpy as np
import pytest
import torch
from keras.src.applications.convnext import LayerScale, StochasticDepth
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

from kerascheck import check, forward_source

L = keras.layers


def _convnext_block(x, dim):
    """ConvNeXt's block (keras/src/applications/convnext.py ConvNeXtBlock), odd sizes."""
    y = L.DepthwiseConv2D(7, padding="same")(x)
    y = L.LayerNormalization(epsilon=1e-6)(y)
    y = L.Dense(4 * dim)(y)
    y = L.Activation("gelu")(y)
    y = L.Dense(dim)(y)
    y = LayerScale(1e-6, dim)(y)
    y = StochasticDepth(0.1)(y)
    return L.Add()([x, y])


def test_convnext_block_stays_channels_first():
    inputs = keras.Input((13, 11, 3))
    x = L.Conv2D(6, 4, strides=4, padding="same")(inputs)
    x = L.LayerNormalization(epsilon=1e-6)(x)
    x = _convnext_block(x, 6)
    x = L.Conv2D(5, 1)(x)
    conversion = check(keras.Model(inputs, x))
    forward = forward_source(conversion)
    assert ".permute(" not in forward and ".transpose(" not in forward
    assert "LayerScale((6, 1, 1))" in conversion.source
    assert conversion.state_dict["layer_scale.gamma"].shape == (6, 1, 1)


@pytest.mark.parametrize("shape", [(7, 5), (9,)], ids=["sequence", "vector"])
def test_layer_scale_channels_last(shape):
    inputs = keras.Input(shape)
    conversion = check(keras.Model(inputs, LayerScale(0.5, shape[-1])(L.Dense(shape[-1])(inputs))))
    assert f"LayerScale({shape[-1]})" in conversion.source


def test_custom_scale_layer_keeps_the_feature_maps_channels_first():
    inputs = keras.Input((11, 9, 4))
    branch = L.Conv2D(4, 3, padding="same")(inputs)
    x = CustomScaleLayer(0.17)([inputs, branch])
    conversion = check(keras.Model(inputs, L.Conv2D(3, 1)(x)))
    forward = forward_source(conversion)
    assert "* 0.17" in forward and ".permute(" not in forward


def test_stochastic_depth_trains_like_drop_path():
    from tf2torch.emit import emit
    from tf2torch.frontend.keras3 import read_model
    from tf2torch.pipeline import instantiate
    from tf2torch.program import build_program
    from tf2torch.weights import state_dict

    model = keras.Sequential([keras.Input((5, 5, 2)), L.Conv2D(3, 1), StochasticDepth(0.5)])
    program = build_program(read_model(model), "Trained", training=True)
    torch_model = instantiate(emit(program), "Trained", state_dict(program))
    x = torch.randn(400, 2, 5, 5)
    with torch.no_grad():
        kept = torch_model.train()(x)
        inference = torch_model.eval()(x)
    per_sample = kept.flatten(1)
    dropped = (per_sample == 0).all(1)
    assert 0.35 < dropped.float().mean() < 0.65  # whole samples dropped at the rate
    torch.testing.assert_close(kept[~dropped], inference[~dropped] * 2)  # kept ones scaled by 1 / (1 - rate)
    assert np.isclose(float(StochasticDepth(0.5)(np.ones((2, 3), np.float32), training=False).numpy().sum()), 6)

"""--fold-batchnorm: BatchNormalization folded into the convolution or Dense before it (fold.py)."""
import keras
import pytest
import tf_keras as K

from kerascheck import check
from test_frontend_keras2 import convert_h5

L = keras.layers


def _model(inputs, *layers):
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("build", [
    pytest.param(lambda: _model(keras.Input((11, 9, 3)), L.Conv2D(4, 3, strides=2, padding="same"), L.BatchNormalization(),
                                L.ReLU()), id="conv2d"),
    pytest.param(lambda: _model(keras.Input((11, 9, 3)), L.Conv2D(4, 3, use_bias=False), L.BatchNormalization(epsilon=1e-5)),
                 id="conv2d-no-bias"),
    pytest.param(lambda: _model(keras.Input((11, 9, 3)), L.DepthwiseConv2D(3, depth_multiplier=2), L.BatchNormalization()),
                 id="depthwise-multiplier-2"),
    pytest.param(lambda: _model(keras.Input((13, 3)), L.Conv1D(5, 3), L.BatchNormalization(scale=False)), id="conv1d-no-scale"),
    pytest.param(lambda: _model(keras.Input((6,)), L.Dense(5), L.BatchNormalization(center=False)), id="dense-no-center"),
    pytest.param(lambda: _model(keras.Input((7, 5, 5, 2)), L.Conv3D(3, 2), L.BatchNormalization()), id="conv3d"),
])
def test_folded_pairs_verify_and_leave_no_batch_norm(build):
    conversion = check(build(), fold_batch_norm=True)
    assert len(conversion.report["folded_batch_norm"]) == 1
    assert "BatchNorm" not in conversion.source


def _left_alone(model):
    conversion = check(model, fold_batch_norm=True)
    assert conversion.report["folded_batch_norm"] == []
    assert "BatchNorm" in conversion.source


def test_activation_before_the_norm_is_not_folded():
    _left_alone(_model(keras.Input((9, 9, 3)), L.Conv2D(4, 3, activation="relu"), L.BatchNormalization()))


def test_a_tensor_read_elsewhere_is_not_folded():
    inputs = keras.Input((9, 9, 3))
    y = L.Conv2D(3, 3, padding="same")(inputs)
    _left_alone(keras.Model(inputs, L.Add()([y, L.BatchNormalization()(y)])))


def test_a_shared_layer_is_not_folded():
    conv = L.Conv2D(3, 3, padding="same")
    inputs = keras.Input((9, 9, 3))
    _left_alone(keras.Model(inputs, L.BatchNormalization()(conv(conv(inputs)))))


def test_norm_over_another_axis_is_not_folded():
    _left_alone(_model(keras.Input((9, 9, 3)), L.Conv2D(4, 3), L.BatchNormalization(axis=1)))


def test_not_folded_unless_asked():
    conversion = check(_model(keras.Input((9, 9, 3)), L.Conv2D(4, 3), L.BatchNormalization()))
    assert conversion.report["folded_batch_norm"] == [] and "nn.BatchNorm2d" in conversion.source


def test_keras2_depthwise_kernel_folds(tmp_path):
    model = K.Sequential([K.Input((11, 9, 3)), K.layers.DepthwiseConv2D(3, depth_multiplier=2), K.layers.BatchNormalization()])
    conversion = convert_h5(model, tmp_path, fold_batch_norm=True)
    assert len(conversion.report["folded_batch_norm"]) == 1

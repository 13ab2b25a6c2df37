"""Regularisation layers are identity at inference, in whatever layout they receive."""
import keras
import pytest

from kerascheck import check, forward_source

L = keras.layers


@pytest.mark.parametrize("layer", [
    pytest.param(L.Dropout(0.5), id="dropout"),
    pytest.param(L.SpatialDropout2D(0.3), id="spatial-dropout2d"),
    pytest.param(L.GaussianDropout(0.2), id="gaussian-dropout"),
    pytest.param(L.GaussianNoise(1.0), id="gaussian-noise"),
    pytest.param(L.AlphaDropout(0.1), id="alpha-dropout"),
    pytest.param(L.ActivityRegularization(l1=0.1), id="activity-regularization"),
])
def test_identity_at_inference_on_feature_maps(layer):
    model = keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), layer, L.Conv2D(2, 1)])
    conversion = check(model)
    forward = forward_source(conversion)
    assert ".permute(" not in forward and "dropout" not in forward.lower()


@pytest.mark.parametrize("layer", [L.Dropout(0.5), L.SpatialDropout1D(0.5)], ids=["dropout", "spatial-dropout1d"])
def test_identity_on_sequences(layer):
    check(keras.Sequential([keras.Input((5, 4)), layer, L.Dense(3)]))

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


@pytest.mark.parametrize("layer, module", [
    pytest.param(L.Dropout(0.5), "nn.Dropout(0.5)", id="dropout"),
    pytest.param(L.AlphaDropout(0.2), "nn.AlphaDropout(0.2)", id="alpha-dropout"),
    pytest.param(L.SpatialDropout2D(0.3), "nn.Dropout2d(0.3)", id="spatial-dropout2d"),
    pytest.param(L.GaussianNoise(0.7), "GaussianNoise(0.7)", id="gaussian-noise"),
    pytest.param(L.GaussianDropout(0.25), "GaussianDropout(0.25)", id="gaussian-dropout"),
])
def test_models_that_train_get_active_modules(layer, module):
    import torch

    from tf2torch.emit import emit
    from tf2torch.frontend.keras3 import read_model
    from tf2torch.pipeline import instantiate
    from tf2torch.program import build_program
    from tf2torch.weights import state_dict

    model = keras.Sequential([keras.Input((9, 7, 3)), L.Conv2D(4, 3), layer])
    program = build_program(read_model(model), "Trained", training=True)
    source = emit(program)
    assert module in source and ".permute(" not in forward_source_text(source)
    torch_model = instantiate(source, "Trained", state_dict(program))
    x = torch.randn(64, 3, 9, 7)
    with torch.no_grad():
        inference = torch_model.eval()(x)
        training = torch_model.train()(x)
    assert not torch.allclose(inference, training)  # active in train mode
    with torch.no_grad():
        torch.testing.assert_close(torch_model.eval()(x), inference)  # identity in eval mode


def forward_source_text(source: str) -> str:
    return source.split("def forward", 1)[1]


def test_recurrent_dropout_cannot_train_the_keras_way():
    from tf2torch.errors import ConversionError
    from tf2torch.frontend.keras3 import read_model
    from tf2torch.program import build_program

    model = keras.Sequential([keras.Input((5, 3)), L.LSTM(4, dropout=0.2)])
    with pytest.raises(ConversionError, match="dropout"):
        build_program(read_model(model), "Trained", training=True)

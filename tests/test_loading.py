"""Loading files through the API: bad inputs are InputErrors, and code in a file never runs unless unsafe.

A Lambda's function writes a marker file when called: after a refused conversion the marker must
not exist; with unsafe=True it does (so the safe-mode assertions can fail).
"""
import json

import h5py
import keras
import pytest
import tf_keras as K

import tf2torch
from tf2torch.errors import ConversionError, InputError
from tf2torch.frontend import code_layers

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")


@pytest.fixture(autouse=True)
def fresh_names():
    """Leave tf_keras' layer-name counters as found: other test files assert on names."""
    yield
    K.backend.clear_session()


def touch(path):
    """A function that creates `path` when called, whatever it is given (bytecode keeps the default)."""
    return lambda x, _marker=str(path): (open(_marker, "w").close(), x)[1]


def small_tf_keras_model():
    return K.Sequential([K.Input((4,)), K.layers.Dense(3)])


# ----------------------------------------------------------------------------------------------
# Lambda code never runs without unsafe
# ----------------------------------------------------------------------------------------------
def test_keras2_h5_lambda_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "lambda-ran"
    inp = K.Input((4,))
    x = K.layers.Dense(3)(inp)
    x = K.layers.Lambda(touch(marker), name="evil")(x)
    y = K.layers.TimeDistributed(K.layers.Lambda(touch(marker), name="evil_inside"))(K.layers.Reshape((3, 1))(x))
    K.Model(inp, y).save(tmp_path / "lambda.h5")
    marker.unlink()  # building the model called the function

    with pytest.raises(ConversionError) as info:
        tf2torch.convert(tmp_path / "lambda.h5")
    assert not marker.exists()
    assert [p.kind for p in info.value.problems] == ["unsafe", "unsafe"]
    assert [p.where for p in info.value.problems] == ["lambda.h5:evil", "lambda.h5:evil_inside"]
    assert "--unsafe" in str(info.value)

    with pytest.raises(Exception):  # no converter for Lambda: what matters is that the code ran
        tf2torch.convert(tmp_path / "lambda.h5", unsafe=True)
    assert marker.exists()


def test_keras3_file_lambda_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "lambda-ran"
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(touch(marker), name="evil")])
    model.save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)
    with pytest.raises(ConversionError, match="evil: layer carries Python code"):
        tf2torch.convert(tmp_path / "lambda.keras")
    assert not marker.exists()


@pytest.mark.parametrize("config, names", [
    pytest.param({"class_name": "Dense", "config": {"name": "d"}}, [], id="plain"),
    pytest.param({"class_name": "Lambda", "config": {"name": "f", "function_type": "function"}}, ["f"], id="lambda-layer"),
    pytest.param({"class_name": "RNN", "config": {"name": "rnn", "cell": {"class_name": "ResidualWrapper", "config": {
        "name": "res", "residual_fn": ["<bytecode>", None, None], "residual_fn_type": "lambda"}}}}, ["res"], id="cell-wrapper-bytecode"),
    pytest.param({"class_name": "Model", "config": {"layers": [{"class_name": "__lambda__", "config": {"code": "..."}}]}}, ["?"],
                 id="keras3-serialised-lambda"),
])
def test_code_layers_finds_every_bytecode_carrier(config, names):
    assert code_layers(config) == names


# ----------------------------------------------------------------------------------------------
# Bad inputs are InputErrors with the path in the message
# ----------------------------------------------------------------------------------------------
def write_truncated_keras(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.save(tmp_path / "full.keras")
    data = (tmp_path / "full.keras").read_bytes()
    (tmp_path / "bad.keras").write_bytes(data[: len(data) // 2])
    return tmp_path / "bad.keras"


def write_random_h5(tmp_path):
    path = tmp_path / "bad.h5"
    path.write_bytes(bytes(range(256)) * 16)
    return path


def write_weights_only_h5(tmp_path):
    path = tmp_path / "weights.h5"
    small_tf_keras_model().save_weights(path)
    return path


def write_bad_config_h5(tmp_path):
    path = tmp_path / "config.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "NoSuchModel", "config": {}})
        f.attrs["keras_version"] = "2.15.0"
    return path


def write_saved_model(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"\x08\x01")
    return folder


BAD_INPUTS = [
    pytest.param(lambda p: p / "missing.keras", "no such file", id="missing"),
    pytest.param(lambda p: (p / "model.txt").write_text("x") and p / "model.txt", "unknown model format", id="extension"),
    pytest.param(lambda p: p, "is a folder", id="folder"),
    pytest.param(write_saved_model, "SavedModel input is not supported yet", id="saved-model"),
    pytest.param(write_truncated_keras, "not a valid .keras archive", id="truncated-keras"),
    pytest.param(write_random_h5, "not a readable HDF5 file", id="random-h5"),
    pytest.param(write_weights_only_h5, "holds weights only", id="weights-only-h5"),
    pytest.param(write_bad_config_h5, "Keras cannot load it", id="unknown-class-h5"),
]


@pytest.mark.parametrize("make, message", BAD_INPUTS)
def test_bad_input_is_an_input_error(make, message, tmp_path):
    path = make(tmp_path)
    with pytest.raises(InputError, match=message) as info:
        tf2torch.convert(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_keras3_legacy_h5_is_loaded_with_keras3(tmp_path):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="hard_sigmoid")])
    model.save(tmp_path / "k3.h5")
    with h5py.File(tmp_path / "k3.h5") as f:
        assert str(f.attrs["keras_version"]).startswith("3.")
    conversion = tf2torch.convert(tmp_path / "k3.h5", tolerance=1e-5)
    assert "F.hardsigmoid(" in conversion.source  # Keras 3 semantics, not Keras 2's clip(0.2 x + 0.5)


def test_not_a_model_object():
    with pytest.raises(InputError, match="expected a Keras model or a path"):
        tf2torch.convert(42)

"""Loading files through the API: bad inputs are InputErrors, and code in a file never runs unless unsafe.

A Lambda's function writes a marker file when called: after a refused conversion the marker must
not exist; with unsafe=True it does (so the safe-mode assertions can fail).
"""
import json
import sys

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


def touch_constant(path):
    """Like touch, with the path a constant of the code (Keras 3 cannot load a lambda with defaults)."""
    return eval(f"lambda x: (open({str(path)!r}, 'w').close(), x)[1]")


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


# ----------------------------------------------------------------------------------------------
# Configs edited by hand (or by an attacker): checked before Keras builds anything
# ----------------------------------------------------------------------------------------------
def keras_with_config(tmp_path, edit, layers=None, name="edited.keras"):
    """A small .keras file whose config.json went through `edit(config)` (returns the path)."""
    import zipfile

    model = keras.Sequential([keras.Input((4,)), *(layers or [keras.layers.Dense(3, name="d")])])
    model.save(tmp_path / "base.keras")
    with zipfile.ZipFile(tmp_path / "base.keras") as zin, zipfile.ZipFile(tmp_path / name, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                edited = edit(config)
                config = edited if isinstance(edited, dict) else config
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    return tmp_path / name


def h5_with_config(tmp_path, edit, model=None, name="edited.h5"):
    """A small tf_keras .h5 file whose model_config went through `edit(config)`."""
    path = tmp_path / name
    (model or small_tf_keras_model()).save(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        edited = edit(config)
        config = edited if isinstance(edited, dict) else config
        f.attrs["model_config"] = json.dumps(config)
    return path


def layer_config(config, index=-1):
    return config["config"]["layers"][index]["config"]


def no_keras_load(monkeypatch):
    """Make any Keras load fail the test: the config scan must refuse the file first."""
    def refuse(*args, **kwargs):
        raise AssertionError("Keras was asked to load a file the scan should have refused")

    monkeypatch.setattr(keras.saving, "load_model", refuse)
    monkeypatch.setattr(K.models, "load_model", refuse)


@pytest.mark.parametrize("value, message", [
    (10**12, "layer 'd': units=1000000000000 is beyond tf2torch's limit"),
    (-3, "layer 'd': units=-3 is negative"),
    (2.5e300, "is beyond tf2torch's limit"),
    (10**400, "is beyond tf2torch's limit"),  # fuzzer: an int beyond any float raised OverflowError
])
def test_absurd_sizes_in_config_json_are_refused_before_keras_allocates(value, message, tmp_path, monkeypatch):
    path = keras_with_config(tmp_path, lambda c: layer_config(c).__setitem__("units", value))
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match=message) as info:
        tf2torch.convert(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_too_many_weights_in_one_layer_are_refused(tmp_path, monkeypatch):
    """Each size is below the per-value limit, their product (the kernel: 10**5 x 10**5) is not."""
    path = keras_with_config(tmp_path, lambda c: (layer_config(c, -2).__setitem__("units", 10**5),
                                                  layer_config(c, -1).__setitem__("units", 10**5)),
                             layers=[keras.layers.Dense(3, name="d"), keras.layers.Dense(3, name="wide")])
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match="layer 'wide': would hold about 1e\\+10 weights"):
        tf2torch.convert(path)


def test_absurd_embedding_vocabulary_is_refused(tmp_path, monkeypatch):
    path = keras_with_config(tmp_path, lambda c: layer_config(c).__setitem__("input_dim", 10**13),
                             layers=[keras.layers.Embedding(10, 3, name="emb")])
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match="layer 'emb': input_dim=10000000000000 is beyond"):
        tf2torch.convert(path)


def test_absurd_input_shape_is_refused(tmp_path, monkeypatch):
    path = keras_with_config(tmp_path, lambda c: layer_config(c, 0).__setitem__("batch_shape", [None, 50000, 50000, 3]))
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match="elements per sample"):
        tf2torch.convert(path)


def test_absurd_units_in_a_keras2_h5_is_refused_before_tf_keras_allocates(tmp_path, monkeypatch):
    path = h5_with_config(tmp_path, lambda c: layer_config(c).__setitem__("units", 10**12))
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match="units=1000000000000 is beyond"):
        tf2torch.convert(path)


@pytest.mark.parametrize("make", [
    pytest.param(lambda p: keras_with_config(p, lambda c: layer_config(c).__setitem__("x", json.loads("[" * 900 + "]" * 900))),
                 id="keras-deep-list"),
    pytest.param(lambda p: h5_with_config(p, lambda c: layer_config(c).__setitem__("x", json.loads("[" * 900 + "]" * 900))),
                 id="h5-deep-list"),
])
def test_deeply_nested_config_is_an_input_error(make, tmp_path):
    path = make(tmp_path)
    with pytest.raises(InputError, match="nested") as info:
        tf2torch.convert(path)
    assert str(path) in str(info.value)


def test_config_json_that_parses_too_deep_is_an_input_error(tmp_path):
    import zipfile

    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "[" * 100000 + "]" * 100000)  # json.loads: RecursionError
    with pytest.raises(InputError, match="nested too deeply"):
        tf2torch.convert(path)


@pytest.mark.parametrize("config", ["[1, 2]", '"text"', '{"class_name": "Sequential"}', "null"])
def test_config_json_that_is_not_a_model_config_is_an_input_error(config, tmp_path):
    import zipfile

    path = tmp_path / "odd.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", config)
    with pytest.raises(InputError, match="not a Keras model config"):
        tf2torch.convert(path)


def test_non_utf8_config_json_is_an_input_error(tmp_path):
    import zipfile

    path = tmp_path / "latin.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", b'{"class_name": "\xff"}')
    with pytest.raises(InputError, match="not a valid .keras archive"):
        tf2torch.convert(path)


def test_unknown_class_in_config_json_is_an_input_error(tmp_path):
    path = keras_with_config(tmp_path, lambda c: c["config"]["layers"][-1].update(class_name="NoSuchLayer"))
    with pytest.raises(InputError, match="Keras cannot load it"):
        tf2torch.convert(path)


# ----------------------------------------------------------------------------------------------
# References to code other than Lambda: nothing is imported or called
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def marker_module(tmp_path, monkeypatch):
    """An importable module that creates a marker file when imported, and whose f() does too."""
    marker = tmp_path / "imported"
    (tmp_path / "t2t_evil_module.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        f"def f(x=None):\n    open({str(marker)!r}, 'w').close()\n    return x\n"
        "class Evil:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("t2t_evil_module", None)


EVIL_FUNCTION = {"module": "t2t_evil_module", "class_name": "function", "config": "f", "registered_name": "f"}
EVIL_CLASS = {"module": "t2t_evil_module", "class_name": "Evil", "config": {}, "registered_name": "Evil"}


@pytest.mark.parametrize("edit", [
    pytest.param(lambda c: layer_config(c).__setitem__("activation", dict(EVIL_FUNCTION)), id="activation-function"),
    pytest.param(lambda c: layer_config(c).__setitem__("kernel_initializer", dict(EVIL_CLASS)), id="initializer-class"),
    pytest.param(lambda c: c["config"]["layers"][-1].update(module="t2t_evil_module", class_name="Evil",
                                                            registered_name="Evil"), id="layer-class"),
])
@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_config_naming_an_arbitrary_module_imports_nothing(fmt, edit, marker_module, tmp_path):
    path = keras_with_config(tmp_path, edit) if fmt == "keras" else h5_with_config(tmp_path, edit)
    with pytest.raises((InputError, ConversionError)):
        tf2torch.convert(path)
    assert not marker_module.exists() and "t2t_evil_module" not in sys.modules


def test_keras_function_outside_the_modelling_api_is_refused(tmp_path, monkeypatch):
    fn = {"module": "keras.utils", "class_name": "function", "config": "plot_model", "registered_name": None}
    path = keras_with_config(tmp_path, lambda c: layer_config(c).__setitem__("activation", fn))
    no_keras_load(monkeypatch)
    with pytest.raises(ConversionError, match="d: names the function keras.utils.plot_model") as info:
        tf2torch.convert(path)
    assert info.value.problems[0].kind == "unsafe" and "--unsafe" in str(info.value)


@pytest.mark.parametrize("function", ["io.write_file", "print", "py_function", "io.gfile.makedirs", "debugging.enable_check_numerics",
                                      "compat.v1.py_func"])
def test_tf_op_lambda_calling_a_non_tensor_function_is_refused(function, tmp_path, monkeypatch):
    inp = K.Input((4,))
    model = K.Model(inp, K.layers.Dense(3, name="d")(inp) + 1.0)

    def edit(config):
        layer = config["config"]["layers"][-1]
        assert layer["class_name"] == "TFOpLambda"
        layer["config"]["function"] = function

    path = h5_with_config(tmp_path, edit, model)
    no_keras_load(monkeypatch)
    with pytest.raises(ConversionError, match=f"TFOpLambda calls tf.{function}, which is not a tensor operation"):
        tf2torch.convert(path)


def test_tf_op_lambda_of_a_tensor_operation_still_converts(tmp_path):
    inp = K.Input((4,))
    path = tmp_path / "op.h5"
    K.Model(inp, K.layers.Dense(3, name="d")(inp) * 2.0 + 1.0).save(path)
    tf2torch.convert(path)


@pytest.mark.parametrize("where", ["activation", "odd_fn"])
def test_keras2_bytecode_in_unexpected_keys_never_runs(where, tmp_path):
    marker = tmp_path / "lambda-ran"
    lam = K.Sequential([K.Input((4,)), K.layers.Lambda(touch(marker), name="evil")])
    lam.save(tmp_path / "lambda.h5")
    marker.unlink()
    with h5py.File(tmp_path / "lambda.h5") as f:
        function = json.loads(f.attrs["model_config"])["config"]["layers"][-1]["config"]["function"]

    def edit(config):
        inner = layer_config(config)
        if where == "activation":  # a Lambda config where a function name belongs
            inner["activation"] = {"class_name": "Lambda", "config": {"name": "hidden", "function": function,
                                                                      "function_type": "lambda", "arguments": {}}}
        else:
            inner["odd_fn"], inner["odd_fn_type"] = function, "lambda"

    path = h5_with_config(tmp_path, edit)
    with pytest.raises(ConversionError, match="layer carries Python code"):
        tf2torch.convert(path)
    assert not marker.exists()


def test_keras3_lambda_spliced_into_a_config_never_runs(tmp_path):
    marker = tmp_path / "lambda-ran"
    keras.Sequential([keras.Input((4,)), keras.layers.Lambda(touch_constant(marker), name="evil")]).save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)
    import zipfile

    with zipfile.ZipFile(tmp_path / "lambda.keras") as z:
        lambda_layer = json.loads(z.read("config.json"))["config"]["layers"][-1]
    assert lambda_layer["config"]["function"]["class_name"] == "__lambda__"
    path = keras_with_config(tmp_path, lambda c: c["config"]["layers"].append(lambda_layer))
    with pytest.raises(ConversionError, match="evil: layer carries Python code"):
        tf2torch.convert(path)
    assert not marker.exists()
    with pytest.raises(Exception):  # the marker approach works: unsafe runs the code (Lambda has no converter)
        tf2torch.convert(path, unsafe=True)
    assert marker.exists()


# ----------------------------------------------------------------------------------------------
# libhdf5 hangs or crashes on some damaged files (the fuzzer found a flipped byte that makes it
# spin forever reading model_config): files are read first in a child process, under a limit
# ----------------------------------------------------------------------------------------------
def spin(source):
    while True:
        pass


def crash(source):
    import os
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)


@pytest.mark.parametrize("reader, message", [(spin, "did not finish in 1s"), (crash, "libhdf5 crashed reading it")])
@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_hdf5_reader_that_hangs_or_crashes_is_an_input_error(reader, message, fmt, tmp_path, monkeypatch):
    from tf2torch.frontend import limits

    path = h5_with_config(tmp_path, lambda c: None) if fmt == "h5" else keras_with_config(tmp_path, lambda c: None)
    monkeypatch.setattr(limits, "_read_everything", reader)
    monkeypatch.setattr(limits, "H5_CHECK_SECONDS", 1.0)
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match=message) as info:
        tf2torch.convert(path)
    assert str(path) in str(info.value)


def test_hdf5_check_reads_every_dataset(tmp_path):
    from tf2torch.frontend import limits

    path = tmp_path / "model.h5"
    small_tf_keras_model().save(path)
    assert limits.h5_problem(path) is None
    data = bytearray(path.read_bytes())
    with h5py.File(path) as f:
        kernel = f["model_weights/dense/dense/kernel:0"] if "model_weights/dense/dense/kernel:0" in f else None
        offset = kernel.id.get_offset() if kernel is not None else None
    if offset is not None:
        (tmp_path / "cut.h5").write_bytes(bytes(data[:offset]))  # the data of the kernel is gone
        assert limits.h5_problem(tmp_path / "cut.h5") is not None


@pytest.mark.parametrize("index", [196675.17, -1, 10**9, True], ids=["float", "negative", "huge", "bool"])
def test_graph_link_to_an_unreachable_node_is_refused_before_loading(index, tmp_path, monkeypatch):
    """Fuzzer: a float node index in a Keras 2 inbound_nodes link made tf_keras loop forever."""
    inp = K.Input((6, 3))
    model = K.Model(inp, K.layers.Dense(2, name="head")(K.layers.Conv1D(4, 3, name="conv")(inp)))

    def edit(config):
        config["config"]["layers"][-1]["inbound_nodes"][0][0][1] = index

    path = h5_with_config(tmp_path, edit, model=model)
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match="layer 'head': inbound_nodes link .* not whole numbers"):
        tf2torch.convert(path)


def test_keras3_graph_link_with_a_float_index_is_refused(tmp_path, monkeypatch):
    inp = keras.Input((4,), name="x")
    model = keras.Model(inp, keras.layers.Dense(2, name="d")(inp))
    model.save(tmp_path / "f.keras")

    def edit(config):
        history = config["config"]["layers"][-1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
        history[1] = 0.5

    import zipfile

    with zipfile.ZipFile(tmp_path / "f.keras") as zin, zipfile.ZipFile(tmp_path / "g.keras", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match=r"layer 'd': inbound_nodes link \['x', 0.5, 0\]"):
        tf2torch.convert(tmp_path / "g.keras")


def test_weights_that_do_not_fit_the_config_are_an_input_error(tmp_path):
    """Fuzzer: an input shape edited from 3 to 19 features; Keras loads the (3, 16) kernel anyway."""
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(4, name="lstm")])
    model.save(tmp_path / "lstm.keras")
    import zipfile

    with zipfile.ZipFile(tmp_path / "lstm.keras") as zin, zipfile.ZipFile(tmp_path / "edited.keras", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"][0]["config"]["batch_shape"] = [None, 6, 19]
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    with pytest.raises(InputError, match="weights do not match its configuration: lstm.weight_ih_l0") as info:
        tf2torch.convert(tmp_path / "edited.keras")
    assert str(tmp_path / "edited.keras") in str(info.value)


def test_graph_that_uses_a_layer_it_never_builds_is_refused_before_loading(tmp_path, monkeypatch):
    """Fuzzer: a Keras 2 layer whose inbound_nodes were emptied while the next layer still reads it
    made tf_keras retry forever."""
    inp = K.Input((6, 3))
    model = K.Model(inp, K.layers.Dense(2, name="head")(K.layers.Conv1D(4, 3, name="conv")(inp)))
    path = h5_with_config(tmp_path, lambda c: c["config"]["layers"][1].__setitem__("inbound_nodes", []), model=model)
    no_keras_load(monkeypatch)
    with pytest.raises(InputError, match="its graph uses layer conv, which the file never builds"):
        tf2torch.convert(path)


def test_nested_models_and_shared_layers_pass_the_graph_check(tmp_path):
    """Node indices count differently for nested models and shared layers: no false alarm."""
    from tf2torch.frontend import limits

    inp = K.Input((5,))
    shared = K.layers.Dense(5, name="shared")
    inner = K.Model(inp, shared(shared(inp)), name="inner")
    a, b = K.Input((5,), name="a"), K.Input((5,), name="b")
    out = K.layers.Add()([inner(a), inner(b), shared(a)])
    K.Model([a, b], [out, inner(out)]).save(tmp_path / "nested.h5")
    with h5py.File(tmp_path / "nested.h5") as f:
        assert limits.problems(json.loads(f.attrs["model_config"])) == []


@pytest.mark.parametrize("entry", [{"class_name": "Dense", "config": "oops", "inbound_nodes": [[["in", 0, 0, {}]]]},
                                   {"class_name": "Dense", "config": None, "name": 3, "inbound_nodes": "x"},
                                   {"class_name": "InputLayer", "config": [], "inbound_nodes": []}],
                         ids=["config-is-a-string", "odd-types", "input-without-name"])
def test_graph_check_reads_any_json_without_crashing(entry):
    """Fuzzer: a layer entry whose config was a string crashed the graph check (AttributeError)."""
    from tf2torch.frontend import limits

    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "in", "config": {"name": "in"}, "inbound_nodes": []}, entry],
        "output_layers": [["in", 0, 0]]}}
    assert isinstance(limits.problems(config), list)

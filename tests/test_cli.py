"""The command line: exit codes, output files, one-line errors, standalone generated code.

Most runs call `tf2torch.cli.main([...])` in-process (TensorFlow is imported once); two run the
installed `tf2torch` script in a subprocess, as a user would.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tf_keras as K

from kerascheck import randomize
from tf2torch import cli
from tf2torch.registry import lookup

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".venv" / "bin" / "tf2torch"
REPORT_KEYS = {"class_name", "inputs", "outputs", "verification", "layers", "warnings"}
BOUNDARY_KEYS = {"name", "keras_shape", "torch_shape", "dtype", "permutation"}
VERIFICATION_KEYS = {"max_abs_error", "max_rel_error", "tolerance", "passed", "n_samples"}

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A legacy Keras 2 .h5 model whose output is a feature map, and a Keras 3 .keras model."""
    folder = tmp_path_factory.mktemp("models")
    k2 = K.Sequential([K.Input((9, 11, 3), name="image"), K.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
                       K.layers.MaxPooling2D(2, padding="same", name="pool"), K.layers.Conv2D(3, 3, name="head")], name="legacy_net")
    randomize(k2).save(folder / "legacy.h5")
    k3 = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(2)])
    randomize(k3).save(folder / "small.keras")
    yield {"h5": folder / "legacy.h5", "keras": folder / "small.keras", "k2_model": k2}
    K.backend.clear_session()  # leave tf_keras' layer-name counters as found: other files assert on names


def run(capfd, *argv):
    """main(argv) in-process: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capfd.readouterr()
    return code, out, err


def assert_one_error_line(err: str, *fragments):
    """Exactly one 'error:' line (progress lines start with 'tf2torch:'), no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, err
    assert all(line.startswith(("error:", "tf2torch:")) for line in lines), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in errors[0], err


# ----------------------------------------------------------------------------------------------
# Usage
# ----------------------------------------------------------------------------------------------
def test_help_exits_0_and_explains(capfd):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    out = capfd.readouterr().out
    assert info.value.code == 0
    for text in ("convert", "support", "exit codes", "tf2torch convert model.keras -o out/"):
        assert text in out


def test_convert_help_lists_the_options(capfd):
    with pytest.raises(SystemExit) as info:
        cli.main(["convert", "--help"])
    out = capfd.readouterr().out
    assert info.value.code == 0
    for option in ("--output", "--input-layout", "--class-name", "--force", "--unsafe", "--no-verify", "--tolerance"):
        assert option in out


def test_no_command_is_a_usage_error(capfd):
    code, out, _ = run(capfd)
    assert code == 2 and "usage:" in out


@pytest.mark.parametrize("argv", [
    pytest.param(["frobnicate"], id="unknown-command"),
    pytest.param(["convert", "model.h5"], id="missing-output"),
    pytest.param(["convert", "model.h5", "-o", "out", "--input-layout", "nhwc"], id="bad-choice"),
])
def test_bad_arguments_exit_2(argv, capfd, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and "usage:" in capfd.readouterr().err
    assert not (tmp_path / "out").exists()


def test_version(capfd):
    code, out, _ = run(capfd, "--version")
    assert code == 0 and out.startswith("tf2torch ")


def test_support_prints_the_table(capfd):
    code, out, _ = run(capfd, "support")
    assert code == 0
    assert out.startswith("| family | Keras class | notes |")
    assert "| `keras.layers.Dense` |" in out and "| `keras.layers.Conv2D` |" in out


# ----------------------------------------------------------------------------------------------
# convert: outputs
# ----------------------------------------------------------------------------------------------
def test_convert_h5_writes_three_files_and_a_full_report(files, tmp_path, capfd):
    out_dir = tmp_path / "out"
    code, out, err = run(capfd, "convert", files["h5"], "-o", out_dir)
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["model.py", "report.json", "weights.safetensors"]
    assert "model.py: class LegacyNet" in out and "verified" in out

    report = json.loads((out_dir / "report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["class_name"] == "LegacyNet"
    for entry in report["inputs"] + report["outputs"]:
        assert BOUNDARY_KEYS <= set(entry)
    (inp,), (outp,) = report["inputs"], report["outputs"]
    assert inp == {"name": "image", "keras_shape": [None, 9, 11, 3], "torch_shape": [None, 3, 9, 11],
                   "dtype": "float32", "permutation": [0, 3, 1, 2]}
    assert outp["keras_shape"] == [None, 3, 4, 3] and outp["permutation"] == [0, 3, 1, 2]
    assert VERIFICATION_KEYS <= set(report["verification"])
    assert report["verification"]["passed"] is True and report["verification"]["n_samples"] >= 1
    assert [layer["name"] for layer in report["layers"]] == ["conv", "pool", "head"]
    assert report["warnings"] == []


def test_generated_model_is_standalone(files, tmp_path, capfd):
    """model.py imports only torch (and math), loads its weights strictly, and matches Keras."""
    out_dir = tmp_path / "out"
    assert run(capfd, "convert", files["h5"], "-o", out_dir)[0] == 0
    tree = ast.parse((out_dir / "model.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"torch", "math"}, imported

    x = np.random.default_rng(3).standard_normal((2, 9, 11, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x.transpose(0, 3, 1, 2))
    script = """
import sys, numpy, torch
from safetensors.torch import load_file
from model import LegacyNet
net = LegacyNet()
net.load_state_dict(load_file("weights.safetensors"), strict=True)
net.eval()
with torch.inference_mode():
    y = net(torch.from_numpy(numpy.load(sys.argv[1])))
numpy.save(sys.argv[2], y.numpy())
banned = [m for m in ("tensorflow", "keras", "tf_keras", "tf2torch") if m in sys.modules]
assert not banned, banned
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                          cwd=out_dir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "y.npy").transpose(0, 2, 3, 1)
    expected = files["k2_model"](x, training=False).numpy()
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()


def test_input_layout_keras_keeps_channels_last(files, tmp_path, capfd):
    out_dir = tmp_path / "out"
    code, _, err = run(capfd, "convert", files["h5"], "-o", out_dir, "--input-layout", "keras")
    assert code == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["inputs"][0]["permutation"] == [0, 1, 2, 3] and report["inputs"][0]["torch_shape"] == [None, 9, 11, 3]
    assert report["outputs"][0]["permutation"] == [0, 1, 2, 3]
    assert report["verification"]["passed"] is True


def test_class_name(files, tmp_path, capfd):
    out_dir = tmp_path / "out"
    code, out, err = run(capfd, "convert", files["keras"], "-o", out_dir, "--class-name", "Foo")
    assert code == 0, err
    assert "class Foo(nn.Module):" in (out_dir / "model.py").read_text()
    assert json.loads((out_dir / "report.json").read_text())["class_name"] == "Foo"
    assert "class Foo" in out


def test_invalid_class_name_is_refused(files, tmp_path, capfd):
    code, _, err = run(capfd, "convert", files["keras"], "-o", tmp_path / "out", "--class-name", "not-valid")
    assert code == 1
    assert_one_error_line(err, "not-valid")
    assert not (tmp_path / "out").exists()


def test_non_empty_output_needs_force(files, tmp_path, capfd):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine")
    code, _, err = run(capfd, "convert", files["keras"], "-o", out_dir)
    assert code == 1
    assert_one_error_line(err, "--force")
    assert [p.name for p in out_dir.iterdir()] == ["notes.txt"] and (out_dir / "notes.txt").read_text() == "mine"

    code, _, err = run(capfd, "convert", files["keras"], "-o", out_dir, "--force")
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["model.py", "report.json", "weights.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left beside it


def test_output_holding_the_source_is_refused_even_with_force(files, tmp_path, capfd):
    src = tmp_path / "model.keras"
    src.write_bytes(files["keras"].read_bytes())
    code, _, err = run(capfd, "convert", src, "-o", tmp_path, "--force")
    assert code == 1
    assert_one_error_line(err, "holds the model being converted")
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_tolerance_zero_is_honoured(files, tmp_path, capfd):
    out_dir = tmp_path / "out"
    code, _, err = run(capfd, "convert", files["h5"], "-o", out_dir, "--tolerance", "0")
    if code == 0:  # bit-exact: the report says which tolerance was applied
        assert json.loads((out_dir / "report.json").read_text())["verification"]["tolerance"] == 0
    else:
        assert_one_error_line(err, "verification failed", "tolerance 0")
        assert not out_dir.exists()


@pytest.mark.parametrize("value", ["-1", "nan", "tight"])
def test_bad_tolerance_is_a_usage_error(value, files, tmp_path, capfd):
    with pytest.raises(SystemExit) as info:
        cli.main(["convert", str(files["keras"]), "-o", str(tmp_path / "out"), "--tolerance", value])
    assert info.value.code == 2 and "--tolerance" in capfd.readouterr().err


def test_output_that_is_a_file_is_refused(files, tmp_path, capfd):
    target = tmp_path / "out"
    target.write_text("a file")
    code, _, err = run(capfd, "convert", files["keras"], "-o", target)
    assert code == 1 and target.read_text() == "a file"
    assert_one_error_line(err)


# ----------------------------------------------------------------------------------------------
# convert: bad inputs -> exit 1, one line, nothing written
# ----------------------------------------------------------------------------------------------
def make_weights_only(folder):
    path = folder / "weights.h5"
    K.Sequential([K.Input((4,)), K.layers.Dense(3)]).save_weights(path)
    return path


def make_truncated_keras(folder, files):
    data = files["keras"].read_bytes()
    (folder / "cut.keras").write_bytes(data[: len(data) // 3])
    return folder / "cut.keras"


def make_saved_model(folder):
    (folder / "saved").mkdir()
    (folder / "saved" / "saved_model.pb").write_bytes(b"\x08\x01")
    return folder / "saved"


BAD_FILES = [
    pytest.param(lambda d, f: d / "nope.h5", "no such file", id="missing"),
    pytest.param(lambda d, f: (d / "m.onnx").write_bytes(b"x") and d / "m.onnx", "unknown model format", id="wrong-extension"),
    pytest.param(lambda d, f: (d / "sub").mkdir() or d / "sub", "is a folder", id="folder"),
    pytest.param(lambda d, f: make_truncated_keras(d, f), "not a valid .keras archive", id="truncated-keras"),
    pytest.param(lambda d, f: (d / "r.h5").write_bytes(np.random.default_rng(0).bytes(4096)) and d / "r.h5",
                 "not a readable HDF5 file", id="random-bytes-h5"),
    pytest.param(lambda d, f: make_weights_only(d), "weights only", id="weights-only-h5"),
    pytest.param(lambda d, f: make_saved_model(d), "not supported yet", id="saved-model-folder"),
]


def make_edited_keras(folder, files, edit, name="edited.keras"):
    import zipfile

    with zipfile.ZipFile(files["keras"]) as zin, zipfile.ZipFile(folder / name, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, edit(data) if item.filename == "config.json" else data)
    return folder / name


def write(path, data):
    path.write_bytes(data)
    return path


def huge_units(data):
    config = json.loads(data)
    config["config"]["layers"][-1]["config"]["units"] = 10**12
    return json.dumps(config)


BAD_FILES += [
    pytest.param(lambda d, f: write(d / "e.keras", b""), "not a valid .keras archive", id="empty-keras"),
    pytest.param(lambda d, f: write(d / "e.h5", b""), "not a readable HDF5 file", id="empty-h5"),
    pytest.param(lambda d, f: write(d / "k.h5", f["keras"].read_bytes()), "not a readable HDF5 file",
                 id="keras-named-h5"),
    pytest.param(lambda d, f: write(d / "h.keras", f["h5"].read_bytes()), "not a valid .keras archive",
                 id="h5-named-keras"),
    pytest.param(lambda d, f: make_edited_keras(d, f, lambda data: b"{not json"), "not a valid .keras archive", id="invalid-config-json"),
    pytest.param(lambda d, f: make_edited_keras(d, f, lambda data: data.replace(b'"Dense"', b'"NoSuchLayer"')),
                 "Keras cannot load it", id="unknown-class"),
    pytest.param(lambda d, f: make_edited_keras(d, f, huge_units), "units=1000000000000 is beyond tf2torch's limit",
                 id="absurd-units"),
]


@pytest.mark.parametrize("make, message", BAD_FILES)
def test_bad_input_exits_1_with_one_line(make, message, files, tmp_path, capfd):
    src = make(tmp_path, files)
    out_dir = tmp_path / "out"
    code, out, err = run(capfd, "convert", src, "-o", out_dir)
    assert code == 1 and out == ""
    assert_one_error_line(err, message, str(src))
    assert not out_dir.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@keras.saving.register_keras_serializable(package="tf2torch_tests")
class Twice(keras.layers.Layer):
    def call(self, x):
        return x * 2.0


@keras.saving.register_keras_serializable(package="tf2torch_tests")
class Shift(keras.layers.Layer):
    def call(self, x):
        return x + 1.0


# built-in layers that keep a (batch, 6) shape; the ones without converter are used below
BUILTIN_CANDIDATES = [
    lambda: keras.layers.UnitNormalization(name="unit_norm"),
    lambda: keras.layers.ActivityRegularization(name="activity_reg"),
    lambda: keras.layers.GaussianNoise(0.1, name="gaussian_noise"),
    lambda: keras.layers.GaussianDropout(0.1, name="gaussian_dropout"),
    lambda: keras.layers.AlphaDropout(0.1, name="alpha_dropout"),
    lambda: keras.layers.EinsumDense("ab,bc->ac", output_shape=6, name="einsum_dense"),
    lambda: keras.layers.Identity(name="identity"),
]


def test_every_unsupported_layer_is_named(tmp_path, capfd):
    builtins = [layer for layer in (make() for make in BUILTIN_CANDIDATES) if lookup(type(layer)) is None][:2]
    layers = [keras.layers.Dense(6), *builtins, Twice(name="twice"), Shift(name="shift"), keras.layers.Dense(2)]
    model = keras.Sequential([keras.Input((6,)), *layers])
    model.save(tmp_path / "custom.keras")
    code, _, err = run(capfd, "convert", tmp_path / "custom.keras", "-o", tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert f"{len(builtins) + 2} problem(s) prevent conversion" in err
    for layer in [*builtins, *layers[-3:-1]]:
        assert f"- {layer.name}: {type(layer).__name__} is not supported" in err, err
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback_of_a_bad_input(files, tmp_path, capfd):
    from tf2torch.errors import InputError

    (tmp_path / "e.keras").write_bytes(b"")
    with pytest.raises(InputError, match="not a valid .keras archive"):
        cli.main(["convert", str(tmp_path / "e.keras"), "-o", str(tmp_path / "out"), "--debug"])
    assert not (tmp_path / "out").exists()


def test_lambda_h5_is_refused_and_names_the_flag(tmp_path, capfd):
    marker = tmp_path / "ran"
    inp = K.Input((4,))
    K.Model(inp, K.layers.Lambda(lambda x, m=str(marker): (open(m, "w").close(), x)[1], name="code")(inp)).save(tmp_path / "l.h5")
    marker.unlink()
    code, _, err = run(capfd, "convert", tmp_path / "l.h5", "-o", tmp_path / "out")
    assert code == 1 and "code: layer carries Python code" in err and "--unsafe" in err
    assert not marker.exists() and not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------
# the installed script, in a subprocess
# ----------------------------------------------------------------------------------------------
def test_script_help():
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "convert" in done.stdout and done.stderr == ""


def test_script_converts_h5(files, tmp_path):
    done = subprocess.run([str(SCRIPT), "convert", str(files["h5"]), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "verified" in done.stdout
    assert all(line.startswith("tf2torch:") for line in done.stderr.splitlines()), done.stderr  # no TF noise
    assert (tmp_path / "out" / "model.py").exists()


def _dynamic_cnn(tmp_path):
    """A CNN with an unknown image size whose 15x15 kernel needs inputs of at least 15 pixels."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 15)(inputs)
    x = keras.layers.BatchNormalization()(x)
    model = randomize(keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)))
    path = tmp_path / "dynamic.keras"
    model.save(path)
    return path


def test_verify_size_gives_dynamic_inputs_sizes_the_model_accepts(capfd, tmp_path):
    path = _dynamic_cnn(tmp_path)
    code, _, err = run(capfd, "convert", path, "-o", tmp_path / "small")
    assert code == 1
    assert_one_error_line(err, "verification could not run", "--verify-size")
    assert not (tmp_path / "small").exists()
    code, out, err = run(capfd, "convert", path, "-o", tmp_path / "out", "--verify-size", "21", "16")
    assert code == 0, err
    assert "verified" in out
    with pytest.raises(SystemExit) as info:
        cli.main(["convert", str(path), "-o", str(tmp_path / "bad"), "--verify-size", "0"])
    assert info.value.code == 2 and "between 1 and 100000" in capfd.readouterr().err


def test_fold_batchnorm_option(capfd, tmp_path):
    code, out, err = run(capfd, "convert", _dynamic_cnn(tmp_path), "-o", tmp_path / "out", "--verify-size", "17", "20",
                         "--fold-batchnorm")
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["folded_batch_norm"] == ["batch_normalization"]
    assert "BatchNorm" not in (tmp_path / "out" / "model.py").read_text()

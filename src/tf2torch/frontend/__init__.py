"""Front-ends: whatever the user gives (path or live model) -> Graph + Keras reference function.

Loading never executes code embedded in a file (Lambda bytecode, serialised lambdas) unless the
caller passes unsafe=True: configs are scanned first and every such layer is named in the error.
Function references Keras' safe mode lets through but that are not tensor operations (a Keras
utility named as an activation, a Keras 2 TFOpLambda calling tf.io.write_file) are refused too.
Before Keras builds anything, the config is checked against limits.py (absurd sizes, nesting), and
HDF5 data is read once in a child process under a time limit (libhdf5 can hang on damaged files).
"""
from __future__ import annotations

import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ConversionError, InputError, Unsupported
from ..ir import Graph
from . import limits

CODE_CLASSES = {"Lambda", "__lambda__", "TFOpLambda"}  # TFOpLambda names a TF function (limits.tf_op_allowed)
_UNSAFE_HINT = "Lambda layers carry Python code; pass --unsafe (unsafe=True) only if you trust the file"
_UNSAFE_FUNCTION_HINT = "refused in safe mode; pass --unsafe (unsafe=True) only if you trust the file"


@dataclass
class Loaded:
    graph: Graph
    reference: Callable  # list[np.ndarray] -> list[np.ndarray]


def code_layers(config, found: list[str] | None = None, owner: str = "") -> list[str]:
    """Names of layers in a Keras config whose deserialisation would create Python code."""
    found = [] if found is None else found
    if isinstance(config, dict):
        cls = config.get("class_name")
        inner = config.get("config")
        name = inner.get("name", owner) if isinstance(inner, dict) else owner
        # Keras 2 stores Python bytecode under "<attr>_type": "lambda" (Lambda's function/output_shape/
        # mask, RNN cell wrappers' dropout_fn/residual_fn: tf_keras/src/layers/core/lambda_layer.py,
        # layers/rnn/cell_wrappers.py), loaded with marshal even outside any safe mode.
        bytecode = any(isinstance(k, str) and k.endswith("_type") and v == "lambda" for k, v in config.items())
        if cls in ("Lambda", "__lambda__") or bytecode or (cls == "function" and isinstance(inner, dict) and "code" in inner):
            found.append(str(name or owner or "?"))
        for v in config.values():
            code_layers(v, found, name if cls not in (None, "__lambda__") else owner)
    elif isinstance(config, list):
        for v in config:
            code_layers(v, found, owner)
    return sorted(set(found), key=found.index)


def _refuse_code(path: Path, config) -> None:
    problems = [Unsupported("unsafe", f"{path.name}:{n}", "layer carries Python code (Lambda)", _UNSAFE_HINT)
                for n in code_layers(config)]
    problems += [Unsupported("unsafe", f"{path.name}:{n}", why, _UNSAFE_FUNCTION_HINT)
                 for n, why in limits.unsafe_functions(config)]
    if problems:
        raise ConversionError(problems)


def _check_config(path: Path, config) -> None:
    """Refuse, before Keras builds anything, a config too deep to walk or asking for absurd sizes."""
    if limits.depth(config) > limits.MAX_DEPTH:
        raise InputError(f"{path}: config nested deeper than {limits.MAX_DEPTH} levels (a corrupt or hostile file?)")
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) or not isinstance(config.get("config"), dict):
        raise InputError(f"{path}: the model config is not a Keras model config (no class_name and config)")
    found = limits.problems(config)
    if found:
        raise InputError(f"{path}: {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))


def _scan(path: Path, config, unsafe: bool) -> None:
    _check_config(path, config)
    if not unsafe:
        _refuse_code(path, config)


def load(source, unsafe: bool = False) -> Loaded:
    if isinstance(source, (str, Path)):
        return _load_path(Path(source), unsafe)
    return _load_object(source)


def _load_object(model) -> Loaded:
    import keras

    if isinstance(model, keras.Model):
        from . import keras3

        return Loaded(keras3.read_model(model), keras3.reference(model))
    tf_keras = sys.modules.get("tf_keras")  # only a model built with tf_keras can be one of its models
    if tf_keras is not None and isinstance(model, tf_keras.Model):
        from . import keras2

        return Loaded(keras2.read_model(model), keras2.reference(model))
    raise InputError(f"expected a Keras model or a path, got {type(model).__name__}")


def _load_path(path: Path, unsafe: bool) -> Loaded:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise InputError(f"{path}: SavedModel input is not supported yet (convert the .keras or .h5 file)")
        raise InputError(f"{path}: is a folder, not a .keras or .h5 model file")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return _load_keras_file(path, unsafe)
    if suffix in (".h5", ".hdf5"):
        return _load_h5(path, unsafe)
    if suffix == ".pb":
        raise InputError(f"{path}: TF1 graphs are not supported yet")
    raise InputError(f"{path}: unknown model format {suffix or '(no extension)'!r}: expected .keras or .h5")


def _load_keras_file(path: Path, unsafe: bool) -> Loaded:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > limits.MAX_ARCHIVE_BYTES:
                raise InputError(f"{path}: the archive unpacks to more than {limits.MAX_ARCHIVE_BYTES} bytes "
                                 "(a corrupt or hostile file?)")
            info = archive.getinfo("config.json")
            if info.file_size > limits.MAX_CONFIG_BYTES:
                raise InputError(f"{path}: config.json is larger than {limits.MAX_CONFIG_BYTES} bytes")
            config = json.loads(archive.read(info))
            weights = "model.weights.h5" if "model.weights.h5" in archive.namelist() else None
    except InputError:
        raise
    except KeyError:
        raise InputError(f"{path}: not a valid .keras archive (no config.json in it)") from None
    except RecursionError:
        raise InputError(f"{path}: not a valid .keras archive (config.json is nested too deeply)") from None
    except Exception as exc:  # BadZipFile, CRC errors, bad JSON, bad UTF-8, unsupported compression...
        raise InputError(f"{path}: not a valid .keras archive ({_one_line(exc)})") from None
    _scan(path, config, unsafe)
    problem = weights and limits.h5_problem(path, weights)
    if problem:
        raise InputError(f"{path}: its {weights} is not readable ({problem})")
    return _keras_load(path, lambda: _keras3_load(path, unsafe))


def _keras3_load(path: Path, unsafe: bool):
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=not unsafe)


def _keras_load(path: Path, load_model) -> Loaded:
    """Load with Keras and read the model: any failure of Keras on a bad file is the file's problem."""
    try:
        model = load_model()
    except RecursionError:
        raise InputError(f"{path}: Keras cannot load it: the model is nested too deeply") from None
    except Exception as exc:  # Keras raises many types for bad files
        raise InputError(f"{path}: Keras cannot load it: {_one_line(exc)}") from None
    return _load_object(model)


def _load_h5(path: Path, unsafe: bool) -> Loaded:
    import h5py

    problem = limits.h5_problem(path)  # in a child process: libhdf5 can spin forever on a damaged file
    if problem:
        raise InputError(f"{path}: not a readable HDF5 file ({problem})")
    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
            version = f.attrs.get("keras_version")
    except Exception as exc:  # OSError, and h5py's other errors on damaged metadata
        raise InputError(f"{path}: not a readable HDF5 file ({_one_line(exc)})") from None
    if raw is None:
        raise InputError(f"{path}: holds weights only (no model_config): save the whole model with model.save()")
    try:
        raw = raw.decode() if isinstance(raw, bytes) else raw
        if not isinstance(raw, str):
            raise ValueError(f"a {type(raw).__name__}, not a string")
        if len(raw) > limits.MAX_CONFIG_BYTES:
            raise ValueError(f"larger than {limits.MAX_CONFIG_BYTES} bytes")
        config = json.loads(raw)
    except RecursionError:
        raise InputError(f"{path}: invalid model_config JSON (nested too deeply)") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise InputError(f"{path}: invalid model_config JSON ({_one_line(exc)})") from None
    version = version.decode(errors="replace") if isinstance(version, bytes) else str(version or "")
    _scan(path, config, unsafe)
    if version.startswith("3."):
        return _keras_load(path, lambda: _keras3_load(path, unsafe))

    def tf_keras_load():
        import tf_keras

        return tf_keras.models.load_model(path, compile=False)

    return _keras_load(path, tf_keras_load)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]

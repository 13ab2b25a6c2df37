"""Front-ends: whatever the user gives (path or live model) -> Graph + Keras reference function.

Loading never executes code embedded in a file (Lambda bytecode, serialised lambdas) unless the
caller passes unsafe=True: configs are scanned first and every such layer is named in the error.
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

CODE_CLASSES = {"Lambda", "__lambda__", "TFOpLambda"}  # TFOpLambda names a TF function, not code
_UNSAFE_HINT = "Lambda layers carry Python code; pass --unsafe (unsafe=True) only if you trust the file"


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
    names = code_layers(config)
    if names:
        raise ConversionError([Unsupported("unsafe", f"{path.name}:{n}", "layer carries Python code (Lambda)", _UNSAFE_HINT) for n in names])


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
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{path}: not a valid .keras archive ({_one_line(exc)})") from None
    if not unsafe:
        _refuse_code(path, config)
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=not unsafe)
    except Exception as exc:  # Keras raises many types for bad files
        raise InputError(f"{path}: Keras cannot load it: {_one_line(exc)}") from None
    return _load_object(model)


def _load_h5(path: Path, unsafe: bool) -> Loaded:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
            version = f.attrs.get("keras_version")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({_one_line(exc)})") from None
    if raw is None:
        raise InputError(f"{path}: holds weights only (no model_config): save the whole model with model.save()")
    raw = raw.decode() if isinstance(raw, bytes) else raw
    version = version.decode() if isinstance(version, bytes) else str(version or "")
    try:
        config = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"{path}: invalid model_config JSON ({_one_line(exc)})") from None
    if not unsafe:
        _refuse_code(path, config)
    try:
        if version.startswith("3."):
            import keras

            model = keras.saving.load_model(path, compile=False, safe_mode=not unsafe)
        else:
            import tf_keras

            model = tf_keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise InputError(f"{path}: Keras cannot load it: {_one_line(exc)}") from None
    return _load_object(model)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]

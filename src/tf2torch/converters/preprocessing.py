"""Preprocessing layers inside the model: Rescaling and Normalization; lookup, hashing and text
layers refused with a hint to keep them out of the converted model.

Semantics from keras/src/layers/preprocessing/rescaling.py and normalization.py (Keras 3.15.1);
tf_keras/src/layers/preprocessing/ (Keras 2) computes the same formulas. Constants become
buffers already laid out like the tensor they meet (e.g. (C, 1, 1) on a channels-first map).
"""
from __future__ import annotations

import keras
import numpy as np

from .. import fragment as fr
from ..errors import UnsupportedError
from ..layout import Layout
from ..registry import register


def config_array(value) -> np.ndarray:
    """A config value that may be a number, a list or a serialised numpy array."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        cfg = value["config"]
        return np.asarray(cfg["value"], dtype=cfg.get("dtype"))
    return np.asarray(value)


def _trim(shape: tuple) -> tuple:
    """Drop leading 1s: they only broadcast (the batch dim first of all)."""
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _input_for(ctx, *constants: np.ndarray) -> tuple[fr.Expr, Layout]:
    """Input 0 in its layout; a flattened CHW feature order stays when every constant is scalar or per feature."""
    layout = ctx.in_layouts[0]
    if layout.flat is not None and all(np.all(c == c.flat[0]) or _trim(c.shape) == (ctx.in_shape(0)[-1],) for c in constants):
        return ctx.input(0), layout
    return ctx.input_unflattened(0)


def _laid_out(ctx, value: np.ndarray, layout: Layout) -> np.ndarray:
    """`value` (broadcasting against the Keras tensor) laid out for the torch tensor in `layout`."""
    if value.size == 1 or np.all(value == value.flat[0]):  # one number (Keras may have broadcast it)
        return value.reshape(-1)[0].reshape(())
    if layout.flat is not None:  # per feature, in the flattened CHW order
        return np.take(value.reshape(-1), layout.flat.index)
    if value.ndim > layout.rank:
        raise ctx.unsupported(f"a constant of shape {value.shape} does not broadcast against the input")
    value = value.reshape((1,) * (layout.rank - value.ndim) + value.shape)  # numpy aligns on the right
    value = np.transpose(value, layout.perm)
    return value.reshape(_trim(value.shape))


def _term(value: np.ndarray, key: str, buffers: dict):
    """A Python float for a scalar, otherwise a buffer `self.<layer>_<key>`."""
    if value.ndim == 0:
        return float(str(np.float32(value)))  # the shortest decimal of Keras' float32 value (0.003921569)
    buffers[key] = fr.Buffer(fr.constant(value.astype(np.float32)), tuple(value.shape))
    return fr.SelfAttr(key)


def _as_float(ctx, x: fr.Expr) -> fr.Expr:
    """Keras preprocessing casts its input to the float32 compute dtype first."""
    return x if ctx.inputs[0].dtype == "float32" else x.method("float")


@register(keras.layers.Rescaling, note="x * scale + offset; per-channel scale/offset as buffers")
def convert_rescaling(ctx) -> fr.Fragment:
    # keras/src/layers/preprocessing/rescaling.py: cast(inputs, float) * scale + offset
    scale = config_array(ctx.get("scale")).astype(np.float32)
    offset = config_array(ctx.get("offset", 0.0)).astype(np.float32)
    if max(scale.size, offset.size) > 1 and keras.config.image_data_format() == "channels_first":
        raise ctx.unsupported("per-channel Rescaling under image_data_format='channels_first' is not supported",
                              "convert with keras.config.set_image_data_format('channels_last')")
    x, layout = _input_for(ctx, scale, offset)
    buffers: dict = {}
    scale_t = _term(_laid_out(ctx, scale, layout), "scale", buffers)
    offset_t = _term(_laid_out(ctx, offset, layout), "offset", buffers)
    y = _as_float(ctx, x)
    if not (isinstance(scale_t, float) and scale_t == 1.0):
        y = y * scale_t
    if isinstance(offset_t, float) and offset_t < 0.0:
        y = y - (-offset_t)  # x * s - 1.0 rather than x * s + -1.0: the same float32 result
    elif not (isinstance(offset_t, float) and offset_t == 0.0):
        y = y + offset_t
    return fr.Fragment([y], [layout], buffers=buffers)


@register(keras.layers.Normalization, note="(x - mean) / max(sqrt(variance), epsilon), or its inverse; given or adapted statistics")
def convert_normalization(ctx) -> fr.Fragment:
    # keras/src/layers/preprocessing/normalization.py: build() broadcasts mean/variance to
    # `_broadcast_shape` (the kept axes' sizes, 1 elsewhere); call() computes
    # (x - mean) / maximum(sqrt(variance), epsilon), or mean + x * maximum(sqrt(variance), epsilon) with invert.
    rank = ctx.in_rank(0)
    axis = ctx.get("axis", -1)
    axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    keep = tuple(sorted(int(a) % rank for a in axis))
    if 0 in keep:
        raise ctx.unsupported("Normalization keeping the batch axis is not supported")
    broadcast_shape = tuple(int(ctx.in_shape(0)[d]) if d in keep else 1 for d in range(rank))
    mean, variance = ctx.get("mean"), ctx.get("variance")
    if mean is not None and variance is not None:
        mean = _broadcast_given(config_array(mean), keep, broadcast_shape)
        variance = _broadcast_given(config_array(variance), keep, broadcast_shape)
    else:  # adapted: weights of shape (sizes of the kept axes)
        mean = np.asarray(ctx.weight("mean"), np.float32).reshape(broadcast_shape)
        variance = np.asarray(ctx.weight("variance"), np.float32).reshape(broadcast_shape)
    mean, variance = mean.astype(np.float32), variance.astype(np.float32)
    x, layout = _input_for(ctx, mean[0], variance[0])
    buffers: dict = {}
    mean_t = _term(_laid_out(ctx, mean[0], layout), "mean", buffers)
    variance_t = _laid_out(ctx, variance[0], layout)
    eps = float(keras.config.epsilon())  # keras.backend.epsilon(), 1e-7 by default
    if variance_t.ndim == 0:  # a number: fold max(sqrt(variance), epsilon) now, in float32 like Keras
        std_t = float(np.maximum(np.sqrt(variance_t), np.float32(eps)))
    else:
        std_t = _term(variance_t, "variance", buffers).method("sqrt").method("clamp", min=eps)
    x = _as_float(ctx, x)
    y = mean_t + x * std_t if ctx.get("invert", False) else (x - mean_t) / std_t
    return fr.Fragment([y], [layout], buffers=buffers)


def _broadcast_given(value: np.ndarray, keep: tuple, broadcast_shape: tuple) -> np.ndarray:
    """Normalization.build() with `mean`/`variance` given: align their dims to the kept axes from the right."""
    if value.ndim == 0:
        return np.broadcast_to(value, broadcast_shape)
    expanded = [1] * len(broadcast_shape)
    for i in range(1, value.ndim + 1):
        expanded[keep[-i]] = value.shape[-i]
    return np.broadcast_to(value.reshape(expanded), broadcast_shape)


# ----------------------------------------------------------------------------------------------
# Refused: lookup tables, hashing, strings. torch has no string tensors, and these layers'
# vocabularies (keras/src/layers/preprocessing/index_lookup.py) and hashes (tf.strings
# FarmHash, keras/src/layers/preprocessing/hashing.py, hashed_crossing.py) belong to the input
# pipeline: the model to convert is the one after them.
# ----------------------------------------------------------------------------------------------
_KEEP_OUTSIDE = ("keep it outside the converted model: run it in the input pipeline (tf.data or Python) and convert "
                 "the model from the layer after it, e.g. keras.Model(<its output as a keras.Input>, outputs)")
_REFUSED = {
    keras.layers.TextVectorization: "works on strings (standardise, split, vocabulary lookup): torch has no string tensors",
    keras.layers.StringLookup: "maps strings to ids through a vocabulary: torch has no string tensors",
    keras.layers.IntegerLookup: "maps ids through a vocabulary table (with OOV and mask tokens), a preprocessing step",
    keras.layers.Hashing: "hashes values with TensorFlow's FarmHash/SipHash (after converting ids to strings)",
    keras.layers.HashedCrossing: "hashes crossed features with TensorFlow's FarmHash (after converting them to strings)",
    keras.layers.CategoryEncoding: "encodes ids into one-hot/multi-hot/count vectors, a preprocessing step not converted yet",
}


@register(*_REFUSED, note="refused: keep it in the input pipeline and convert the model after it")
def refuse_preprocessing(ctx) -> fr.Fragment:
    raise UnsupportedError(_REFUSED[ctx.layer.cls], _KEEP_OUTSIDE, kind="layer")

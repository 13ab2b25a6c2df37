"""Activation functions and activation layers.

`activation(ctx, x, name, dim)` is the one mapping of keras.activations names to torch used by
every layer with an `activation=` argument. Semantics from keras/src/activations/activations.py
(Keras 3) and tf_keras/src/activations.py (Keras 2, where hard_sigmoid differs).
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import F, torch
from ..layout import Layout
from ..registry import register


def activation_name(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # serialised function: {"class_name": "function", "config": "relu", ...}
        cfg = value.get("config")
        return cfg if isinstance(cfg, str) else value.get("registered_name")
    return getattr(value, "__name__", None)


def activation(ctx, x: fr.Expr, value, dim: int = -1) -> fr.Expr:
    """Apply the Keras activation `value` (name or serialised function) to `x`.

    `dim` is the torch dim of the Keras last axis (softmax-like activations).
    """
    name = activation_name(value)
    if name in (None, "linear"):
        return x
    simple = {
        "relu": F.attr("relu"), "relu6": F.attr("relu6"), "elu": F.attr("elu"), "selu": F.attr("selu"),
        "softplus": F.attr("softplus"), "softsign": F.attr("softsign"), "silu": F.attr("silu"), "swish": F.attr("silu"),
        "gelu": F.attr("gelu"), "tanh": torch.attr("tanh"), "sigmoid": torch.attr("sigmoid"),
        "exponential": torch.attr("exp"), "hard_silu": F.attr("hardswish"), "hard_swish": F.attr("hardswish"),
        "mish": F.attr("mish"), "log_sigmoid": F.attr("logsigmoid"), "hard_tanh": F.attr("hardtanh"),
        "tanh_shrink": F.attr("tanhshrink"),
    }
    if name in simple:
        return simple[name](x)
    if name == "hard_sigmoid":
        if ctx.origin == "keras2":  # Keras 2: clip(0.2 x + 0.5, 0, 1)
            return torch.attr("clamp")(x * 0.2 + 0.5, 0.0, 1.0)
        return F.attr("hardsigmoid")(x)  # Keras 3: relu6(x + 3) / 6
    if name == "leaky_relu":
        return F.attr("leaky_relu")(x, 0.2)  # keras.activations.leaky_relu default slope
    if name == "softmax":
        return F.attr("softmax")(x, dim=dim)
    if name == "log_softmax":
        return F.attr("log_softmax")(x, dim=dim)
    if name == "celu":
        return F.attr("celu")(x)
    if name == "glu":
        return F.attr("glu")(x, dim=dim)
    raise ctx.unsupported(f"activation {name!r} is not supported", "use a standard keras.activations function")


def last_axis_dim(layout: Layout) -> int:
    """The torch dim holding the Keras last axis, written as -1 when it is last."""
    d = layout.torch_axis(-1)
    return -1 if d == layout.rank - 1 else d


@register(keras.layers.Activation, note="every keras.activations function")
def convert_activation(ctx) -> fr.Fragment:
    x, layout = ctx.input_unflattened(0)
    name = activation_name(ctx.get("activation"))
    return fr.Fragment([activation(ctx, x, name, last_axis_dim(layout))], [layout], description=f"activation {name}")

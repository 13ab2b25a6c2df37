"""Activation functions and activation layers.

`activation(ctx, x, value, dim)` is the one mapping of keras.activations to torch, used by every
layer with an `activation=` argument. Semantics from keras/src/activations/activations.py and
keras/src/backend/tensorflow/nn.py (Keras 3.15.1), tf_keras/src/activations.py (Keras 2, where
hard_sigmoid differs). Every function of keras.activations.ALL_OBJECTS is mapped except
`threshold`, which Keras itself cannot call as `activation=` (it has two required arguments).
"""
from __future__ import annotations

import keras
import numpy as np

from .. import fragment as fr
from ..fragment import F, Reshape, Take, Transpose, nn, torch
from ..layout import Layout
from ..registry import register

# One-argument activations: keras name -> torch function applied as f(x).
_SIMPLE = {
    "relu": F.attr("relu"), "relu6": F.attr("relu6"),
    "elu": F.attr("elu"), "selu": F.attr("selu"), "celu": F.attr("celu"),  # same alpha/scale constants
    "softplus": F.attr("softplus"), "softsign": F.attr("softsign"),
    "silu": F.attr("silu"), "swish": F.attr("silu"),
    "gelu": F.attr("gelu"),  # keras.activations.gelu is exact (erf), as is F.gelu by default
    "mish": F.attr("mish"), "tanh": torch.attr("tanh"), "sigmoid": torch.attr("sigmoid"),
    "exponential": torch.attr("exp"),
    "hard_silu": F.attr("hardswish"), "hard_swish": F.attr("hardswish"),  # x * relu6(x + 3) / 6
    "hard_tanh": F.attr("hardtanh"), "log_sigmoid": F.attr("logsigmoid"), "tanh_shrink": F.attr("tanhshrink"),
    "sparse_plus": fr.Helper("sparse_plus"), "squareplus": fr.Helper("squareplus"),
}
# Activations that reduce or split along the last Keras axis: they take the torch `dim`.
_ALONG_AXIS = {"softmax": F.attr("softmax"), "log_softmax": F.attr("log_softmax"),
               "sparsemax": fr.Helper("sparsemax"), "glu": F.attr("glu")}
# Of those, the ones whose result depends on the order of the features (glu splits in halves):
# every other activation runs as well on the features of a flattened channels-first map in CHW order.
_ORDER_DEPENDENT = {"glu"}
KERAS_SLOPE = 0.2  # keras.activations.leaky_relu (the LeakyReLU layer's default is 0.3)


def activation_name(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # serialised function: {"class_name": "function", "config": "relu", ...}
        cfg = value.get("config")
        if isinstance(cfg, dict):  # a layer object used as activation: {"class_name": "LeakyReLU", ...}
            return value.get("class_name")
        return cfg if isinstance(cfg, str) else value.get("registered_name")
    return getattr(value, "__name__", None)


def activation(ctx, x: fr.Expr, value, dim: int = -1) -> fr.Expr:
    """Apply the Keras activation `value` (name, serialised function or layer) to `x`.

    `dim` is the torch dim of the Keras last axis (softmax-like activations).
    """
    if isinstance(value, dict) and isinstance(value.get("config"), dict):
        return _layer_as_activation(ctx, x, value.get("class_name"), value["config"], dim)
    name = activation_name(value)
    if name in (None, "linear"):
        return x
    if name in _SIMPLE:
        return _SIMPLE[name](x)
    if name in _ALONG_AXIS:
        return _ALONG_AXIS[name](x, dim=dim)
    if name == "hard_sigmoid":
        if ctx.origin == "keras2":  # tf_keras backend.hard_sigmoid: clip(0.2 x + 0.5, 0, 1)
            return torch.attr("clamp")(x * 0.2 + 0.5, 0.0, 1.0)
        return F.attr("hardsigmoid")(x)  # Keras 3: relu6(x + 3) / 6
    if name == "leaky_relu":
        return F.attr("leaky_relu")(x, KERAS_SLOPE)
    if name == "soft_shrink":
        return F.attr("softshrink")(x, 0.5)  # keras default threshold
    if name == "hard_shrink":
        return F.attr("hardshrink")(x, 0.5)
    if name == "sparse_sigmoid":  # 0 for x <= -1, (x + 1) / 2 between, 1 for x >= 1
        return torch.attr("clamp")(0.5 * (x + 1.0), 0.0, 1.0)
    if name == "threshold":
        raise ctx.unsupported("activation 'threshold' needs `threshold` and `default_value` arguments",
                              "use a ReLU(threshold=...) layer or an explicit layer")
    raise ctx.unsupported(f"activation {name!r} is not supported", "use a keras.activations function")


def _layer_as_activation(ctx, x: fr.Expr, class_name, config: dict, dim: int) -> fr.Expr:
    """A stateless Keras activation layer passed as `activation=` (e.g. Dense(activation=LeakyReLU()))."""
    if class_name == "LeakyReLU":
        return F.attr("leaky_relu")(x, leaky_slope(config))
    if class_name == "ELU":
        alpha = readable(config.get("alpha", 1.0))
        return F.attr("elu")(x) if alpha == 1.0 else F.attr("elu")(x, alpha=alpha)
    if class_name == "Softmax" and config.get("axis", -1) in (-1, [-1], (-1,)):
        return F.attr("softmax")(x, dim=dim)
    if class_name == "ReLU" and float(config.get("threshold") or 0.0) == 0.0:
        slope, max_value = readable(config.get("negative_slope") or 0.0), config.get("max_value")
        if slope == 0.0 and max_value is None:
            return F.attr("relu")(x)
        if slope == 0.0:
            return F.attr("relu6")(x) if float(max_value) == 6.0 else torch.attr("clamp")(x, 0.0, readable(max_value))
        if max_value is None:
            return F.attr("leaky_relu")(x, slope)
    raise ctx.unsupported(f"a {class_name} layer object with this configuration as `activation=` is not supported",
                          "apply it as a separate layer")


def readable(value) -> float:
    """A float config value as a person would write it.

    Keras 2 configs hold float32 values (LeakyReLU alpha 0.30000001192092896): when the value is a
    float32, its shortest float32 decimal ("0.3") names the same float32 number, which is what torch
    computes with on float32 tensors.
    """
    value = float(value)
    if np.isfinite(value) and float(np.float32(value)) == value:
        return float(str(np.float32(value)))
    return value


def torch_dim(layout: Layout, keras_axis: int) -> int:
    """The torch dim holding Keras axis `keras_axis`, written as -1 when it is the last one."""
    d = layout.torch_axis(keras_axis)
    return -1 if d == layout.rank - 1 else d


def last_axis_dim(layout: Layout) -> int:
    """The torch dim holding the Keras last axis, written as -1 when it is last."""
    return torch_dim(layout, -1)


def leaky_slope(config: dict) -> float:
    """LeakyReLU slope: Keras 3 `negative_slope`, Keras 2 `alpha`; both default to 0.3."""
    value = config.get("negative_slope", config.get("alpha"))
    return 0.3 if value is None else readable(value)


def _input_for_features(ctx, order_dependent: bool) -> tuple[fr.Expr, Layout]:
    """Input 0 as is (a flattened CHW feature order stays), unless the result depends on that order."""
    if ctx.in_layouts[0].flat is not None and not order_dependent:
        return ctx.input(0), ctx.in_layouts[0]
    return ctx.input_unflattened(0)


@register(keras.layers.Activation, note="every keras.activations function but `threshold`; Keras 2 hard_sigmoid")
def convert_activation(ctx) -> fr.Fragment:
    value = ctx.get("activation")
    name = activation_name(value)
    x, layout = _input_for_features(ctx, name in _ORDER_DEPENDENT)
    dim = -1 if layout.flat is not None else last_axis_dim(layout)
    return fr.Fragment([activation(ctx, x, value, dim)], [layout])


# ----------------------------------------------------------------------------------------------
# Activation layers (keras/src/layers/activations/)
# ----------------------------------------------------------------------------------------------
def _module(ctx, ctor: fr.Call, params=None) -> fr.Fragment:
    x, layout = _input_for_features(ctx, False)
    return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor, params or {})})


@register(keras.layers.ReLU, note="nn.ReLU / nn.ReLU6 / nn.LeakyReLU / nn.Threshold, or the explicit formula")
def convert_relu(ctx) -> fr.Fragment:
    # keras/src/activations/activations.py ReLU.static_call: for x > threshold min(x, max_value),
    # otherwise negative_slope * (x - threshold).
    slope = readable(ctx.get("negative_slope") or 0.0)
    threshold = readable(ctx.get("threshold") or 0.0)
    max_value = ctx.get("max_value")
    max_value = None if max_value is None else readable(max_value)
    if slope == 0.0 and threshold == 0.0 and max_value is None:
        return _module(ctx, nn.attr("ReLU")())
    if slope == 0.0 and threshold == 0.0 and max_value == 6.0:
        return _module(ctx, nn.attr("ReLU6")())
    if threshold == 0.0 and max_value is None:
        return _module(ctx, nn.attr("LeakyReLU")(slope))
    if slope == 0.0 and max_value is None:
        return _module(ctx, nn.attr("Threshold")(threshold, 0.0))  # x if x > threshold else 0
    x, layout = _input_for_features(ctx, False)
    if slope == 0.0:  # where(x > threshold, x, 0) clipped to [0, max_value]
        y = x if threshold == 0.0 else F.attr("threshold")(x, threshold, 0.0)
        y = torch.attr("clamp")(y, 0.0, max_value)
    else:
        kept = x if max_value is None else x.method("clamp", max=max_value)
        below = slope * x if threshold == 0.0 else slope * (x - threshold)
        y = torch.attr("where")(fr.BinOp(">", x, fr.lift(threshold)), kept, below)
    return fr.Fragment([y], [layout])


@register(keras.layers.LeakyReLU, note="nn.LeakyReLU with the Keras slope (default 0.3) written out")
def convert_leaky_relu(ctx) -> fr.Fragment:
    return _module(ctx, nn.attr("LeakyReLU")(leaky_slope(ctx.config)))


@register(keras.layers.ELU, note="nn.ELU(alpha)")
def convert_elu(ctx) -> fr.Fragment:
    alpha = readable(ctx.get("alpha", 1.0))
    return _module(ctx, nn.attr("ELU")() if alpha == 1.0 else nn.attr("ELU")(alpha=alpha))


@register(keras.layers.Softmax, note="axis int or tuple, remapped to the torch layout; masks as Keras "
                                    "(-1e9 at masked positions, then zeroed; Keras 2: -1e9 added)")
def convert_softmax(ctx) -> fr.Fragment:
    axis = ctx.get("axis", -1)
    axes = sorted({int(a) % ctx.in_rank(0) for a in (axis if isinstance(axis, (list, tuple)) else [axis])})
    if 0 in axes:
        raise ctx.unsupported("softmax over the batch axis is not supported")
    mask = ctx.mask()
    if mask is not None:
        return _masked_softmax(ctx, mask, axes)
    over_features = axes == [ctx.in_rank(0) - 1]
    x, layout = _input_for_features(ctx, not over_features)
    if layout.flat is not None:  # the one feature axis of a flattened map, in any order
        return _module(ctx, nn.attr("Softmax")(dim=-1))
    dims = [torch_dim(layout, a) for a in axes]
    if len(dims) == 1:
        return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(nn.attr("Softmax")(dim=dims[0]))})
    return fr.Fragment([_softmax_over(x, layout, axes)], [layout])


def _softmax_over(x: fr.Expr, layout: Layout, axes: list[int]) -> fr.Expr:
    """Softmax over Keras `axes` of x (in `layout`): F.softmax for one axis; for several,
    keras/src/layers/activations/softmax.py: exp(x - logsumexp(x, axes, keepdims=True))."""
    if len(axes) == 1:
        return F.attr("softmax")(x, dim=torch_dim(layout, axes[0]))
    dims = tuple(sorted(layout.torch_axis(a) for a in axes))
    return torch.attr("exp")(x - torch.attr("logsumexp")(x, dim=dims, keepdim=True))


def _masked_softmax(ctx, mask: fr.Expr, axes: list[int]) -> fr.Fragment:
    """Softmax(x, mask): the mask broadcasts against x from the right (numpy rules), in Keras order.

    Keras 3 (keras/src/layers/activations/softmax.py): a non-bool mask means mask > 0.5; masked
    positions get -1e9 before the softmax and 0 after it (a fully masked row gives zeros).
    Keras 2 (tf_keras/src/layers/activation/softmax.py): x + (1 - mask) * -1e9, nothing zeroed
    (robust_masking=True: where(mask > 0.5, x, -1e9))."""
    x = ctx.input_keras(0)
    layout = Layout.keras(ctx.in_rank(0))
    mask_info = ctx.graph.tensors[mask.id] if isinstance(mask, fr.GraphTensor) else None
    is_bool = mask_info is not None and mask_info.dtype == "bool"
    steps: list = []

    def scores(expr: fr.Expr) -> fr.Expr:  # a temporary when the softmax reads it twice
        if len(axes) == 1:
            return expr
        steps.append((fr.Local("scores"), expr))
        return steps[-1][0]

    if ctx.origin == "keras2" and not ctx.get("robust_masking", False):
        y = _softmax_over(scores(x + (1.0 - mask.method("float")) * -1e9), layout, axes)
        return fr.Fragment([y], [layout], steps=steps, description="softmax with -1e9 added at masked positions (Keras 2)")
    keep = fr.Local("keep")
    steps.append((keep, mask if is_bool else fr.BinOp(">", mask, fr.Const(0.5))))
    y = _softmax_over(scores(torch.attr("where")(keep, x, -1e9)), layout, axes)
    if ctx.origin == "keras2":  # robust_masking: no zeroing after the softmax
        return fr.Fragment([y], [layout], steps=steps)
    return fr.Fragment([torch.attr("where")(keep, y, 0.0)], [layout], steps=steps,
                       description="masked softmax: -1e9 at masked positions, zeroed after")


@register(keras.layers.PReLU, note="nn.PReLU when the slopes are shared but along the torch channel dim; per-element slopes otherwise")
def convert_prelu(ctx) -> fr.Fragment:
    # keras/src/layers/activations/prelu.py: alpha has the input's shape (batch excluded) with the
    # shared axes set to 1; f(x) = relu(x) - alpha * relu(-x).
    alpha_shape = tuple(int(d) for d in ctx.weight("alpha").shape)
    layout = ctx.in_layouts[0]
    if layout.flat is not None:  # rank 2: one slope per feature, reordered like the features (or one in all)
        n = alpha_shape[0]
        ctor = nn.attr("PReLU")() if n == 1 else nn.attr("PReLU")(n)
        return _module(ctx, ctor, {"weight": fr.from_keras("alpha", Take(layout.flat.index, 0) if n > 1 else Reshape((1,)))})
    x = ctx.input(0)
    rank = layout.rank
    torch_shape = layout.torch_shape((1,) + alpha_shape)[1:]  # slopes in the torch layout, batch excluded
    perm = tuple(p - 1 for p in layout.perm[1:])
    n = int(np.prod(alpha_shape))
    if all(d == 1 for d in torch_shape[1:]):  # one slope per torch channel (dim 1), or one in all
        ctor = nn.attr("PReLU")() if n == 1 else nn.attr("PReLU")(n)
        params = {"weight": fr.from_keras("alpha", Reshape((n,)))}
    else:
        ctor = fr.Helper("BroadcastPReLU")(torch_shape)
        transforms = (Transpose(perm),) if perm != tuple(range(rank - 1)) else ()
        params = {"weight": fr.from_keras("alpha", *transforms)}
    return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor, params)})

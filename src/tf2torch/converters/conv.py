"""Convolutions: Conv1D/2D/3D (valid, same incl. TF's asymmetric stride-2 padding, causal).

Kernels are stored (k..., in/groups, out) by Keras and (out, in/groups, k...) by torch
(keras/src/layers/convolutional/base_conv.py). 'same' padding: see _padding.py.
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import F, Transpose, nn
from ..layout import Layout
from ..registry import SPATIAL, register
from ._padding import as_tuple, padded_input, simplify
from .activations import activation

_TORCH_CONV = {1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}


def check_channels_last(ctx) -> None:
    if ctx.get("data_format", "channels_last") != "channels_last":
        raise ctx.unsupported("data_format='channels_first' is not supported yet", "rebuild the model channels_last")


def conv_kwargs(kernel, stride, padding, dilation, groups=1, bias=True) -> dict:
    kw = {"kernel_size": simplify(kernel)}
    if any(s != 1 for s in stride):
        kw["stride"] = simplify(stride)
    if padding not in (0, (0,)):
        kw["padding"] = padding
    if any(d != 1 for d in dilation):
        kw["dilation"] = simplify(dilation)
    if groups != 1:
        kw["groups"] = groups
    if not bias:
        kw["bias"] = False
    return kw


def spatial_input(ctx, n: int, kernel, stride, dilation, pad_value: float = 0.0):
    """Channels-first input with Keras' padding applied: (expr, torch padding argument)."""
    x = ctx.input_channels_first(0)
    padding = ctx.get("padding", "valid")
    if padding == "valid":
        return x, 0
    if padding == "causal":  # left-pad by dilation * (k - 1) (keras/src/layers/convolutional/conv1d.py)
        return F.attr("pad")(x, (dilation[0] * (kernel[0] - 1), 0)), 0
    if padding == "same":
        return padded_input(x, ctx.in_shape(0)[1:-1], kernel, stride, dilation, pad_value)
    raise ctx.unsupported(f"padding={padding!r} is not supported")


@register(keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, layout=SPATIAL,
          note="valid, same (TF asymmetric padding at stride > 1), causal, dilation, groups")
def convert_conv(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    kernel = as_tuple(ctx.get("kernel_size"), n)
    stride = as_tuple(ctx.get("strides", 1), n)
    dilation = as_tuple(ctx.get("dilation_rate", 1), n)
    groups = int(ctx.get("groups", 1) or 1)
    weights = ctx.weight("kernel")
    in_ch, out_ch = weights.shape[-2] * groups, weights.shape[-1]
    use_bias = bool(ctx.get("use_bias", True))
    x, padding = spatial_input(ctx, n, kernel, stride, dilation)
    ctor = nn.attr(_TORCH_CONV[n])(in_ch, out_ch, **conv_kwargs(kernel, stride, padding, dilation, groups, use_bias))
    params = {"weight": fr.from_keras("kernel", Transpose((n + 1, n) + tuple(range(n))))}
    if use_bias:
        params["bias"] = fr.from_keras("bias")
    layout = Layout.channels_first(n + 2)
    y = activation(ctx, fr.SelfAttr()(x), ctx.get("activation"), dim=1)
    return fr.Fragment([y], [layout], modules={"": fr.TorchModule(ctor, params)})

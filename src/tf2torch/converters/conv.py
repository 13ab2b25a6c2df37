"""Convolutions: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D.

Kernels are stored (k..., in/groups, out) by Keras and (out, in/groups, k...) by torch
(keras/src/layers/convolutional/base_conv.py). 'same' padding (TF's asymmetric padding at
stride > 1, input-size dependent): see _padding.py. Transposed convolutions crop TF's full output
asymmetrically: see transpose_crops.
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import F, Reshape, Transpose, nn
from ..layout import Layout
from ..registry import SPATIAL, register
from ._padding import as_tuple, padded_input, simplify
from .activations import activation

_TORCH_CONV = {1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}
_TORCH_CONV_TRANSPOSE = {1: "ConvTranspose1d", 2: "ConvTranspose2d", 3: "ConvTranspose3d"}


def check_channels_last(ctx) -> None:
    if (ctx.get("data_format") or "channels_last") != "channels_last":  # Keras 2 configs may say None
        raise ctx.unsupported("data_format='channels_first' is not supported yet", "rebuild the model channels_last")


def conv_kwargs(kernel, stride, padding, dilation, groups=1, bias=True, output_padding=None) -> dict:
    kw = {"kernel_size": simplify(kernel)}
    if any(s != 1 for s in stride):
        kw["stride"] = simplify(stride)
    if padding not in (0, (0,)):
        kw["padding"] = padding
    if output_padding is not None and any(output_padding):
        kw["output_padding"] = simplify(output_padding)
    if any(d != 1 for d in dilation):
        kw["dilation"] = simplify(dilation)
    if groups != 1:
        kw["groups"] = groups
    if not bias:
        kw["bias"] = False
    return kw


def kernel_to_torch(n: int) -> Transpose:
    """(k..., a, b) -> (b, a, k...): Keras kernel layout to torch's, for n spatial dims."""
    return Transpose((n + 1, n) + tuple(range(n)))


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


def spatial_config(ctx, n: int) -> tuple[tuple, tuple, tuple]:
    """(kernel_size, strides, dilation_rate) as n-tuples."""
    return (as_tuple(ctx.get("kernel_size"), n), as_tuple(ctx.get("strides", 1), n),
            as_tuple(ctx.get("dilation_rate", 1), n))


@register(keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, layout=SPATIAL,
          note="valid, same (TF asymmetric padding at stride > 1), causal, dilation, groups")
def convert_conv(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    kernel, stride, dilation = spatial_config(ctx, n)
    groups = int(ctx.get("groups", 1) or 1)
    weights = ctx.weight("kernel")
    in_ch, out_ch = weights.shape[-2] * groups, weights.shape[-1]
    use_bias = bool(ctx.get("use_bias", True))
    x, padding = spatial_input(ctx, n, kernel, stride, dilation)
    ctor = nn.attr(_TORCH_CONV[n])(in_ch, out_ch, **conv_kwargs(kernel, stride, padding, dilation, groups, use_bias))
    params = {"weight": fr.from_keras("kernel", kernel_to_torch(n))}
    if use_bias:
        params["bias"] = fr.from_keras("bias")
    y = activation(ctx, fr.SelfAttr()(x), ctx.get("activation"), dim=1)
    return fr.Fragment([y], [Layout.channels_first(n + 2)], modules={"": fr.TorchModule(ctor, params)})


# ----------------------------------------------------------------------------------------------
# Transposed convolutions
# ----------------------------------------------------------------------------------------------
def transpose_crops(kernel: int, stride: int, dilation: int, padding: str, output_padding) -> tuple[int, int]:
    """(left, right) crop of the full transposed-conv output, size (i - 1) * s + k_eff, on one dim.

    A negative right crop means zeros appended (only bias reaches them). The Keras output size is
    (keras/src/backend/common/backend_utils.py, _get_output_shape_given_tf_padding):
      valid: (i - 1) * s + k_eff + op, op defaulting to max(k_eff, s) - k_eff;
      same:  i * s, or (i - 1) * s + k_eff % 2 + op when output_padding is given.
    The TF backend runs tf.nn.conv_transpose(padding='SAME') with that output size, i.e. the
    gradient of a SAME conv: P = max(full - out, 0) cropped P // 2 before, the rest after
    (keras/src/backend/tensorflow/nn.py conv_transpose; equal to the JAX-style pads of
    backend_utils.compute_conv_transpose_output_crops_for_torch). out - full never depends on i.
    """
    k_eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(k_eff, stride) - k_eff if output_padding is None else output_padding
        return 0, -extra
    extra = stride - k_eff if output_padding is None else k_eff % 2 + output_padding - k_eff  # out - full
    total = max(-extra, 0)
    return total // 2, -extra - total // 2


def transpose_padding(crops, stride, dilation):
    """(padding, output_padding, slices) for torch's ConvTranspose reproducing `crops`.

    torch crops `padding` on both sides then appends `output_padding` (< max(stride, dilation))
    zeros-plus-bias on the right: exact when every dim has left >= right (right may be negative).
    Otherwise padding=0 and the output is sliced in forward, as TF crops it.
    """
    if all(0 <= left - right < max(s, d) for (left, right), s, d in zip(crops, stride, dilation)):
        return tuple(left for left, _ in crops), tuple(left - right for left, right in crops), None
    output_padding = tuple(max(-right, 0) for _, right in crops)
    slices = tuple(slice(left or None, -right if right > 0 else None) for left, right in crops)
    return (0,) * len(crops), output_padding, slices


@register(keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose, layout=SPATIAL,
          note="valid, same (TF asymmetric crop: plain ConvTranspose when exact, else a slice), output_padding, dilation")
def convert_conv_transpose(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    kernel, stride, dilation = spatial_config(ctx, n)
    padding = ctx.get("padding", "valid")
    if padding not in ("valid", "same"):
        raise ctx.unsupported(f"padding={padding!r} is not supported")
    output_padding = ctx.get("output_padding")
    output_padding = (None,) * n if output_padding is None else as_tuple(output_padding, n)
    weights = ctx.weight("kernel")  # (k..., out, in) (keras/src/layers/convolutional/base_conv_transpose.py)
    out_ch, in_ch = weights.shape[-2], weights.shape[-1]
    use_bias = bool(ctx.get("use_bias", True))
    crops = [transpose_crops(k, s, d, padding, op) for k, s, d, op in zip(kernel, stride, dilation, output_padding)]
    torch_padding, torch_output_padding, slices = transpose_padding(crops, stride, dilation)
    ctor = nn.attr(_TORCH_CONV_TRANSPOSE[n])(in_ch, out_ch, **conv_kwargs(
        kernel, stride, simplify(torch_padding), dilation, bias=use_bias, output_padding=torch_output_padding))
    params = {"weight": fr.from_keras("kernel", kernel_to_torch(n))}  # -> (in, out, k...), no spatial flip
    if use_bias:
        params["bias"] = fr.from_keras("bias")
    y = fr.SelfAttr()(ctx.input_channels_first(0))
    if slices is not None:  # TF's crop is asymmetric: more on the right/bottom
        while slices and slices[-1] == slice(None):
            slices = slices[:-1]
        y = y[(slice(None), slice(None)) + slices]
    y = activation(ctx, y, ctx.get("activation"), dim=1)
    return fr.Fragment([y], [Layout.channels_first(n + 2)], modules={"": fr.TorchModule(ctor, params)})


# ----------------------------------------------------------------------------------------------
# Depthwise and separable convolutions
# ----------------------------------------------------------------------------------------------
def depthwise_module(ctx, n: int, source: str, kernel, stride, padding, dilation, use_bias: bool) -> fr.TorchModule:
    """nn.ConvNd(in, in * dm, groups=in) from a Keras depthwise kernel (k..., in, dm).

    Keras output channel c * dm + m (tf.nn.depthwise_conv2d) is torch's group c, filter m: reshape
    to (k..., 1, in * dm), then the usual kernel transpose
    (keras/src/layers/convolutional/base_depthwise_conv.py, base_separable_conv.py).
    """
    weights = ctx.weight(source)
    in_ch, multiplier = weights.shape[-2], weights.shape[-1]
    ctor = nn.attr(_TORCH_CONV[n])(in_ch, in_ch * multiplier, **conv_kwargs(
        kernel, stride, padding, dilation, groups=in_ch, bias=use_bias))
    params = {"weight": fr.from_keras(source, Reshape(tuple(kernel) + (1, in_ch * multiplier)), kernel_to_torch(n))}
    if use_bias:
        params["bias"] = fr.from_keras("bias")
    return fr.TorchModule(ctor, params)


def depthwise_source(ctx, keras3_name: str) -> str:
    """Weight name of the depthwise kernel: Keras 3 'kernel' (DepthwiseConv) or Keras 2 'depthwise_kernel'."""
    return keras3_name if ctx.has_weight(keras3_name) else "depthwise_kernel"


@register(keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D, layout=SPATIAL,
          note="valid, same (TF asymmetric padding), depth_multiplier, dilation")
def convert_depthwise_conv(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    kernel, stride, dilation = spatial_config(ctx, n)
    x, padding = spatial_input(ctx, n, kernel, stride, dilation)
    module = depthwise_module(ctx, n, depthwise_source(ctx, "kernel"), kernel, stride, padding, dilation,
                              bool(ctx.get("use_bias", True)))
    y = activation(ctx, fr.SelfAttr()(x), ctx.get("activation"), dim=1)
    return fr.Fragment([y], [Layout.channels_first(n + 2)], modules={"": module})


@register(keras.layers.SeparableConv1D, keras.layers.SeparableConv2D, layout=SPATIAL,
          note="depthwise + pointwise modules; valid, same (TF asymmetric padding), depth_multiplier, dilation")
def convert_separable_conv(ctx) -> fr.Fragment:
    """Depthwise conv (strides, padding, dilation, no bias) then a 1x1 conv carrying the bias
    (keras/src/layers/convolutional/base_separable_conv.py; tf.nn.separable_conv2d)."""
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    kernel, stride, dilation = spatial_config(ctx, n)
    use_bias = bool(ctx.get("use_bias", True))
    x, padding = spatial_input(ctx, n, kernel, stride, dilation)
    depthwise = depthwise_module(ctx, n, "depthwise_kernel", kernel, stride, padding, dilation, use_bias=False)
    pointwise_kernel = ctx.weight("pointwise_kernel")  # (1..., in * dm, filters)
    mid_ch, filters = pointwise_kernel.shape[-2], pointwise_kernel.shape[-1]
    ctor = nn.attr(_TORCH_CONV[n])(mid_ch, filters, 1, **({} if use_bias else {"bias": False}))
    params = {"weight": fr.from_keras("pointwise_kernel", kernel_to_torch(n))}
    if use_bias:
        params["bias"] = fr.from_keras("bias")
    y = fr.SelfAttr("pointwise")(fr.SelfAttr("depthwise")(x))
    y = activation(ctx, y, ctx.get("activation"), dim=1)
    modules = {"depthwise": depthwise, "pointwise": fr.TorchModule(ctor, params)}
    return fr.Fragment([y], [Layout.channels_first(n + 2)], modules=modules)

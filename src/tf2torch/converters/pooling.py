"""Pooling: max/average pooling 1D/2D/3D (valid and TF 'same'), global max/average pooling.

Keras pools through tf.nn.max_pool / tf.nn.avg_pool (keras/src/layers/pooling/base_pooling.py,
keras/src/backend/tensorflow/nn.py); strides=None means strides=pool_size. TF 'SAME' pads
P = (out - 1) * s + k - n (out = ceil(n / s)), P // 2 before and the rest after (_padding.py).
In a TF 'same' window the pads never count: max pooling ignores them (as if -inf) and average
pooling divides by the number of real elements (keras-team/keras#18452).

torch pools reproduce that with their own arguments whenever they make TF's windows: symmetric
pads are `padding=` (+ count_include_pad=False for averages); TF's extra pad at the end is
torch's ceil_mode overhang when the stride is > 1 (checked per dim against torch's output size).
Otherwise (dynamic sizes at stride > 1, even pools at stride 1): max pooling pads with -inf
first, average pooling uses the inline avg_pool_same helper (helpers/pooling.py).
"""
from __future__ import annotations

import math

import keras

from .. import fragment as fr
from ..fragment import F, nn, torch
from ..layout import Layout
from ..registry import SPATIAL, register
from ._padding import as_tuple, simplify, static_same_pads, torch_pad_arg
from .conv import check_channels_last

_TORCH_POOL = {
    ("max", 1): "MaxPool1d", ("max", 2): "MaxPool2d", ("max", 3): "MaxPool3d",
    ("avg", 1): "AvgPool1d", ("avg", 2): "AvgPool2d", ("avg", 3): "AvgPool3d",
}


def torch_pool_out_size(n: int, k: int, s: int, pad: int, ceil_mode: bool) -> int:
    """torch's pooled size (aten/src/ATen/native/Pool.h, pooling_output_shape)."""
    out = (n + 2 * pad - k + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + pad:  # the last window must start inside input or left pad
        out -= 1
    return out


def same_as_torch_padding(spatial: tuple, size: tuple, stride: tuple, pads) -> tuple[tuple, bool] | None:
    """(padding, ceil_mode) giving torch's own windows TF's 'SAME' windows, or None.

    torch's windows start at i * s - padding, TF's at i * s - pad_before: equal when padding is
    the pad before. TF's extra pad after (pads (p, p + 1)) is then torch's ceil_mode overhang,
    clipped to the input; it is exact iff torch makes as many windows as TF (ceil(n / s)).
    TF's total pad is at most k - 1, so the pad before is within torch's limit of k / 2.
    """
    if pads is None:
        return None
    before = tuple(b for b, _ in pads)
    ceil_mode = any(a != b for b, a in pads)
    for n, k, s, p in zip(spatial, size, stride, before):
        if n is None:  # static pads with a dynamic size: stride 1, out = n + 2p - k + 1 = n iff symmetric
            if ceil_mode:
                return None
        elif torch_pool_out_size(n, k, s, p, ceil_mode) != math.ceil(n / s):
            return None
    return before, ceil_mode


def _convert_pool(ctx, mode: str) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    size = as_tuple(ctx.get("pool_size"), n)
    stride = as_tuple(ctx.get("strides") or size, n)  # Keras: strides=None -> pool_size
    padding = str(ctx.get("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        raise ctx.unsupported(f"padding={padding!r} is not supported", "use 'valid' or 'same'")
    x = ctx.input_channels_first(0)
    kwargs = {} if stride == size else {"stride": simplify(stride)}
    if padding == "same":
        spatial = tuple(ctx.in_shape(0)[1:-1])
        pads = static_same_pads(spatial, size, stride, (1,) * n)
        implicit = same_as_torch_padding(spatial, size, stride, pads)
        if implicit is not None:
            before, ceil_mode = implicit
            if any(before):
                kwargs["padding"] = simplify(before)
            if ceil_mode:
                kwargs["ceil_mode"] = True
            if mode == "avg" and (any(before) or ceil_mode):
                kwargs["count_include_pad"] = False  # TF divides by the real elements only
        elif mode == "avg":  # pads torch cannot express: divide by the count of real elements
            y = fr.Helper("avg_pool_same")(x, size, stride)
            return fr.Fragment([y], [Layout.channels_first(n + 2)], description="TF 'same' average pooling (helper)")
        elif pads is None:  # dynamic size: pad at run time, pads never win a max
            x = fr.Helper("pad_same")(x, size, stride, (1,) * n, value=-math.inf)
        else:
            x = F.attr("pad")(x, torch_pad_arg(pads), value=-math.inf)
    ctor = nn.attr(_TORCH_POOL[mode, n])(simplify(size), **kwargs)
    return fr.Fragment([fr.SelfAttr()(x)], [Layout.channels_first(n + 2)], modules={"": fr.TorchModule(ctor)})


@register(keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D, layout=SPATIAL,
          note="valid and same (pads never win: implicit padding/ceil_mode, else -inf pads)")
def convert_max_pool(ctx) -> fr.Fragment:
    return _convert_pool(ctx, "max")


@register(keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.AveragePooling3D,
          layout=SPATIAL, note="valid and same (divides by the real elements: count_include_pad=False "
                               "when torch's windows match, else the avg_pool_same helper)")
def convert_average_pool(ctx) -> fr.Fragment:
    return _convert_pool(ctx, "avg")


_GLOBAL = {
    keras.layers.GlobalAveragePooling1D: "mean", keras.layers.GlobalAveragePooling2D: "mean",
    keras.layers.GlobalAveragePooling3D: "mean", keras.layers.GlobalMaxPooling1D: "amax",
    keras.layers.GlobalMaxPooling2D: "amax", keras.layers.GlobalMaxPooling3D: "amax",
}


_GLOBAL_NOTE = "mean/amax over the spatial axes in the input's own layout (no permute); keepdims"


# Images pull their maps channels-first (like the other spatial layers); 1D inputs are as often
# sequences (Embedding, RNN, Dense outputs) as 1D feature maps, so they stay in the layout given.
@register(keras.layers.GlobalAveragePooling2D, keras.layers.GlobalAveragePooling3D,
          keras.layers.GlobalMaxPooling2D, keras.layers.GlobalMaxPooling3D, layout=SPATIAL, note=_GLOBAL_NOTE)
@register(keras.layers.GlobalMaxPooling1D, note=_GLOBAL_NOTE + "; Keras' max ignores masks")
@register(keras.layers.GlobalAveragePooling1D,
          note=_GLOBAL_NOTE + "; under a Keras mask, the mean over the unmasked steps (as Keras)")
def convert_global_pool(ctx) -> fr.Fragment:
    """ops.mean / ops.max over the spatial axes (keras/src/layers/pooling/global_*_pooling*.py).

    Works in whatever layout the input has (channels-first feature maps or Keras-order sequences):
    the reduced axes are remapped through the layout, so it never needs a permute. Of these layers
    only GlobalAveragePooling1D.call takes a mask (GlobalMaxPooling1D's call has none: Keras' max
    includes the masked steps).
    """
    if issubclass(ctx.layer.cls, keras.layers.GlobalAveragePooling1D):
        mask = ctx.mask()
        if mask is not None:
            return _masked_mean(ctx, mask)
    rank = ctx.in_rank(0)
    channels_last = (ctx.get("data_format") or "channels_last") == "channels_last"
    keras_axes = range(1, rank - 1) if channels_last else range(2, rank)
    x, layout = ctx.input_unflattened(0)
    dims = tuple(sorted(layout.torch_axis(a) for a in keras_axes))
    reduce = _GLOBAL[ctx.layer.cls]
    if ctx.get("keepdims", False):  # reduced axes stay where they are: same layout
        return fr.Fragment([x.method(reduce, simplify(dims), keepdim=True)], [layout])
    kept = [a for a in layout.perm if a not in keras_axes]  # batch and channels, in torch order
    out_layout = Layout(tuple(0 if a == 0 else 1 for a in kept))
    return fr.Fragment([x.method(reduce, simplify(dims))], [out_layout])


def _masked_mean(ctx, mask: fr.Expr) -> fr.Fragment:
    """keras/src/layers/pooling/global_average_pooling1d.py with a mask (bool (batch, steps)):
    sum(where(mask, x, 0), steps) / sum(mask, steps); a fully masked row gives 0 / 0 = nan, as in Keras."""
    channels_last = (ctx.get("data_format") or "channels_last") == "channels_last"
    steps_axis, channel_axis = (1, 2) if channels_last else (2, 1)
    x, layout = ctx.input_unflattened(0)
    mask_id = mask.id if isinstance(mask, fr.GraphTensor) else None
    if mask_id is not None and ctx.graph.tensors[mask_id].dtype != "bool":
        mask = mask.method("bool")  # Keras casts the mask to bool
    # the mask (batch, steps) gets a size-1 axis where the channels are in this layout
    m = fr.Local("mask")
    steps = [(m, mask.method("unsqueeze", layout.torch_axis(channel_axis)))]
    dim = layout.torch_axis(steps_axis)
    keep = {"keepdim": True} if ctx.get("keepdims", False) else {}
    y = torch.attr("where")(m, x, 0.0).method("sum", dim, **keep) / m.method("sum", dim, **keep)
    if keep:
        out_layout = layout
    else:
        kept = [a for a in layout.perm if a != steps_axis]
        out_layout = Layout(tuple(0 if a == 0 else 1 for a in kept))
    return fr.Fragment([y], [out_layout], steps=steps, description="mean over the unmasked steps")

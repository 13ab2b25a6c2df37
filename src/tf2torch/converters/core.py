"""Core layers: Dense (Linear, or a 1x1 conv on channels-first feature maps), Masking, Identity."""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import Reshape, Take, Transpose, nn
from ..layout import Layout
from ..registry import KERAS, register
from .activations import activation, last_axis_dim


@register(keras.layers.Dense, note="flatten order folded into the weights; 1x1 conv on channels-first maps")
def convert_dense(ctx) -> fr.Fragment:
    kernel = ctx.weight("kernel")
    n_in, units = kernel.shape
    use_bias = bool(ctx.get("use_bias", True))
    layout = ctx.in_layouts[0]
    rank = ctx.in_rank(0)
    params = {}
    if layout.flat is not None:  # after Flatten of a channels-first map: permute kernel rows
        x, out_layout = ctx.input(0), Layout.keras(2)
        params["weight"] = fr.from_keras("kernel", Take(layout.flat.index, 0), Transpose((1, 0)))
        ctor = nn.attr("Linear")(n_in, units, **({} if use_bias else {"bias": False}))
    elif rank >= 3 and layout.is_channels_first and rank <= 5:
        x, out_layout = ctx.input(0), layout
        conv = {3: "Conv1d", 4: "Conv2d", 5: "Conv3d"}[rank]
        params["weight"] = fr.from_keras("kernel", Transpose((1, 0)), Reshape((units, n_in) + (1,) * (rank - 2)))
        ctor = nn.attr(conv)(n_in, units, 1, **({} if use_bias else {"bias": False}))
    else:
        out_layout = Layout.keras(rank)
        x = ctx.input(0, out_layout)
        params["weight"] = fr.from_keras("kernel", Transpose((1, 0)))
        ctor = nn.attr("Linear")(n_in, units, **({} if use_bias else {"bias": False}))
    if use_bias:
        params["bias"] = fr.from_keras("bias")
    y = activation(ctx, fr.SelfAttr()(x), ctx.get("activation"), last_axis_dim(out_layout))
    return fr.Fragment([y], [out_layout], modules={"": fr.TorchModule(ctor, params)})


@register(keras.layers.Masking, layout=KERAS, note="zeroes masked steps; the mask itself is its own node, read by the consumers")
def convert_masking(ctx) -> fr.Fragment:
    """keras/src/layers/core/masking.py: `inputs * any(inputs != mask_value, axis=-1, keepdims=True)`.

    The mask Keras attaches (`any(...)` without keepdims) is recorded by the front-end as its own
    nodes and reaches the layers that read it; here only the values are computed."""
    value = float(ctx.get("mask_value", 0.0))
    ctx.hint_padding(0, value)  # verification feeds padded sequences
    x = ctx.input_keras(0)
    kept = fr.BinOp("!=", x, fr.Const(value)).method("any", -1, keepdim=True)
    return fr.Fragment([x * kept], [Layout.keras(ctx.in_rank(0))],
                       description="x * (x != mask_value).any(-1): masked steps zeroed")


@register(keras.layers.Identity, note="no module: the input itself, in its layout")
def convert_identity(ctx) -> fr.Fragment:
    # keras/src/layers/core/identity.py: call() returns its inputs (a nest of tensors too; a Keras
    # mask passes through)
    n = len(ctx.outputs)
    return fr.Fragment([ctx.input(i) for i in range(n)], list(ctx.in_layouts[:n]), description="identity (no module)")

"""Pooling: max/average pooling 1D/2D/3D (valid and TF 'same'), global pooling.

'same' max pooling pads with -inf (pads never win); 'same' average pooling divides by the number
of valid elements (keras-team/keras#18452), which torch's count_include_pad=False gives only for
symmetric padding: asymmetric cases use the inline avg_pool_same helper.
"""
from __future__ import annotations

import math

import keras

from .. import fragment as fr
from ..fragment import nn
from ..layout import Layout
from ..registry import SPATIAL, register
from ._padding import as_tuple, padded_input, simplify
from .conv import check_channels_last

_MAX = {1: "MaxPool1d", 2: "MaxPool2d", 3: "MaxPool3d"}


@register(keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D, layout=SPATIAL,
          note="valid and same (pads behave as -inf)")
def convert_max_pool(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    size = as_tuple(ctx.get("pool_size"), n)
    stride = as_tuple(ctx.get("strides") or size, n)
    x = ctx.input_channels_first(0)
    padding = 0
    if ctx.get("padding", "valid") == "same":
        x, padding = padded_input(x, ctx.in_shape(0)[1:-1], size, stride, (1,) * n, value=-math.inf)
    kwargs = {}
    if stride != size:
        kwargs["stride"] = simplify(stride)
    if padding:
        kwargs["padding"] = padding
    ctor = nn.attr(_MAX[n])(simplify(size), **kwargs)
    return fr.Fragment([fr.SelfAttr()(x)], [Layout.channels_first(n + 2)], modules={"": fr.TorchModule(ctor)})

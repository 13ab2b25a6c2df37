"""Reshaping layers: Flatten (Keras' HWC order folded into the next layer's weights)."""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..layout import FlatOrder, Layout
from ..registry import register


@register(keras.layers.Flatten, note="channels-last order folded into the following Dense")
def convert_flatten(ctx) -> fr.Fragment:
    layout = ctx.in_layouts[0]
    rank = ctx.in_rank(0)
    if rank <= 2:
        return fr.Fragment([ctx.input(0)], [layout])
    features = ctx.in_shape(0)[1:]
    if layout.flat is None and not layout.is_keras and all(d is not None for d in features):
        order = FlatOrder(tuple(features), tuple(p - 1 for p in layout.perm[1:]))
        return fr.Fragment([ctx.input(0).method("flatten", 1)], [Layout((0, 1), flat=order)])
    return fr.Fragment([ctx.input_keras(0).method("flatten", 1)], [Layout.keras(2)])

"""Regularisation layers: identity for inference (Keras calls them with training=False); for models
that train (translated scripts: ctx.training), the torch module that behaves like Keras in both modes.
Semantics: keras/src/layers/regularization/*.py.
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import nn
from ..layout import Layout
from ..registry import register


@register(keras.layers.Dropout, keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D,
          keras.layers.GaussianDropout, keras.layers.GaussianNoise, keras.layers.AlphaDropout, keras.layers.ActivityRegularization,
          note="identity at inference; active torch modules for training (translate)")
def convert_identity_at_inference(ctx) -> fr.Fragment:
    cls = ctx.layer.cls
    penalty = cls is keras.layers.ActivityRegularization and (ctx.get("l1") or ctx.get("l2"))
    if not ctx.training or (cls is keras.layers.ActivityRegularization and not penalty):
        return fr.Fragment([ctx.input(0)], [ctx.in_layouts[0]], description="identity at inference")
    if penalty:
        raise ctx.unsupported("ActivityRegularization adds an activity penalty to the training loss: not translated")
    return _training(ctx, cls)


def _training(ctx, cls) -> fr.Fragment:
    if cls in (keras.layers.Dropout, keras.layers.AlphaDropout):
        if ctx.get("noise_shape") is not None:
            raise ctx.unsupported("Dropout(noise_shape=...) has no torch module", "drop a mask of that shape by hand")
        # dropout.py: inverted dropout scaled by 1 / (1 - rate) = nn.Dropout; alpha_dropout.py = nn.AlphaDropout
        ctor = nn.attr("AlphaDropout" if cls is keras.layers.AlphaDropout else "Dropout")(ctx.get("rate"))
        x, layout = ctx.input(0), ctx.in_layouts[0]
    elif cls is keras.layers.GaussianNoise:
        ctor, (x, layout) = fr.Helper("GaussianNoise")(ctx.get("stddev")), (ctx.input(0), ctx.in_layouts[0])
    elif cls is keras.layers.GaussianDropout:
        ctor, (x, layout) = fr.Helper("GaussianDropout")(ctx.get("rate")), (ctx.input(0), ctx.in_layouts[0])
    else:  # spatial_dropout.py: whole channels dropped = torch's Dropout{1,2,3}d on channels-first tensors
        rank = ctx.in_rank(0)
        ctor = nn.attr(f"Dropout{rank - 2}d")(ctx.get("rate"))
        layout = Layout.channels_first(rank)
        x = ctx.input(0, layout)
    return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor)})

"""Regularisation layers: identity at inference (Keras calls them with training=False)."""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..registry import register


@register(keras.layers.Dropout, keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D,
          keras.layers.GaussianDropout, keras.layers.GaussianNoise, keras.layers.AlphaDropout, keras.layers.ActivityRegularization,
          note="identity at inference")
def convert_identity_at_inference(ctx) -> fr.Fragment:
    return fr.Fragment([ctx.input(0)], [ctx.in_layouts[0]], description="identity at inference")

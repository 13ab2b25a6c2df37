"""Layers that keras.applications defines for its own architectures.

ConvNeXt's LayerScale and StochasticDepth (keras/src/applications/convnext.py) and
InceptionResNetV2's CustomScaleLayer (keras/src/applications/inception_resnet_v2.py), Keras 3.15.1.
They work in any layout: a feature map stays channels-first through them.
"""
from __future__ import annotations

from keras.src.applications.convnext import LayerScale, StochasticDepth
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

from .. import fragment as fr
from ..registry import register


@register(LayerScale, note="x * gamma (per channel, shaped (C, 1, 1) on channels-first maps): inline LayerScale module")
def convert_layer_scale(ctx) -> fr.Fragment:
    # call(): x * self.gamma, gamma of shape (projection_dim,) along the last Keras axis
    x, layout = ctx.input_unflattened(0)
    rank = ctx.in_rank(0)
    channel_dim = layout.torch_axis(rank - 1)
    weights = ctx.layer.weights
    if len(weights) != 1:
        raise ctx.unsupported(f"LayerScale with {len(weights)} weights (expected its gamma only)")
    source = weights[0][0]  # Keras 3 names it "variable" (add_weight without a name), Keras 2 "gamma"
    size = int(ctx.weight(source).shape[0])
    shape = (size,) + (1,) * (rank - 1 - channel_dim)  # leading 1s broadcast by themselves
    transforms = (fr.Reshape(shape),) if len(shape) > 1 else ()
    ctor = fr.Helper("LayerScale")(shape[0] if len(shape) == 1 else shape)
    module = fr.TorchModule(ctor, {"gamma": fr.from_keras(source, *transforms)})
    return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": module})


@register(StochasticDepth, note="identity at inference; per-sample drop path (inline StochasticDepth) for training")
def convert_stochastic_depth(ctx) -> fr.Fragment:
    rate = float(ctx.get("drop_path_rate", 0.0))
    if not ctx.training or rate == 0.0:
        return fr.Fragment([ctx.input(0)], [ctx.in_layouts[0]], description="identity at inference")
    module = fr.TorchModule(fr.Helper("StochasticDepth")(rate))
    return fr.Fragment([fr.SelfAttr()(ctx.input(0))], [ctx.in_layouts[0]], modules={"": module})


@register(CustomScaleLayer, note="inputs[0] + inputs[1] * scale, in the first input's layout")
def convert_custom_scale(ctx) -> fr.Fragment:
    # call(inputs): inputs[0] + inputs[1] * self.scale
    if len(ctx.inputs) != 2 or ctx.in_shape(0) != ctx.in_shape(1):
        raise ctx.unsupported("CustomScaleLayer expects two inputs of the same shape")
    x, layout = ctx.input_unflattened(0)
    residual = ctx.input(1, layout)
    return fr.Fragment([x + residual * float(ctx.get("scale"))], [layout])

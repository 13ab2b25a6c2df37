"""BatchNormalization (inference), LayerNormalization, GroupNormalization, UnitNormalization, RMSNormalization.

Semantics from keras/src/layers/normalization/batch_normalization.py, layer_normalization.py and
keras/src/ops/nn.py `_layer_normalization` (Keras 3.15.1); tf_keras/src/layers/normalization/
(Keras 2: the same inference formulas, `axis` may be a list).
"""
from __future__ import annotations

import keras
import numpy as np

from .. import fragment as fr
from ..fragment import F, Take, Transpose, nn
from ..registry import register
from .activations import readable

_BATCH_NORM = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}


def _axes(ctx, value) -> list[int]:
    """Keras axis argument (int or list) -> sorted non-negative axes; the batch axis is refused."""
    rank = ctx.in_rank(0)
    axes = sorted({int(a) % rank for a in (value if isinstance(value, (list, tuple)) else [value])})
    if 0 in axes:
        raise ctx.unsupported("normalising over the batch axis is not supported")
    return axes


def _torch_number(value: float) -> float:
    """1 - 0.99 is 0.010000000000000009 in binary: write the decimal a person would (0.01)."""
    return float(np.format_float_positional(value, precision=12, trim="-"))


def _affine(size: int, transforms: tuple, scale: bool, center: bool, frag_warnings: list) -> dict:
    """weight/bias of a torch affine norm from Keras gamma/beta; a missing one is fixed at 1 or 0."""
    params = {}
    if scale:
        params["weight"] = fr.from_keras("gamma", *transforms)
    if center:
        params["bias"] = fr.from_keras("beta", *transforms)
    if scale and not center:
        params["bias"] = fr.constant(np.zeros(size, np.float32))
        frag_warnings.append("center=False: bias is fixed at 0 (freeze it with requires_grad_(False) to train like Keras)")
    if center and not scale:
        params["weight"] = fr.constant(np.ones(size, np.float32))
        frag_warnings.append("scale=False: weight is fixed at 1 (freeze it with requires_grad_(False) to train like Keras)")
    return params


@register(keras.layers.BatchNormalization,
          note="inference (moving statistics); nn.BatchNorm1d/2d/3d with Keras eps and momentum written out")
def convert_batch_norm(ctx) -> fr.Fragment:
    if ctx.has_mask():
        if ctx.training:
            raise ctx.unsupported("a Keras mask changes the batch moments in training (masked steps left out)",
                                  "remove the mask before BatchNormalization, or normalise by hand")
        ctx.ignore_mask()  # keras/src/layers/normalization/batch_normalization.py: only _moments reads it
    axes = _axes(ctx, ctx.get("axis", -1))
    if len(axes) != 1:
        raise ctx.unsupported(f"BatchNormalization over several axes {axes} is not supported",
                              "normalise over one axis (the channels)")
    axis, rank = axes[0], ctx.in_rank(0)
    if rank not in _BATCH_NORM:
        raise ctx.unsupported(f"BatchNormalization on a rank-{rank} tensor is not supported", "use rank 2 to 5")
    size = int(ctx.weight("moving_mean").shape[0])
    eps = readable(ctx.get("epsilon", 1e-3))
    momentum = _torch_number(1.0 - readable(ctx.get("momentum", 0.99)))  # torch: new = (1 - m) * old + m * batch
    center, scale = bool(ctx.get("center", True)), bool(ctx.get("scale", True))

    layout = ctx.in_layouts[0]
    transforms: tuple = ()
    if layout.flat is not None and axis == rank - 1:  # features of a flattened map, CHW order: reorder the statistics
        transforms = (Take(layout.flat.index, 0),)
        x, dim = ctx.input(0), 1
    else:
        x, layout = ctx.input_unflattened(0)
        dim = layout.torch_axis(axis)

    warnings: list[str] = []
    kwargs = {"eps": eps, "momentum": momentum}
    if not (center or scale):
        kwargs["affine"] = False
    ctor = nn.attr(_BATCH_NORM[rank])(size, **kwargs)
    params = _affine(size, transforms, scale, center, warnings)
    params["running_mean"] = fr.from_keras("moving_mean", *transforms)
    params["running_var"] = fr.from_keras("moving_variance", *transforms)
    params["num_batches_tracked"] = fr.constant(np.array(0, np.int64))

    bn = fr.SelfAttr()
    if dim == 1:  # torch norms take the channels at dim 1
        y = bn(x)
    elif rank == 3:  # (N, T, C) sequence in the Keras layout
        y = bn(x.method("transpose", 1, 2)).method("transpose", 1, 2)
    else:
        y = bn(x.method("movedim", dim, 1)).method("movedim", 1, dim)
    return fr.Fragment([y], [layout], modules={"": fr.TorchModule(ctor, params)}, warnings=warnings)


@register(keras.layers.LayerNormalization,
          note="nn.LayerNorm when the axes are trailing in torch; over any dims (e.g. channels-first) otherwise; rms_scaling")
def convert_layer_norm(ctx) -> fr.Fragment:
    axes = _axes(ctx, ctx.get("axis", -1))
    rank = ctx.in_rank(0)
    eps = readable(ctx.get("epsilon", 1e-3))
    center, scale = bool(ctx.get("center", True)), bool(ctx.get("scale", True))
    rms_scaling = bool(ctx.get("rms_scaling", False))
    # gamma/beta have the shape of the normalised Keras axes, in sorted order (build())
    keras_shape = tuple(int(ctx.in_shape(0)[a]) for a in axes)
    has_gamma, has_beta = scale or rms_scaling, center and not rms_scaling

    layout = ctx.in_layouts[0]
    if layout.flat is not None and axes == [rank - 1]:  # all features of a flat map: order does not matter
        x, dims, transforms = ctx.input(0), [1], (Take(layout.flat.index, 0),)
        torch_params_shape = keras_shape
    else:
        x, layout = ctx.input_unflattened(0)
        dims = sorted(layout.torch_axis(a) for a in axes)
        order = tuple(axes.index(layout.perm[d]) for d in dims)  # gamma axes in torch order
        transforms = (Transpose(order),) if order != tuple(range(len(order))) else ()
        torch_params_shape = tuple(keras_shape[i] for i in order)

    warnings: list[str] = []
    trailing = dims == list(range(rank - len(dims), rank))
    if trailing and not rms_scaling:
        shape = torch_params_shape[0] if len(torch_params_shape) == 1 else torch_params_shape
        kwargs: dict = {"eps": eps}
        if not (center or scale):
            kwargs["elementwise_affine"] = False
        elif not center:
            kwargs["bias"] = False
        ctor = nn.attr("LayerNorm")(shape, **kwargs)
        params = {}
        if scale:
            params["weight"] = fr.from_keras("gamma", *transforms)
        elif center:
            params["weight"] = fr.constant(np.ones(torch_params_shape, np.float32))
            warnings.append("scale=False: weight is fixed at 1 (freeze it with requires_grad_(False) to train like Keras)")
        if center:
            params["bias"] = fr.from_keras("beta", *transforms)
        return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor, params)}, warnings=warnings)

    # not trailing (e.g. the channels of a channels-first map), or rms_scaling: normalise in place
    # weight shape broadcasting against the input without its batch dim, e.g. (C, 1, 1)
    param_shape = tuple(layout.torch_shape(ctx.in_shape(0))[d] if d in dims else 1 for d in range(1, rank))
    reshape = fr.Reshape(param_shape)
    kwargs = {"dims": tuple(dims), "eps": eps}
    if not scale and not rms_scaling:
        kwargs["scale"] = False
    if not center and not rms_scaling:
        kwargs["center"] = False
    if rms_scaling:
        kwargs["rms_scaling"] = True
    ctor = fr.Helper("LayerNormOverDims")(param_shape, **kwargs)
    params = {}
    if has_gamma:
        params["weight"] = fr.from_keras("gamma", *transforms, reshape)
    if has_beta:
        params["bias"] = fr.from_keras("beta", *transforms, reshape)
    return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor, params)}, warnings=warnings)


@register(keras.layers.GroupNormalization,
          note="nn.GroupNorm on the channels' torch dim (dim 1 on channels-first maps, else moved there); groups=-1 too")
def convert_group_norm(ctx) -> fr.Fragment:
    # keras/src/layers/normalization/group_normalization.py: the `axis` is split into (groups,
    # size // groups), group g holding channels g * size // groups ...; biased moments over the
    # group's channels and every other non-batch axis; rsqrt(variance + epsilon): nn.GroupNorm's formula.
    # Its call() takes no mask: a Keras mask passes through untouched.
    axes = _axes(ctx, ctx.get("axis", -1))
    axis, rank = axes[0], ctx.in_rank(0)
    size = int(ctx.in_shape(0)[axis])
    groups = int(ctx.get("groups", 32))
    groups = size if groups == -1 else groups
    eps = readable(ctx.get("epsilon", 1e-3))
    center, scale = bool(ctx.get("center", True)), bool(ctx.get("scale", True))
    x, layout = ctx.input_unflattened(0)  # the groups follow Keras' channel order
    dim = layout.torch_axis(axis)
    warnings: list[str] = []
    kwargs = {"eps": eps} if eps != 1e-5 else {}
    if not (center or scale):
        kwargs["affine"] = False
    ctor = nn.attr("GroupNorm")(groups, size, **kwargs)
    gn = fr.SelfAttr()
    if dim == 1:
        y = gn(x)
    elif rank == 3:
        y = gn(x.method("transpose", 1, 2)).method("transpose", 1, 2)
    else:
        y = gn(x.method("movedim", dim, 1)).method("movedim", 1, dim)
    params = _affine(size, (), scale, center, warnings)
    return fr.Fragment([y], [layout], modules={"": fr.TorchModule(ctor, params)}, warnings=warnings)


@register(keras.layers.UnitNormalization, note="F.normalize (x / max(norm, 1e-12): Keras' x * min(rsqrt(sum x^2), 1e12))")
def convert_unit_norm(ctx) -> fr.Fragment:
    # keras/src/layers/normalization/unit_normalization.py: ops.normalize(x, axis, order=2,
    # epsilon=1e-12) = x * minimum(rsqrt(sum(square(x), axis)), 1 / 1e-12): the same function as
    # F.normalize's x / maximum(norm, 1e-12) (its default eps), up to rounding.
    axes = _axes(ctx, ctx.get("axis", -1))
    rank = ctx.in_rank(0)
    layout = ctx.in_layouts[0]
    if layout.flat is not None and axes == [rank - 1]:  # all the features: their order does not matter
        x, dims = ctx.input(0), [1]
    else:
        x, layout = ctx.input_unflattened(0)
        dims = sorted(layout.torch_axis(a) for a in axes)
    dim = dims[0] if len(dims) == 1 else tuple(dims)
    if dim == rank - 1:
        dim = -1
    return fr.Fragment([F.attr("normalize")(x, dim=dim)], [layout])


@register(keras.layers.RMSNormalization,
          note="nn.RMSNorm when the axes are trailing in torch; the RMSNormOverDims helper otherwise (no permute)")
def convert_rms_norm(ctx) -> fr.Fragment:
    # keras/src/layers/normalization/rms_normalization.py and ops/nn.py `_rms_normalization`:
    # x * rsqrt(mean(square(x), axes) + epsilon) * scale, the scale (the normalised axes' sizes, in
    # the config's sorted order) broadcasting against the input from the right (numpy rules).
    rank = ctx.in_rank(0)
    axes = _axes(ctx, ctx.get("axis", -1))
    eps = readable(ctx.get("epsilon", 1e-6))
    scale_shape = tuple(int(d) for d in ctx.weight("scale").shape)
    keras_shape = tuple(ctx.in_shape(0))
    # where the scale lands: the input's last len(scale_shape) axes
    scale_axes = list(range(rank - len(scale_shape), rank))
    if any(a == 0 for a in scale_axes) or any(s not in (1, keras_shape[a]) for s, a in zip(scale_shape, scale_axes)):
        raise ctx.unsupported(f"a scale of shape {scale_shape} does not broadcast against the input {keras_shape}")
    layout = ctx.in_layouts[0]
    if layout.flat is not None and axes == [rank - 1]:  # all features of a flat map: reorder the scale
        x, transforms, dims = ctx.input(0), (Take(layout.flat.index, 0),), [1]
    else:
        x, layout = ctx.input_unflattened(0)
        transforms, dims = (), sorted(layout.torch_axis(a) for a in axes)
    exact_shape = scale_shape == tuple(keras_shape[a] for a in axes)
    if layout.flat is None and exact_shape and scale_axes == axes and layout.perm[-len(axes):] == tuple(axes):
        # the normalised axes are torch's trailing dims, in Keras order: torch's own layer
        shape = scale_shape[0] if len(scale_shape) == 1 else scale_shape
        ctor = nn.attr("RMSNorm")(shape, eps=eps)
        return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor, {"weight": fr.from_keras("scale")})})
    if layout.flat is not None:
        ctor = nn.attr("RMSNorm")(scale_shape[0], eps=eps)
        return fr.Fragment([fr.SelfAttr()(x)], [layout],
                           modules={"": fr.TorchModule(ctor, {"weight": fr.from_keras("scale", *transforms)})})
    # otherwise (e.g. the channels of a channels-first map): the scale as the Keras-order tensor it
    # broadcasts as, laid out like x without its batch dim, e.g. (C, 1, 1)
    full = (1,) * (rank - 1 - len(scale_shape)) + scale_shape
    perm = tuple(p - 1 for p in layout.perm[1:])
    param_shape = tuple(full[p] for p in perm)
    transforms = (fr.Reshape(full),) + ((Transpose(perm),) if perm != tuple(range(rank - 1)) else ())
    ctor = fr.Helper("RMSNormOverDims")(param_shape, dims=tuple(dims), eps=eps)
    params = {"weight": fr.from_keras("scale", *transforms)}
    return fr.Fragment([fr.SelfAttr()(x)], [layout], modules={"": fr.TorchModule(ctor, params)})

"""Reshaping layers: Flatten, Reshape, Permute, ZeroPadding/Cropping/UpSampling 1D/2D/3D.

Keras reshapes in its own (channels-last) element order (keras/src/layers/reshaping/flatten.py,
reshape.py), while feature maps here may run channels-first. Every reshape is therefore planned on
the element order itself: a permute is emitted only where the order really changes, and a permute
that only moves size-1 axes becomes a plain reshape (e.g. (N, C) -> (N, C, 1, 1) in
squeeze-and-excitation blocks). Padding, cropping and nearest upsampling remap their axes through
the layout (`Layout.torch_axis`), so they never permute either.
"""
from __future__ import annotations

import math

import keras
import numpy as np

from .. import fragment as fr
from ..context import convert_layout
from ..fragment import F, nn
from ..layout import FlatOrder, Layout, compose_to
from ..registry import FOLLOW, KERAS, SPATIAL, register
from ._padding import simplify
from .conv import check_channels_last


# ----------------------------------------------------------------------------------------------
# Layout utilities (also used by the merging family)
# ----------------------------------------------------------------------------------------------
def effective(layout: Layout) -> Layout:
    """The layout itself, or Keras order for a flat layout whose reorder is the identity.

    Flattening a channels-first map whose spatial dims are all 1 (after global pooling to
    (N, C, 1, 1), say) keeps the Keras feature order.
    """
    if layout.flat is not None and np.array_equal(layout.flat.index, np.arange(layout.flat.index.size)):
        return Layout.keras(layout.rank)
    return layout


def moves_only_unit_axes(dims: tuple[int, ...], shape: tuple) -> bool:
    """True if permuting a tensor of `shape` by `dims` keeps the element order (a reshape does it)."""
    real = [d for d in dims if shape[d] != 1]
    return real == sorted(real)


def relayout(expr: fr.Expr, src: Layout, dst: Layout, keras_shape: tuple) -> fr.Expr:
    """`expr` (a tensor of Keras shape `keras_shape` in layout src) in layout dst.

    Like context.convert_layout, but a permute that only moves size-1 axes becomes a reshape.
    """
    src, dst = effective(src), effective(dst)
    if src == dst:
        return expr
    if dst.flat is not None:
        if keras_shape[1] == 1:  # a single feature has no order
            return expr
        raise ValueError("cannot produce a flattened layout on demand")
    if src.flat is not None:
        return convert_layout(expr, src, dst)
    dims = compose_to(src, dst)
    dst_shape = dst.torch_shape(keras_shape)
    if moves_only_unit_axes(dims, src.torch_shape(keras_shape)) and None not in dst_shape[1:]:
        return _reshape_to(expr, None, dst_shape[1:])
    return convert_layout(expr, src, dst)


def permuted(expr: fr.Expr, dims: tuple[int, ...]) -> fr.Expr:
    """expr.permute(*dims), written as a transpose when it swaps two axes (as convert_layout does)."""
    moved = [i for i, d in enumerate(dims) if i != d]
    if len(moved) == 2:
        return expr.method("transpose", *moved)
    return expr.method("permute", *dims)


def _reshape_to(expr: fr.Expr, current: tuple | None, target: tuple) -> fr.Expr:
    """Reshape (batch kept) from feature shape `current` (None: unknown) to `target`."""
    if current is not None and tuple(current) == tuple(target):
        return expr
    if len(target) == 1 and (current is None or len(current) > 1):
        return expr.method("flatten", 1)
    return expr.method("reshape", -1, *target)


def out_layout_for(ctx, rank: int) -> Layout:
    """Channels-first if a spatial layer reads this node's output, else Keras order."""
    return Layout.channels_first(rank) if ctx.wants_channels_first() else Layout.keras(rank)


# ----------------------------------------------------------------------------------------------
# Flatten, Reshape, Permute
# ----------------------------------------------------------------------------------------------
@register(keras.layers.Flatten, note="channels-last order folded into the following Dense")
def convert_flatten(ctx) -> fr.Fragment:
    layout = ctx.in_layouts[0]
    rank = ctx.in_rank(0)
    if rank <= 2:
        return fr.Fragment([ctx.input(0)], [layout])
    features = ctx.in_shape(0)[1:]
    if layout.flat is None and not layout.is_keras and all(d is not None for d in features):
        order = FlatOrder(tuple(features), tuple(p - 1 for p in layout.perm[1:]))
        return fr.Fragment([ctx.input(0).method("flatten", 1)], [effective(Layout((0, 1), flat=order))])
    x = relayout(ctx.input(0), layout, Layout.keras(rank), ctx.in_shape(0))
    return fr.Fragment([x.method("flatten", 1)], [Layout.keras(2)])


def _refine(a: tuple, b: tuple):
    """Common refinement of two shapes of equal size, size-1 dims left out.

    Returns (factors, groups_a, groups_b): `factors` in row-major (Keras element) order, and for
    each axis of a (and of b) the ids of the consecutive factors it is made of; None if the shapes
    have no common refinement (e.g. (6, 4) and (4, 6)).
    """
    ax = [(i, d) for i, d in enumerate(a) if d != 1]
    bx = [(j, d) for j, d in enumerate(b) if d != 1]
    factors: list[int] = []
    ga: dict[int, list[int]] = {i: [] for i, _ in ax}
    gb: dict[int, list[int]] = {j: [] for j, _ in bx}
    i = j = 0
    x = ax[0][1] if ax else 1
    y = bx[0][1] if bx else 1
    while i < len(ax) and j < len(bx):
        f = min(x, y)
        if x % f or y % f:
            return None
        ga[ax[i][0]].append(len(factors))
        gb[bx[j][0]].append(len(factors))
        factors.append(f)
        x, y = x // f, y // f
        if x == 1:
            i += 1
            x = ax[i][1] if i < len(ax) else 1
        if y == 1:
            j += 1
            y = bx[j][1] if j < len(bx) else 1
    return factors, ga, gb


def _plan(shape: tuple, in_perm: tuple, target: tuple):
    """(factors, order_in, groups_out): the input and the target as one sequence of factors.

    order_in lists the factors in the torch input's order; groups_out gives each target axis's
    factors. The input axes are refined one by one first (the emitted shapes then read as the
    layers' own axes); failing that, input axes that stay together in torch order are merged
    (a (9, 7) block regrouped as (7, 9) moves as one).
    """
    plan = _refine(shape, target)
    if plan is not None:
        factors, g_in, g_out = plan
        return factors, [f for a in in_perm for f in g_in.get(a, [])], g_out
    blocks: list[list[int]] = []  # Keras input axes, merged where torch keeps them adjacent in order
    for a in range(len(shape)):
        if blocks and in_perm.index(a) == in_perm.index(blocks[-1][-1]) + 1:
            blocks[-1].append(a)
        else:
            blocks.append([a])
    plan = _refine(tuple(math.prod(shape[a] for a in b) for b in blocks), target)
    if plan is None:
        return None
    factors, g_in, g_out = plan
    block_of = {b[0]: k for k, b in enumerate(blocks)}
    return factors, [f for a in in_perm if a in block_of for f in g_in.get(block_of[a], [])], g_out


def _runs(order_in: list[int], order_out: list[int]) -> list[list[int]]:
    """The output's factors as maximal runs of consecutive input positions, in output order."""
    position = {f: k for k, f in enumerate(order_in)}
    runs: list[list[int]] = []
    for f in order_out:
        if runs and position[f] == runs[-1][-1] + 1:
            runs[-1].append(position[f])
        else:
            runs.append([position[f]])
    return runs


def _free_output(ctx) -> bool:
    """The output only feeds layers that take any layout at no cost (Reshape, Permute, Flatten)."""
    t = ctx.node.outputs[0]
    consumers = ctx.graph.consumers(t)
    free = (keras.layers.Reshape, keras.layers.Permute, keras.layers.Flatten)
    return t not in ctx.graph.outputs and bool(consumers) and all(issubclass(c.layer.cls, free) for c in consumers)


@register(keras.layers.Reshape, layout=KERAS,
          note="in Keras element order with at most one permute (none when only size-1 axes move); -1 allowed")
def convert_reshape(ctx) -> fr.Fragment:
    target = tuple(ctx.out_shape(0)[1:])
    rank = len(target) + 1
    layout = effective(ctx.in_layouts[0])
    if layout.flat is not None:  # a flattened permuted map: reshape its unflattened form
        shape, in_perm, flat = layout.flat.keras_shape, layout.flat.perm, True
    else:
        shape, in_perm, flat = tuple(ctx.in_shape(0)[1:]), tuple(p - 1 for p in layout.perm[1:]), False
    plan = _plan(shape, in_perm, target) if None not in shape and None not in target else None
    if plan is None:
        return _reshape_in_keras_order(ctx, target)
    factors, order_in, g_out = plan

    out_layout = out_layout_for(ctx, rank)
    if not ctx.wants_channels_first() and _free_output(ctx):
        # keep the element order (no permute) if every output axis is a run of the input's factors
        first = {a: order_in.index(g[0]) for a, g in g_out.items()}
        order = sorted(first, key=first.get)
        if len(_runs(order_in, [f for a in order for f in g_out[a]])) <= 1:
            units = [a for a in range(len(target)) if a not in g_out]
            out_layout = Layout((0, *(a + 1 for a in order + units)))
    out_perm = tuple(p - 1 for p in out_layout.perm[1:])
    torch_out = tuple(target[p] for p in out_perm)
    order_out = [f for a in out_perm for f in g_out.get(a, [])]  # torch output = factors in this order

    x = ctx.input(0)
    current = (math.prod(shape),) if flat else tuple(shape[p] for p in in_perm)
    if len(_runs(order_in, order_out)) > 1:
        # one permute of the factors (not merged: the shapes then read as the layers' axes)
        middle = tuple(factors[f] for f in order_in)
        x = permuted(_reshape_to(x, current, middle), (0, *(order_in.index(f) + 1 for f in order_out)))
        current = tuple(factors[f] for f in order_out)
    return fr.Fragment([_reshape_to(x, current, torch_out)], [out_layout])


def _reshape_in_keras_order(ctx, target: tuple) -> fr.Fragment:
    """Unknown sizes (or no common refinement): Keras order, reshape, then the output layout."""
    out_layout = out_layout_for(ctx, len(target) + 1)
    x, in_layout = ctx.input_unflattened(0)
    x = relayout(x, in_layout, Layout.keras(ctx.in_rank(0)), ctx.in_shape(0))
    spec = tuple(-1 if d is None else d for d in target)
    if spec.count(-1) > 1:
        raise ctx.unsupported(f"cannot reshape to {target} with unknown input sizes", "give the input a static shape")
    if -1 in spec:  # batch size and one inferred dim: unflatten infers one
        x = (x if ctx.in_rank(0) == 2 else x.method("flatten", 1)).method("unflatten", 1, spec)
    else:
        x = _reshape_to(x, None, spec)
    return fr.Fragment([relayout(x, Layout.keras(len(target) + 1), out_layout, ctx.out_shape(0))], [out_layout])


@register(keras.layers.Permute, layout=KERAS, note="composed with the input layout into at most one permute")
def convert_permute(ctx) -> fr.Fragment:
    # keras_out = keras_in.transpose((0, *dims)), dims 1-indexed (keras/src/layers/reshaping/permute.py)
    dims = (0, *(int(d) for d in ctx.get("dims")))
    layout = effective(ctx.in_layouts[0])
    if dims == tuple(range(len(dims))):
        return fr.Fragment([ctx.input(0)], [layout])
    x, layout = ctx.input_unflattened(0)
    if not ctx.wants_channels_first() and _free_output(ctx):
        # the next layer takes any layout: relabel the axes instead of moving data
        return fr.Fragment([x], [Layout(tuple(dims.index(a) for a in layout.perm))])
    out_layout = out_layout_for(ctx, len(dims))
    # torch_out = keras_out.transpose(out.perm) = keras_in.transpose(dims[out.perm]): a layout of the input
    as_input_layout = Layout(tuple(dims[p] for p in out_layout.perm))
    return fr.Fragment([relayout(x, layout, as_input_layout, ctx.in_shape(0))], [out_layout])


# ----------------------------------------------------------------------------------------------
# ZeroPadding, Cropping, UpSampling
# ----------------------------------------------------------------------------------------------
def _pairs(value, n: int, what: str, ctx) -> tuple[tuple[int, int], ...]:
    """Keras' padding/cropping forms: int, n ints (symmetric), n pairs; 1D: int or one pair."""
    if isinstance(value, int):
        return ((value, value),) * n
    value = tuple(value)
    if n == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (tuple(value),)
    if len(value) == n:
        return tuple((v, v) if isinstance(v, int) else (int(v[0]), int(v[1])) for v in value)
    raise ctx.unsupported(f"cannot read {what}={value!r}")


def _sizes(value, n: int) -> tuple[int, ...]:
    return (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)


def _spatial_trailing(layout: Layout, n: int) -> bool:
    """The n spatial axes are the torch tensor's last n, in order: torch's (N, C, *spatial)."""
    return layout.flat is None and layout.perm[-n:] == tuple(range(1, n + 1))


def torch_pad(layout: Layout, pads) -> tuple[int, ...]:
    """F.pad's argument (last torch dim first) for Keras spatial pads ((before, after) per dim)."""
    by_axis = {layout.torch_axis(k + 1): p for k, p in enumerate(pads)}
    out: list[int] = []
    for axis in range(layout.rank - 1, min(by_axis) - 1, -1):
        out += by_axis.get(axis, (0, 0))
    return tuple(out)


@register(keras.layers.ZeroPadding1D, layout=FOLLOW, note="on sequences or channels-first maps, no permute")
@register(keras.layers.ZeroPadding2D, keras.layers.ZeroPadding3D, layout=SPATIAL, note="int, pair or pair-of-pairs forms")
def convert_zero_padding(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    pads = _pairs(ctx.get("padding"), n, "padding", ctx)
    layout = ctx.in_layouts[0]
    if not any(a or b for a, b in pads):
        return fr.Fragment([ctx.input(0)], [layout])
    arg = torch_pad(layout, pads)
    if _spatial_trailing(layout, n):  # (N, C, *spatial): torch's own padding layer
        ctor = nn.attr(f"ZeroPad{n}d")(simplify(arg))
        return fr.Fragment([fr.SelfAttr()(ctx.input(0))], [layout], modules={"": fr.TorchModule(ctor)})
    return fr.Fragment([F.attr("pad")(ctx.input(0), arg)], [layout])


@register(keras.layers.Cropping1D, layout=FOLLOW, note="on sequences or channels-first maps, no permute")
@register(keras.layers.Cropping2D, keras.layers.Cropping3D, layout=SPATIAL, note="int, pair or pair-of-pairs forms")
def convert_cropping(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    crops = _pairs(ctx.get("cropping"), n, "cropping", ctx)
    layout = ctx.in_layouts[0]
    index = [slice(None)] * layout.rank
    for k, (before, after) in enumerate(crops):  # inputs[:, b:-a] with a == 0 meaning "to the end"
        index[layout.torch_axis(k + 1)] = slice(before or None, -after if after else None)
    while index and index[-1] == slice(None):
        index.pop()
    if len(index) <= 1:
        return fr.Fragment([ctx.input(0)], [layout])
    return fr.Fragment([ctx.input(0)[tuple(index)]], [layout])


@register(keras.layers.UpSampling1D, layout=FOLLOW, note="nearest (repeat) on sequences or channels-first maps")
@register(keras.layers.UpSampling2D, keras.layers.UpSampling3D, layout=SPATIAL,
          note="nearest; UpSampling2D also bilinear (half-pixel, align_corners=False)")
def convert_up_sampling(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    n = ctx.in_rank(0) - 2
    sizes = _sizes(ctx.get("size"), n)
    interpolation = str(ctx.get("interpolation", "nearest")).lower()
    layout = ctx.in_layouts[0]
    if interpolation == "bilinear":
        # ops.image.resize -> tf.image.resize: half-pixel centers, no antialias when upsampling
        # (keras/src/layers/reshaping/up_sampling2d.py, keras/src/backend/tensorflow/image.py)
        if not _spatial_trailing(layout, n):
            layout = Layout.channels_first(n + 2)
        ctor = nn.attr("Upsample")(scale_factor=simplify(sizes), mode="bilinear", align_corners=False)
        return fr.Fragment([fr.SelfAttr()(ctx.input(0, layout))], [layout], modules={"": fr.TorchModule(ctor)})
    if interpolation != "nearest":
        raise ctx.unsupported(f"interpolation={interpolation!r} is not supported", "use 'nearest' or 'bilinear'")
    # Keras repeats each element (ops.repeat), exactly what nearest upsampling does with integer factors.
    if all(s == 1 for s in sizes):
        return fr.Fragment([ctx.input(0)], [layout])
    if _spatial_trailing(layout, n):
        # torch 'nearest' samples floor(i * (1/s)) in float32, wrong for factors like 41 whose
        # reciprocal rounds down; 'nearest-exact' samples floor((i + 0.5) / s), the same pixels and
        # robust. Powers of two have exact reciprocals, so plain 'nearest' is exact for them.
        exact = all(s & (s - 1) == 0 for s in sizes)
        ctor = nn.attr("Upsample")(scale_factor=simplify(sizes), mode="nearest" if exact else "nearest-exact")
        return fr.Fragment([fr.SelfAttr()(ctx.input(0))], [layout], modules={"": fr.TorchModule(ctor)})
    x = ctx.input(0)
    for k, s in enumerate(sizes):
        if s != 1:
            x = x.method("repeat_interleave", s, dim=layout.torch_axis(k + 1))
    return fr.Fragment([x], [layout])


# ----------------------------------------------------------------------------------------------
# RepeatVector
# ----------------------------------------------------------------------------------------------
@register(keras.layers.RepeatVector, note="(N, D) -> (N, n, D) by repeat (channels-first (N, D, n) when a conv reads it)")
def convert_repeat_vector(ctx) -> fr.Fragment:
    # keras/src/layers/reshaping/repeat_vector.py: reshape to (N, 1, D), then repeat n times on axis 1
    n = int(ctx.get("n"))
    x = ctx.input_keras(0)  # a flattened feature order goes back to Keras order: the features become an axis
    if ctx.wants_channels_first():
        return fr.Fragment([x.method("unsqueeze", 2).method("repeat", 1, 1, n)], [Layout.channels_first(3)])
    return fr.Fragment([x.method("unsqueeze", 1).method("repeat", 1, n, 1)], [Layout.keras(3)])

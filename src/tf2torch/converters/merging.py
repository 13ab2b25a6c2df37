"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

Inputs may arrive in different layouts (a channels-first conv output beside a Keras-order
tensor): they are brought to the layout most of them already have (on a tie, the one the
consumers want, then the first input's), so that only the odd ones out are permuted. Inputs of
lower rank broadcast the Keras way: Keras inserts the missing axes right after the batch axis
(keras/src/layers/merging/base_merge.py, Merge.call), not on the left as torch would, so they are
expanded explicitly (`x[:, :, None, None]`).
"""
from __future__ import annotations

from collections import Counter
from functools import reduce

import keras

from .. import fragment as fr
from ..fragment import torch
from ..layout import Layout
from ..registry import register
from .reshaping import effective, relayout

# Layers after which a Keras mask may travel to a merge; Multiply/Maximum/Minimum change values
# under a mask (keras/src/layers/merging/multiply.py, base_merge._apply_merge_op_and_or_mask).
def _makes_mask(layer) -> bool:
    return issubclass(layer.cls, keras.layers.Masking) or (
        issubclass(layer.cls, keras.layers.Embedding) and bool(layer.config.get("mask_zero")))


def common_layout(ctx, rank: int) -> Layout:
    """The layout the merged tensors are brought to: the most common among the full-rank inputs.

    Ties go to the layout the consumers want, then to the first input's.
    """
    layouts = [effective(l) for i, l in enumerate(ctx.in_layouts) if ctx.in_rank(i) == rank]
    if all(l == layouts[0] for l in layouts):
        return layouts[0]  # flat layouts included: element-wise ops keep a shared feature order
    plain = [Layout.keras(rank) if l.flat is not None else l for l in layouts]
    counts = Counter(plain)
    wanted = Layout.channels_first(rank) if ctx.wants_channels_first() else Layout.keras(rank)
    return max(plain, key=lambda l: (counts[l], l == wanted, -plain.index(l)))


def aligned_input(ctx, i: int, target: Layout) -> fr.Expr:
    """Input i in layout `target`; a lower-rank input gets Keras' size-1 axes after the batch axis."""
    layout, shape, rank = ctx.in_layouts[i], ctx.in_shape(i), ctx.in_rank(i)
    if rank == target.rank:
        return relayout(ctx.input(i), layout, target, shape)
    if rank > target.rank:
        raise AssertionError("target layout has the largest rank")
    inserted = target.rank - rank  # Keras axes 1..inserted are new; axis a > inserted was input axis a - inserted
    source_axis = {a: (0 if a == 0 else a - inserted) for a in range(target.rank) if a == 0 or a > inserted}
    induced = Layout(tuple(source_axis[a] for a in target.perm if a in source_axis))
    x, layout = ctx.input_unflattened(i)
    x = relayout(x, layout, induced, shape)
    index = [None if a not in source_axis else slice(None) for a in target.perm]
    while index[-1] == slice(None):
        index.pop()
    return x[tuple(index)]


def _refuse_masks(ctx) -> None:
    seen, todo = set(), list(ctx.node.inputs)
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        producer = ctx.graph.tensors[t].producer
        if producer is None:
            continue
        node = ctx.graph.nodes[producer]
        if _makes_mask(node.layer):
            raise ctx.unsupported("inputs may carry a Keras mask, which changes this merge's values at masked steps",
                                  f"mask source: {node.layer.name}; remove the mask or merge with Add/Concatenate")
        todo += node.inputs


def _elementwise(ctx, combine) -> fr.Fragment:
    rank = max(ctx.in_rank(i) for i in range(len(ctx.inputs)))
    target = common_layout(ctx, rank)
    xs = [aligned_input(ctx, i, target) for i in range(len(ctx.inputs))]
    return fr.Fragment([combine(xs)], [target])


@register(keras.layers.Add, note="a + b + ...; Keras broadcasting of lower-rank inputs")
def convert_add(ctx) -> fr.Fragment:
    return _elementwise(ctx, lambda xs: reduce(lambda a, b: a + b, xs))


@register(keras.layers.Subtract, note="a - b")
def convert_subtract(ctx) -> fr.Fragment:
    return _elementwise(ctx, lambda xs: xs[0] - xs[1])


@register(keras.layers.Multiply, note="a * b * ...; refused under Keras masks")
def convert_multiply(ctx) -> fr.Fragment:
    _refuse_masks(ctx)
    return _elementwise(ctx, lambda xs: reduce(lambda a, b: a * b, xs))


@register(keras.layers.Average, note="(a + b + ...) / n")
def convert_average(ctx) -> fr.Fragment:
    # sum left to right, then divide by the count (keras/src/layers/merging/average.py)
    return _elementwise(ctx, lambda xs: reduce(lambda a, b: a + b, xs) / len(xs))


@register(keras.layers.Maximum, note="torch.maximum, folded left; refused under Keras masks")
def convert_maximum(ctx) -> fr.Fragment:
    _refuse_masks(ctx)
    return _elementwise(ctx, lambda xs: reduce(lambda a, b: torch.attr("maximum")(a, b), xs))


@register(keras.layers.Minimum, note="torch.minimum, folded left; refused under Keras masks")
def convert_minimum(ctx) -> fr.Fragment:
    _refuse_masks(ctx)
    return _elementwise(ctx, lambda xs: reduce(lambda a, b: torch.attr("minimum")(a, b), xs))


@register(keras.layers.Concatenate, note="torch.cat on the remapped axis (any axis, negative included)")
def convert_concatenate(ctx) -> fr.Fragment:
    rank = ctx.in_rank(0)
    axis = int(ctx.get("axis", -1))
    target = common_layout(ctx, rank)
    if target.flat is not None and axis % rank != 0:  # one feature order cannot describe the result
        target = Layout.keras(rank)
    xs = [aligned_input(ctx, i, target) for i in range(len(ctx.inputs))]
    # keep a negative axis as written when the tensors are in Keras order (dim=-1 reads naturally)
    dim = axis if target.is_keras and axis < 0 else target.torch_axis(axis)
    return fr.Fragment([torch.attr("cat")(xs, dim=dim)], [target])

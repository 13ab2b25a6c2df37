"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

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
from ..fragment import F, torch
from ..layout import Layout
from ..registry import register
from .reshaping import effective, relayout

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


@register(keras.layers.Multiply, note="a * b * ...; under Keras masks, masked steps count as 1 and are zeroed after (as Keras)")
def convert_multiply(ctx) -> fr.Fragment:
    return _masked_merge(ctx, _multiply_masked, lambda xs: reduce(lambda a, b: a * b, xs))


@register(keras.layers.Average, note="(a + b + ...) / n")
def convert_average(ctx) -> fr.Fragment:
    # sum left to right, then divide by the count (keras/src/layers/merging/average.py)
    return _elementwise(ctx, lambda xs: reduce(lambda a, b: a + b, xs) / len(xs))


@register(keras.layers.Maximum, note="torch.maximum, folded left; Keras masks as base_merge (masked steps take the other input)")
def convert_maximum(ctx) -> fr.Fragment:
    fold = lambda a, b: torch.attr("maximum")(a, b)
    return _masked_merge(ctx, lambda xs, masks, steps: _fold_or_masks(fold, xs, masks, steps),
                         lambda xs: reduce(fold, xs))


@register(keras.layers.Minimum, note="torch.minimum, folded left; Keras masks as base_merge (masked steps take the other input)")
def convert_minimum(ctx) -> fr.Fragment:
    fold = lambda a, b: torch.attr("minimum")(a, b)
    return _masked_merge(ctx, lambda xs, masks, steps: _fold_or_masks(fold, xs, masks, steps),
                         lambda xs: reduce(fold, xs))


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


@register(keras.layers.Dot, note="batch dot: (a * b).sum for vectors, torch.matmul for rank 3, torch.einsum otherwise; "
                                "normalize=True: F.normalize with Keras' epsilon first")
def convert_dot(ctx) -> fr.Fragment:
    # keras/src/layers/merging/dot.py: Dot._merge_function and batch_dot. Negative axes count from
    # each input's own rank; normalize=True is ops.normalize(x, axis) with epsilon keras.config.epsilon()
    # (x * min(rsqrt(sum x^2), 1 / eps): F.normalize's x / max(norm, eps)).
    ranks = [ctx.in_rank(0), ctx.in_rank(1)]
    value = ctx.get("axes")
    pair = [value, value] if isinstance(value, int) else list(value)
    axes = [int(a) % r for a, r in zip(pair, ranks)]
    if 0 in axes:
        raise ctx.unsupported("a dot product over the batch axis is not supported")
    flat_pair = ranks == [2, 2] and ctx.in_layouts[0] == ctx.in_layouts[1]  # same feature order: the sum ignores it
    xs = [ctx.input(i) if flat_pair else ctx.input_keras(i) for i in range(2)]
    if ctx.get("normalize", False):
        eps = float(keras.config.epsilon())
        xs = [F.attr("normalize")(x, dim=-1 if a == r - 1 else a, eps=eps) for x, a, r in zip(xs, axes, ranks)]
    a, b = xs
    if ranks == [2, 2]:  # batch_dot makes (N, 1, D) @ (N, D, 1), then squeezes to (N, 1)
        y = (a * b).method("sum", -1, keepdim=True)
    elif ranks == [3, 3]:  # batch_dot: a's summed axis last, b's at 1, then matmul
        a = a if axes[0] == 2 else a.method("transpose", 1, 2)
        b = b if axes[1] == 1 else b.method("transpose", 1, 2)
        y = torch.attr("matmul")(a, b)
    else:  # the output axes: a's kept axes, then b's (batch_dot's reshapes and squeezes)
        letters = iter("ijklmnopqrstuvwxy")  # b: batch, z: the summed axis
        sa = ["b"] + [next(letters) for _ in range(ranks[0] - 1)]
        sb = ["b"] + [next(letters) for _ in range(ranks[1] - 1)]
        sb[axes[1]] = sa[axes[0]] = "z"
        out = sa[:1] + [c for k, c in enumerate(sa) if k not in (0, axes[0])] + [c for k, c in enumerate(sb) if k not in (0, axes[1])]
        y = torch.attr("einsum")(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)
    return fr.Fragment([y], [Layout.keras(len(ctx.out_shape(0)))])


# ----------------------------------------------------------------------------------------------
# Merges whose values depend on the Keras masks of their inputs (read as `_keras_mask`, not as a
# call argument): Multiply (keras/src/layers/merging/multiply.py) and Maximum/Minimum
# (base_merge.py, _apply_merge_op_and_or_mask). Add, Subtract, Average and Concatenate only pass
# masks on (compute_mask): their values ignore them.
# ----------------------------------------------------------------------------------------------
def _masked_merge(ctx, masked, plain) -> fr.Fragment:
    """`plain(xs)` without masks, else `masked(xs, masks, steps)` (masks broadcast against xs)."""
    rank = max(ctx.in_rank(i) for i in range(len(ctx.inputs)))
    # Merge.call first expands the lower-rank inputs (ops.expand_dims): those new tensors carry no
    # _keras_mask, so only the masks of full-rank inputs count
    masks = [ctx.input_mask(i) if ctx.in_rank(i) == rank else None for i in range(len(ctx.inputs))]
    if all(m is None for m in masks):
        return _elementwise(ctx, plain)
    target = common_layout(ctx, rank)
    if not (target.is_keras or target.is_channels_first):
        target = Layout.keras(rank)
    xs = [aligned_input(ctx, i, target) for i in range(len(ctx.inputs))]
    # Keras: broadcast_to(expand_dims(mask, -1), shape(x)); here a size-1 axis where the features are
    feature_dim = target.torch_axis(rank - 1)
    feature_dim = -1 if feature_dim == rank - 1 else feature_dim
    steps: list = []
    expanded = []
    for i, m in enumerate(masks):
        if m is None:
            expanded.append(None)
            continue
        local = fr.Local(f"mask_{_letter(i)}")  # keys name the temporaries: unique in a fragment
        steps.append((local, m.method("unsqueeze", feature_dim)))
        expanded.append(local)
    y = masked(xs, expanded, steps)
    return fr.Fragment([y], [target], steps=steps, description="merged under Keras masks")


def _multiply_masked(xs, masks, steps) -> fr.Expr:
    """multiply.py: masked steps of each input count as 1; if every input has a mask, the product
    is zeroed where no input is unmasked."""
    factors = [x if m is None else torch.attr("where")(m, x, 1.0) for x, m in zip(xs, masks)]
    product = reduce(lambda a, b: a * b, factors)
    if any(m is None for m in masks):
        return product
    return torch.attr("where")(reduce(lambda a, b: fr.BinOp("|", a, b), masks), product, 0.0)


def _letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i] if i < 26 else f"x{i}"


def _fold_or_masks(op, xs, masks, steps) -> fr.Expr:
    """base_merge._apply_merge_op_and_or_mask, step for step: a masked step of the next input takes
    the running output's value, then a masked step of the running output takes the next input's;
    the running mask is the OR of the masks (None as soon as one input has none)."""
    def local(key: str, expr: fr.Expr) -> fr.Local:
        steps.append((fr.Local(key), expr))
        return steps[-1][0]

    output, output_mask = xs[0], masks[0]
    last = len(xs) - 1
    for k in range(1, len(xs)):
        x, mask = xs[k], masks[k]
        seen = "".join(_letter(i) for i in range(k))  # the inputs merged into `output` so far
        if mask is not None:
            x = local(_letter(k), torch.attr("where")(mask, x, output))
        if output_mask is not None:
            output = local(seen, torch.attr("where")(output_mask, output, x))
        if mask is not None and output_mask is not None and k < last:
            output_mask = local(f"mask_{seen}{_letter(k)}", fr.BinOp("|", output_mask, mask))
        else:
            output_mask = None
        output = op(output, x)
        if k < last and (masks[k + 1] is not None or output_mask is not None):
            output = local(f"merged_{seen}{_letter(k)}", output)  # read again by the next input's where
    return output

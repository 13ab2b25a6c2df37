"""TensorFlow 'SAME' padding arithmetic shared by the conv and pooling families."""
from __future__ import annotations

import math

from .. import fragment as fr


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding TF uses for 'SAME' on one dim (extra pixel after)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def static_same_pads(spatial: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> list[tuple[int, int]] | None:
    """Per spatial dim pads; None if they depend on a dynamic input size (stride > 1)."""
    if all(st == 1 for st in stride):  # stride 1: total (k - 1) * d whatever the size
        totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    if any(s is None for s in spatial):
        return None
    return [same_pads(s, k, st, d) for s, k, st, d in zip(spatial, kernel, stride, dilation)]


def torch_pad_arg(pads: list[tuple[int, int]]) -> tuple[int, ...]:
    """F.pad's argument: last dim first."""
    out: list[int] = []
    for before, after in reversed(pads):
        out += [before, after]
    return tuple(out)


def padded_input(x: fr.Expr, spatial, kernel, stride, dilation, value: float = 0.0):
    """Return (expr, torch_padding) reproducing TF 'SAME' padding for a channels-first input.

    Symmetric static pads become the layer's own `padding` argument (plain torch layer); static
    asymmetric pads an explicit F.pad; dynamic sizes the inline pad_same helper.
    """
    pads = static_same_pads(spatial, kernel, stride, dilation)
    if pads is None:
        args = [x, tuple(kernel), tuple(stride), tuple(dilation)]
        call = fr.Helper("pad_same")(*args, value=value) if value else fr.Helper("pad_same")(*args)
        return call, 0
    if all(b == a for b, a in pads):
        sym = tuple(b for b, _ in pads)
        return x, (sym[0] if len(set(sym)) == 1 else sym)
    kwargs = {"value": value} if value else {}
    return fr.F.attr("pad")(x, torch_pad_arg(pads), **kwargs), 0


def as_tuple(value, n: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def simplify(value: tuple):
    """(3, 3) -> 3 for readable constructor arguments."""
    return value[0] if len(set(value)) == 1 else tuple(value)

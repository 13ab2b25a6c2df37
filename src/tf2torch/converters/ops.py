"""keras.ops operations used as nodes of a functional graph (`x * 2.0 + b`, `ops.mean(x, 1)`, `x[:, 0]`).

A node's Keras class is the op class (keras.src.ops.numpy.Add, ...); its config holds the op's
attributes (axis, keepdims, ...) and node.args / node.kwargs its call arguments, graph tensors
replaced by TensorRef placeholders and constants kept as Python values or numpy arrays.

Semantics are those of the TensorFlow backend, keras/src/backend/tensorflow/{numpy,nn,math,core}.py:
binary ops convert both operands to `dtypes.result_type(...)` first (Python scalars are weak
types), comparisons convert Python scalars to tensors first (not weak), reductions follow jax's
dtype rules (sum of bool -> int32, mean of int -> float32).

Layouts: element-wise ops follow their widest operand's layout; a lower-rank operand is aligned
on the trailing Keras axes (numpy broadcasting) by indexing it with None in the torch layout;
numpy constants become buffers laid out like the tensor they meet. Axis arguments are remapped
through the layout; only order-dependent ops (reshape) ask for the Keras layout.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from keras.src.backend.common import dtypes as keras_dtypes
from keras.src.ops import core as kcore
from keras.src.ops import math as kmath
from keras.src.ops import nn as knn
from keras.src.ops import numpy as knp

from .. import fragment as fr
from ..context import convert_layout
from ..fragment import F, torch
from ..ir import TensorRef
from ..layout import FlatOrder, Layout, inverse
from ..registry import KERAS, register


# ----------------------------------------------------------------------------------------------
# Call arguments
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _T:
    """A graph tensor among the call arguments: the node's input number `index`."""

    index: int


def _arguments(ctx) -> dict:
    """The op's call arguments by parameter name, graph tensors as _T (in node.inputs order)."""
    count = iter(range(len(ctx.node.inputs)))

    def mark(v):  # same traversal order as the front-end's substitution (args, then kwargs)
        if isinstance(v, TensorRef):
            return _T(next(count))
        if isinstance(v, (list, tuple)):
            return type(v)(mark(i) for i in v)
        if isinstance(v, dict):
            return {k: mark(i) for k, i in v.items()}
        return v

    args, kwargs = mark(tuple(ctx.node.args)), mark(dict(ctx.node.kwargs))
    bound = inspect.signature(ctx.layer.cls.call).bind(None, *args, **kwargs)
    bound.apply_defaults()
    return {k: v for k, v in list(bound.arguments.items())[1:]}


def _scalar(v):
    """A Python number for scalars (numpy scalars and 0-d arrays included), else None."""
    if isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return np.asarray(v).item()
    return None


def _dtype(name: str) -> fr.Expr:
    return fr.Ref(f"torch.{name}")


def _cast(expr: fr.Expr, have: str, want: str | None) -> fr.Expr:
    return expr if want is None or have == want else expr.method("to", _dtype(want))


def _dim(layout: Layout, axis: int) -> int:
    """torch dim of Keras `axis`, written -1 when a negative Keras axis lands on the last dim."""
    d = layout.torch_axis(axis)
    return -1 if axis < 0 and d == layout.rank - 1 else d


def _axes(axis, rank: int) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted({a % rank for a in axis}))


def _drop(perm: tuple[int, ...], removed) -> Layout:
    """The layout left when Keras axes `removed` disappear from a tensor laid out as `perm`."""
    keep = [a for a in perm if a not in removed]
    return Layout(tuple(a - sum(r < a for r in removed) for a in keep))


def _prefer(ctx, rank: int) -> Layout:
    return Layout.channels_first(rank) if ctx.wants_channels_first(0) else Layout.keras(rank)


def _place(kept: list[int], new: list[int], prefer: Layout) -> list[int]:
    """torch order of output axes when size-1 axes `new` join the kept ones (in torch order `kept`).

    A size-1 axis can go anywhere for free: take `prefer` if the kept axes already run in its
    order, else put each new axis before the kept axis that follows it in Keras order.
    """
    if [a for a in prefer.perm if a not in new] == kept:
        return list(prefer.perm)
    order = list(kept)
    for n in sorted(new):
        later = [a for a in kept if a > n]
        order.insert(order.index(min(later)), n) if later else order.append(n)
    return order


# ----------------------------------------------------------------------------------------------
# Element-wise operands: layouts, broadcasting, constants, dtypes
# ----------------------------------------------------------------------------------------------
def _align(ctx, i: int, layout: Layout) -> fr.Expr:
    """Lower-rank input i, indexed to broadcast against `layout` (numpy rules: trailing axes)."""
    rank = ctx.in_rank(i)
    offset = layout.rank - rank
    expr = ctx.input(i, Layout(tuple(a - offset for a in layout.perm if a >= offset)))
    index = [slice(None) if a >= offset else None for a in layout.perm]
    while index and index[0] is None:  # leading new axes: torch broadcasting adds them
        index.pop(0)
    while index and index[-1] == slice(None):
        index.pop()
    return expr[tuple(index) if len(index) > 1 else index[0]] if None in index else expr


def _constant_buffer(value: np.ndarray, layout: Layout, dtype: str, strip: bool) -> fr.Buffer:
    """A numpy constant as a buffer laid out like a tensor in `layout` (numpy broadcasting)."""
    value = value.reshape((1,) * (layout.rank - value.ndim) + value.shape).transpose(layout.perm)
    if strip:  # leading 1s are implied by broadcasting against a full-rank tensor
        while value.ndim and value.shape[0] == 1:
            value = value[0]
    value = np.ascontiguousarray(value.astype(dtype))
    return fr.Buffer(fr.constant(value), tuple(value.shape), dtype)


@dataclass
class _Operands:
    exprs: list  # one per value: tensor expression, literal, or buffer reference
    layout: Layout
    buffers: dict


def _elementwise(ctx, values: list, dtypes: list, names: list | None = None) -> _Operands:
    """Operands of an element-wise op in one torch layout.

    `dtypes[i]` is the dtype value i is computed in (None: leave it). Tensors of the output rank
    share the layout of the first of them (channels-first if wanted and available); lower-rank
    tensors and numpy constants are aligned on the trailing Keras axes.
    """
    rank = len(ctx.out_shape(0))
    full = [v for v in values if isinstance(v, _T) and ctx.in_rank(v.index) == rank]
    arrays = [v for v in values if isinstance(v, np.ndarray) and _scalar(v) is None]
    layout = Layout.keras(rank)
    if full:
        layouts = [ctx.in_layouts[v.index] for v in full]
        layout = layouts[0]
        if ctx.wants_channels_first(0) and Layout.channels_first(rank) in layouts:
            layout = Layout.channels_first(rank)
        lower_rank = len(full) < sum(isinstance(v, _T) for v in values)
        if layout.flat is not None and (any(l != layout for l in layouts) or arrays or lower_rank):
            layout = Layout.keras(rank)  # a constant or another tensor meets reordered features
    exprs, buffers = [], {}
    for i, v in enumerate(values):
        want = dtypes[i]
        if isinstance(v, _T):
            have = ctx.inputs[v.index].dtype
            if ctx.in_rank(v.index) == rank:
                exprs.append(_cast(ctx.input(v.index, layout), have, want))
            else:
                exprs.append(_cast(_align(ctx, v.index, layout), have, want))
        elif _scalar(v) is not None:
            exprs.append(_scalar(v))
        elif isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
            if v.size == 1 and v.ndim <= rank:
                exprs.append(v.item())
                continue
            key = "" if not buffers else (names[i] if names else f"c{i}")
            buffers[key] = _constant_buffer(v, layout, want or v.dtype.name, strip=bool(full))
            exprs.append(fr.SelfAttr(key))
        else:
            raise ctx.unsupported(f"operand of type {type(v).__name__} is not supported",
                                  "use graph tensors, Python numbers or numpy arrays")
    return _Operands(exprs, layout, buffers)


def _operand_dtype(ctx, v) -> str:
    """The dtype Keras converts an operand to before a comparison (Python numbers are not weak)."""
    if isinstance(v, _T):
        return ctx.inputs[v.index].dtype
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):  # backend convert_to_tensor: int32 / floatx
        return "int32" if isinstance(v, int) else "float32"
    return np.asarray(v).dtype.name


# ----------------------------------------------------------------------------------------------
# Binary arithmetic and comparisons
# ----------------------------------------------------------------------------------------------
_OPERATORS = {
    knp.Add: "+", knp.Subtract: "-", knp.Multiply: "*", knp.Divide: "/", knp.TrueDivide: "/",
    knp.Power: "**", knp.FloorDivide: "//", knp.Mod: "%",
}
_COMPARISONS = {
    knp.Greater: ">", knp.GreaterEqual: ">=", knp.Less: "<", knp.LessEqual: "<=",
    knp.Equal: "==", knp.NotEqual: "!=",
}


@register(*_OPERATORS, note="tensors, Python numbers and numpy constants (buffers), numpy broadcasting")
def convert_arithmetic(ctx) -> fr.Fragment:
    # keras/src/backend/tensorflow/numpy.py add/divide/power/...: both operands are converted
    # to the result dtype (the node's output dtype) before the op; Python scalars stay weak.
    args = _arguments(ctx)
    out = ctx.outputs[0].dtype
    ops = _elementwise(ctx, [args["x1"], args["x2"]], [out, out], ["x1", "x2"])
    a, b = (fr.lift(e) for e in ops.exprs)
    return fr.Fragment([fr.BinOp(_OPERATORS[ctx.layer.cls], a, b)], [ops.layout], buffers=ops.buffers)


@register(*_COMPARISONS, note="tensors, Python numbers and numpy constants; result bool")
def convert_comparison(ctx) -> fr.Fragment:
    # keras/src/backend/tensorflow/numpy.py greater/...: convert_to_tensor both (Python floats
    # become float32 tensors, not weak), then cast both to their result_type.
    args = _arguments(ctx)
    values = [args["x1"], args["x2"]]
    compute = keras_dtypes.result_type(*(_operand_dtype(ctx, v) for v in values))
    ops = _elementwise(ctx, values, [compute, compute], ["x1", "x2"])
    a, b = (fr.lift(e) for e in ops.exprs)
    return fr.Fragment([fr.BinOp(_COMPARISONS[ctx.layer.cls], a, b)], [ops.layout], buffers=ops.buffers)


@register(knp.Maximum, knp.Minimum, note="with tensors or numbers (numbers become clamp bounds)")
def convert_maximum(ctx) -> fr.Fragment:
    args = _arguments(ctx)
    out = ctx.outputs[0].dtype
    ops = _elementwise(ctx, [args["x1"], args["x2"]], [out, out], ["x1", "x2"])
    a, b = ops.exprs
    is_max = ctx.layer.cls is knp.Maximum
    if not isinstance(a, fr.Expr):
        a, b = b, a
    if not isinstance(b, fr.Expr):  # a Python number: a clamp bound
        y = torch.attr("clamp")(a, **{("min" if is_max else "max"): b})
    else:
        y = torch.attr("maximum" if is_max else "minimum")(a, b)
    return fr.Fragment([y], [ops.layout], buffers=ops.buffers)


@register(knp.LogicalAnd, knp.LogicalOr, knp.LogicalXor, note="operands cast to bool")
def convert_logical(ctx) -> fr.Fragment:
    args = _arguments(ctx)  # tensorflow/numpy.py logical_and: tf.cast(x, "bool") on both
    if not all(isinstance(v, _T) for v in (args["x1"], args["x2"])):
        raise ctx.unsupported("logical ops with constant operands are not supported", "compare two tensors")
    same = ctx.node.inputs[args["x1"].index] == ctx.node.inputs[args["x2"].index]
    if same and ctx.layer.cls is not knp.LogicalXor and ctx.inputs[0].dtype == "bool":
        # a and a, a or a: Keras' merges combine the masks of their inputs, often one mask twice
        return fr.Fragment([ctx.input(0)], [ctx.in_layouts[0]])
    ops = _elementwise(ctx, [args["x1"], args["x2"]], [None, None])  # torch.logical_* read nonzero as True
    name = {knp.LogicalAnd: "logical_and", knp.LogicalOr: "logical_or", knp.LogicalXor: "logical_xor"}[ctx.layer.cls]
    return fr.Fragment([torch.attr(name)(*ops.exprs)], [ops.layout])


@register(knp.Where, note="where(condition, x1, x2) with tensors, numbers or numpy constants")
def convert_where(ctx) -> fr.Fragment:
    # tensorflow/numpy.py where: condition cast to bool; x1, x2 to their result dtype
    args = _arguments(ctx)
    if args["x1"] is None or args["x2"] is None:
        raise ctx.unsupported("where(condition) without x1, x2 returns indices (dynamic shape)",
                              "use where(condition, x1, x2)")
    out = ctx.outputs[0].dtype
    values = [args["condition"], args["x1"], args["x2"]]
    ops = _elementwise(ctx, values, ["bool", out, out], ["condition", "x1", "x2"])
    cond, a, b = ops.exprs
    if not isinstance(cond, fr.Expr):
        raise ctx.unsupported("a constant condition is not supported", "select in Python instead")
    y = torch.attr("where")(cond, a, b)
    numbers = not isinstance(a, fr.Expr) and not isinstance(b, fr.Expr)
    if numbers and not (out == "float32" and {type(a), type(b)} == {float}):
        y = y.method("to", _dtype(out))  # torch.where on two Python numbers picks int64/float32
    return fr.Fragment([y], [ops.layout], buffers=ops.buffers)


# ----------------------------------------------------------------------------------------------
# Unary element-wise ops and activations
# ----------------------------------------------------------------------------------------------
_UNARY = {
    knp.Absolute: torch.attr("abs"), knp.Abs: torch.attr("abs"), knp.Square: torch.attr("square"),
    knp.Sqrt: torch.attr("sqrt"), knp.Exp: torch.attr("exp"), knp.Log: torch.attr("log"),
    knp.Tanh: torch.attr("tanh"), knp.Sin: torch.attr("sin"), knp.Cos: torch.attr("cos"),
    knp.Floor: torch.attr("floor"), knp.Ceil: torch.attr("ceil"), knp.Sign: torch.attr("sign"),
    knp.Reciprocal: torch.attr("reciprocal"), knp.Log1p: torch.attr("log1p"), knp.Expm1: torch.attr("expm1"),
    kmath.Rsqrt: torch.attr("rsqrt"), kmath.Erf: torch.attr("erf"), knp.LogicalNot: torch.attr("logical_not"),
    # keras/src/backend/tensorflow/nn.py: plain tf.nn / tf.math functions
    knn.Relu: F.attr("relu"), knn.Relu6: F.attr("relu6"), knn.Sigmoid: torch.attr("sigmoid"),
    knn.Softplus: F.attr("softplus"), knn.Softsign: F.attr("softsign"), knn.Silu: F.attr("silu"),
    knn.LogSigmoid: F.attr("logsigmoid"), knn.Selu: F.attr("selu"), knn.TanhShrink: F.attr("tanhshrink"),
    knn.HardSigmoid: F.attr("hardsigmoid"),  # relu6(x + 3) / 6
    knn.HardSilu: F.attr("hardswish"),  # x * relu6(x + 3) / 6
    knn.HardTanh: F.attr("hardtanh"),  # clip_by_value(x, -1, 1)
}


@register(*_UNARY, note="element-wise math and activations")
def convert_unary(ctx) -> fr.Fragment:
    x = _unary_input(ctx, None if ctx.layer.cls is knp.LogicalNot else ctx.outputs[0].dtype)
    return fr.Fragment([_UNARY[ctx.layer.cls](x)], [ctx.in_layouts[0]])


@register(knp.Negative, note="-x")
def convert_negative(ctx) -> fr.Fragment:
    x = _unary_input(ctx, ctx.outputs[0].dtype)
    return fr.Fragment([-x], [ctx.in_layouts[0]])


def _unary_input(ctx, dtype: str | None) -> fr.Expr:
    """The one tensor argument, cast to `dtype` (Keras computes int inputs of float ops in float)."""
    if len(ctx.node.inputs) != 1 or not isinstance(_arguments(ctx).get("x"), _T):
        raise ctx.unsupported("expected one tensor argument")
    return _cast(ctx.input(0), ctx.inputs[0].dtype, dtype)


@register(knn.LeakyRelu, knn.Elu, knn.Celu, knn.Gelu, knn.SoftShrink, knn.HardShrink, knn.Threshold,
          note="parameters explicit (ops.gelu defaults to the tanh approximation)")
def convert_parametric_activation(ctx) -> fr.Fragment:
    x = _unary_input(ctx, ctx.outputs[0].dtype)
    cls = ctx.layer.cls
    if cls is knn.LeakyRelu:  # tf.nn.leaky_relu(x, alpha=negative_slope); default 0.2
        y = F.attr("leaky_relu")(x, float(ctx.get("negative_slope")))
    elif cls is knn.Elu:  # where(x > 0, elu(x), alpha * elu(x)) == torch's alpha * (exp(x) - 1)
        y = F.attr("elu")(x, float(ctx.get("alpha")))
    elif cls is knn.Celu:  # max(x, 0) + alpha * expm1(min(x, 0) / alpha), as torch
        y = F.attr("celu")(x, float(ctx.get("alpha")))
    elif cls is knn.Gelu:  # keras.ops.gelu: approximate=True (tanh) by default, unlike the activation
        y = F.attr("gelu")(x, approximate="tanh" if ctx.get("approximate") else "none")
    elif cls is knn.SoftShrink:  # x - t if x > t, x + t if x < -t, else 0
        y = F.attr("softshrink")(x, float(ctx.get("threshold")))
    elif cls is knn.HardShrink:  # where(|x| > t, x, 0)
        y = F.attr("hardshrink")(x, float(ctx.get("threshold")))
    else:  # Threshold: where(x > threshold, x, default_value)
        y = F.attr("threshold")(x, float(ctx.get("threshold")), float(ctx.get("default_value")))
    return fr.Fragment([y], [ctx.in_layouts[0]])


@register(knp.Clip, note="scalar bounds")
def convert_clip(ctx) -> fr.Fragment:
    lo, hi = _scalar(ctx.get("x_min")), _scalar(ctx.get("x_max"))
    if lo is None or hi is None:
        raise ctx.unsupported("clip bounds must be numbers", "clip with Python numbers")
    have = ctx.inputs[0].dtype
    if have != "bool" and "int" in have and (isinstance(lo, float) or isinstance(hi, float)):
        raise ctx.unsupported("clipping an integer tensor with float bounds is not supported")
    x = _unary_input(ctx, ctx.outputs[0].dtype)  # tensorflow/numpy.py clip: bool -> int32 first
    return fr.Fragment([torch.attr("clamp")(x, lo, hi)], [ctx.in_layouts[0]])


@register(knn.Softmax, knn.LogSoftmax, note="int axis (remapped) or None (all elements)")
def convert_softmax(ctx) -> fr.Fragment:
    x = _unary_input(ctx, ctx.outputs[0].dtype)
    fn = F.attr("softmax" if ctx.layer.cls is knn.Softmax else "log_softmax")
    axis, layout = ctx.get("axis"), ctx.in_layouts[0]
    if axis is None:  # tensorflow/nn.py softmax: over every element (batch included)
        return fr.Fragment([fn(x.method("flatten"), dim=0).method("view_as", x)], [layout])
    if not isinstance(axis, int):
        raise ctx.unsupported(f"softmax over axis={axis!r} is not supported", "use one int axis")
    # a flat (reordered) layout keeps its order: softmax is equivariant to reordering the features
    dim = (-1 if axis % 2 else 0) if layout.flat is not None else _dim(layout, axis)
    return fr.Fragment([fn(x, dim=dim)], [layout])


@register(knn.Glu, note="axis remapped")
def convert_glu(ctx) -> fr.Fragment:
    x, layout = ctx.input_unflattened(0)  # halves of the Keras feature order
    return fr.Fragment([F.attr("glu")(x, dim=_dim(layout, ctx.get("axis")))], [layout])


@register(kcore.Cast, note="x.to(dtype)")
def convert_cast(ctx) -> fr.Fragment:
    want = ctx.outputs[0].dtype
    return fr.Fragment([_cast(ctx.input(0), ctx.inputs[0].dtype, want)], [ctx.in_layouts[0]])


@register(kcore.ConvertToTensor, note="identity, or x.to(dtype)")
def convert_convert_to_tensor(ctx) -> fr.Fragment:  # Keras' own mask code uses it (Attention.compute_mask)
    return fr.Fragment([_cast(ctx.input(0), ctx.inputs[0].dtype, ctx.outputs[0].dtype)], [ctx.in_layouts[0]])


@register(knp.ZerosLike, knp.OnesLike, note="torch.zeros_like / ones_like, in the input's layout")
def convert_zeros_like(ctx) -> fr.Fragment:  # Keras' own mask code uses them (Concatenate.compute_mask)
    fill = "zeros_like" if ctx.layer.cls is knp.ZerosLike else "ones_like"
    want = ctx.outputs[0].dtype
    extra = {"dtype": _dtype(want)} if want != ctx.inputs[0].dtype else {}
    return fr.Fragment([torch.attr(fill)(ctx.input(0), **extra)], [ctx.in_layouts[0]])


@register(kcore.StopGradient, note="x.detach()")
def convert_stop_gradient(ctx) -> fr.Fragment:
    return fr.Fragment([ctx.input(0).method("detach")], [ctx.in_layouts[0]])


# ----------------------------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------------------------
_REDUCTIONS = {knp.Sum: "sum", knp.Mean: "mean", knp.Max: "amax", knp.Min: "amin", knp.Amax: "amax",
               knp.Amin: "amin", knp.Prod: "prod", kmath.Logsumexp: "logsumexp", knp.Any: "any", knp.All: "all"}


@register(*_REDUCTIONS, note="axis int/tuple/None and keepdims, axes remapped through the layout")
def convert_reduction(ctx) -> fr.Fragment:
    cls, rank = ctx.layer.cls, ctx.in_rank(0)
    if ctx.get("initial") is not None:
        raise ctx.unsupported("max/min with `initial` is not supported", "apply maximum/minimum afterwards")
    axes = _axes(ctx.get("axis"), rank)
    keepdims = bool(ctx.get("keepdims"))
    have, out = ctx.inputs[0].dtype, ctx.outputs[0].dtype
    if axes == ():  # tf.reduce_*(axis=[]) reduces nothing; torch's dim=() would reduce all
        return fr.Fragment([_cast(ctx.input(0), have, out)], [ctx.in_layouts[0]])
    layout = ctx.in_layouts[0]
    if layout.flat is not None and (axes is None or rank - 1 in axes):
        x = ctx.input(0)  # reducing the whole (reordered) feature axis: order does not matter
        layout = Layout.keras(rank)
    else:
        x, layout = ctx.input_unflattened(0)
    method = _REDUCTIONS[cls]
    if out != "bool" and "int" in out and method in ("sum", "prod"):
        # tensorflow/numpy.py sum/prod: bool/int8/int16 -> int32; torch's integer sum/prod
        # return int64, so the dtype is given explicitly
        extra = {} if out == have == "int64" else {"dtype": _dtype(out)}
    else:  # mean/logsumexp of ints compute in float (tensorflow/numpy.py mean)
        x, extra = _cast(x, have, out), {}
    keep = {"keepdim": True} if keepdims else {}
    dims = tuple(sorted(layout.torch_axis(a) for a in (axes if axes is not None else range(rank))))
    if axes is None and not keepdims and method != "logsumexp":
        y = x.method(method, **extra)
    elif method == "prod":  # torch.prod takes one dim: reduce the highest first
        y = x
        for d in sorted(dims, reverse=True):
            y = y.method("prod", d, **keep, **extra)
    else:
        raw = ctx.get("axis")
        if isinstance(raw, (list, tuple)) and len(raw) == 1:
            raw = raw[0]
        dim = _dim(layout, raw) if isinstance(raw, int) else dims
        y = x.method(method, dim=dim, **keep, **extra)
    out_layout = layout if keepdims else _drop(layout.perm, axes if axes is not None else tuple(range(rank)))
    return fr.Fragment([y], [out_layout])


# ----------------------------------------------------------------------------------------------
# Shape ops
# ----------------------------------------------------------------------------------------------
@register(knp.Reshape, layout=KERAS, note="row-major in Keras order; a flatten of a feature map folds into the next Dense")
def convert_reshape(ctx) -> fr.Fragment:
    shape = ctx.get("newshape")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, int) for d in shape):
        raise ctx.unsupported(f"reshape to {shape!r} is not supported", "give a tuple of ints (-1 for one unknown)")
    layout, features = ctx.in_layouts[0], ctx.in_shape(0)[1:]
    size = int(np.prod(features)) if all(d is not None for d in features) else None
    if (len(shape) == 2 and shape[0] == -1 and shape[1] in (size, -1) and size is not None
            and layout.flat is None and not layout.is_keras and ctx.in_rank(0) >= 3):
        # like keras.layers.Flatten: keep torch's order, record Keras' (converters/reshaping.py)
        order = FlatOrder(tuple(features), tuple(p - 1 for p in layout.perm[1:]))
        return fr.Fragment([ctx.input(0).method("flatten", 1)], [Layout((0, 1), flat=order)])
    y = ctx.input_keras(0).method("reshape", *shape)
    rank = len(shape)
    target = _prefer(ctx, rank)
    return fr.Fragment([convert_layout(y, Layout.keras(rank), target)], [target])


@register(knp.Transpose, layout=KERAS, note="folded into the layout: one permute at most")
def convert_transpose(ctx) -> fr.Fragment:
    x, layout = ctx.input_unflattened(0)
    rank = layout.rank
    axes = ctx.get("axes")
    axes = tuple(reversed(range(rank))) if axes is None else tuple(a % rank for a in axes)
    # y = keras_x.transpose(axes): the torch tensor, unchanged, holds y in layout inv(axes)[perm]
    inv = inverse(axes)
    same = Layout(tuple(inv[a] for a in layout.perm))
    if same.is_keras or same.is_channels_first:
        return fr.Fragment([x], [same])
    target = _prefer(ctx, rank)
    return fr.Fragment([convert_layout(x, same, target)], [target])


@register(knp.ExpandDims, layout=KERAS, note="unsqueeze where the layout puts the new axes")
def convert_expand_dims(ctx) -> fr.Fragment:
    x, layout = ctx.input_unflattened(0)
    axis = ctx.get("axis")
    out_rank = layout.rank + (1 if isinstance(axis, int) else len(axis))
    new = sorted({a % out_rank for a in ((axis,) if isinstance(axis, int) else axis)})
    old = [o for o in range(out_rank) if o not in new]  # Keras input axis i -> output axis old[i]
    order = _place([old[a] for a in layout.perm], new, _prefer(ctx, out_rank))
    for position in sorted(order.index(n) for n in new):
        x = x.method("unsqueeze", position)
    return fr.Fragment([x], [Layout(tuple(order))])


@register(knp.Squeeze, layout=KERAS, note="axes remapped; axis=None squeezes the statically-1 axes")
def convert_squeeze(ctx) -> fr.Fragment:
    x, layout = ctx.input_unflattened(0)
    shape = ctx.in_shape(0)
    axes = _axes(ctx.get("axis"), layout.rank)
    warnings = []
    if axes is None:  # the axes Keras' symbolic shape drops (compute_output_spec: size 1)
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
        if None in shape:
            warnings.append("squeeze(axis=None) drops the axes of static size 1 only; TensorFlow would also "
                            "drop an unknown (batch) axis that is 1 at run time")
    if not axes:
        return fr.Fragment([x], [layout], warnings=warnings)
    dims = tuple(sorted(layout.torch_axis(a) for a in axes))
    y = x.method("squeeze", dims[0] if len(dims) == 1 else dims)
    return fr.Fragment([y], [_drop(layout.perm, axes)], warnings=warnings)


def _common_layout(ctx, indices) -> Layout:
    layouts = [ctx.in_layouts[i] for i in indices]
    rank = layouts[0].rank
    if any(l.flat is not None for l in layouts):
        return Layout.keras(rank)
    if ctx.wants_channels_first(0) and Layout.channels_first(rank) in layouts:
        return Layout.channels_first(rank)
    return layouts[0]


def _tensor_list(ctx, values) -> list[int]:
    if not all(isinstance(v, _T) for v in values):
        raise ctx.unsupported("only graph tensors can be concatenated or stacked", "wrap constants in a layer")
    return [v.index for v in values]


@register(knp.Concatenate, note="axis remapped through the common layout")
def convert_concatenate(ctx) -> fr.Fragment:
    indices = _tensor_list(ctx, _arguments(ctx)["xs"])
    layout = _common_layout(ctx, indices)
    out = ctx.outputs[0].dtype
    xs = [_cast(ctx.input(i, layout), ctx.inputs[i].dtype, out) for i in indices]
    return fr.Fragment([torch.attr("cat")(xs, dim=_dim(layout, ctx.get("axis")))], [layout])


@register(knp.Stack, layout=KERAS, note="the new axis placed by the layout")
def convert_stack(ctx) -> fr.Fragment:
    indices = _tensor_list(ctx, _arguments(ctx)["x"])
    layout = _common_layout(ctx, indices)
    out_rank = layout.rank + 1
    axis = ctx.get("axis") % out_rank
    order = _place([a if a < axis else a + 1 for a in layout.perm], [axis], _prefer(ctx, out_rank))
    out = ctx.outputs[0].dtype
    xs = [_cast(ctx.input(i, layout), ctx.inputs[i].dtype, out) for i in indices]
    return fr.Fragment([torch.attr("stack")(xs, dim=order.index(axis))], [Layout(tuple(order))])


def _key_item(ctx, item):
    if isinstance(item, _T):
        raise ctx.unsupported("indexing with a tensor is not supported", "use keras.ops.take")
    if item is None or item is Ellipsis or (isinstance(item, int) and not isinstance(item, bool)):
        return item
    if isinstance(item, slice):
        parts = (item.start, item.stop, item.step)
        if all(p is None or (isinstance(p, int) and not isinstance(p, bool)) for p in parts):
            if item.step is None or item.step > 0:
                return item
            raise ctx.unsupported(f"slice step {item.step} is not supported (torch slices step forward)",
                                  "use keras.ops.flip")
    raise ctx.unsupported(f"index {item!r} is not supported", "index with ints, slices, None and ...")


@register(knp.GetItem, note="ints, slices (positive steps), None and ...; indices remapped through the layout")
def convert_get_item(ctx) -> fr.Fragment:
    key = _arguments(ctx)["key"]
    key = tuple(key) if isinstance(key, (list, tuple)) else (key,)  # GetItem.call: list -> tuple
    key = tuple(_key_item(ctx, k) for k in key)
    x, layout = ctx.input_unflattened(0)
    rank = layout.rank
    consuming = sum(k is not None and k is not Ellipsis for k in key)
    if key.count(Ellipsis) > 1 or consuming > rank:
        raise ctx.unsupported(f"index {key!r} does not fit a rank-{rank} tensor")
    fill = (slice(None),) * (rank - consuming)
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + fill + key[i + 1:]
    else:
        key = key + fill
    item_of, out_of, new, o = [], {}, [], 0  # per Keras input axis: its index and output axis
    for k in key:
        if k is None:
            new.append(o)
            o += 1
            continue
        if isinstance(k, slice):
            out_of[len(item_of)] = o
            o += 1
        item_of.append(k)
    seq = [(item_of[a], out_of.get(a)) for a in layout.perm]  # the torch index, new axes aside
    order = _place([oa for _, oa in seq if oa is not None], new, _prefer(ctx, o))
    entries, p = [], 0
    for t in order:
        if t in new:
            entries.append(None)
            continue
        while True:
            item, oa = seq[p]
            p += 1
            entries.append(item)
            if oa == t:
                break
    entries += [item for item, _ in seq[p:]]
    full = slice(None)
    if all(e == full for e in entries):
        return fr.Fragment([x], [Layout(tuple(order))])
    lead = next(i for i, e in enumerate(entries) if e != full)
    trimmed = list(entries)
    while trimmed[-1] == full:
        trimmed.pop()
    index = trimmed if len(trimmed) <= len(entries) - lead + 1 or lead < 2 else [Ellipsis] + entries[lead:]
    y = x[tuple(index) if len(index) > 1 else index[0]]
    return fr.Fragment([y], [Layout(tuple(order))])

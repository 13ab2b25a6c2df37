"""What a converter returns: torch modules to build, the forward computation, weight transforms.

Everything here is data. Only the emitter (emit.py) turns it into source code, and only the
weights writer (weights.py) applies the transforms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from .layout import Layout


# ----------------------------------------------------------------------------------------------
# Expressions of the forward computation
# ----------------------------------------------------------------------------------------------
class Expr:
    """Base of forward expressions. Operators build BinOps for readability in converters."""

    def __add__(self, other): return BinOp("+", self, lift(other))
    def __radd__(self, other): return BinOp("+", lift(other), self)
    def __sub__(self, other): return BinOp("-", self, lift(other))
    def __rsub__(self, other): return BinOp("-", lift(other), self)
    def __mul__(self, other): return BinOp("*", self, lift(other))
    def __rmul__(self, other): return BinOp("*", lift(other), self)
    def __truediv__(self, other): return BinOp("/", self, lift(other))
    def __rtruediv__(self, other): return BinOp("/", lift(other), self)
    def __pow__(self, other): return BinOp("**", self, lift(other))
    def __neg__(self): return UnaryOp("-", self)
    def __and__(self, other): return BinOp("&", self, lift(other))
    def __or__(self, other): return BinOp("|", self, lift(other))
    def __invert__(self): return UnaryOp("~", self)
    def __getitem__(self, index): return Index(self, lift(index))

    def method(self, name: str, *args, **kwargs) -> "Call":
        return Call(Attr(self, name), tuple(lift(a) for a in args), tuple((k, lift(v)) for k, v in kwargs.items()))

    def attr(self, name: str) -> "Attr":
        return Attr(self, name)

    def __call__(self, *args, **kwargs) -> "Call":
        return Call(self, tuple(lift(a) for a in args), tuple((k, lift(v)) for k, v in kwargs.items()))


@dataclass(frozen=True, eq=False)
class Ref(Expr):
    """A global dotted name: "torch.cat", "F.relu", "nn.Conv2d", "math.sqrt"."""
    path: str


@dataclass(frozen=True, eq=False)
class Input(Expr):
    """The node's i-th input tensor, in the layout the converter asked for."""
    index: int


@dataclass(frozen=True, eq=False)
class GraphTensor(Expr):
    """Any tensor of the graph by id, in the Keras layout (used for Keras masks, see ir.Node.masks)."""
    id: int


@dataclass(frozen=True, eq=False)
class SelfAttr(Expr):
    """self.<attribute> for a module or buffer declared in the same fragment (by key)."""
    key: str = ""


@dataclass(frozen=True, eq=False)
class Local(Expr):
    """A temporary variable of the fragment (named by the emitter, unique in forward)."""
    key: str


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: Any


@dataclass(frozen=True, eq=False)
class Call(Expr):
    func: Expr
    args: tuple = ()
    kwargs: tuple = ()  # tuple of (name, Expr)


@dataclass(frozen=True, eq=False)
class Attr(Expr):
    value: Expr
    name: str


@dataclass(frozen=True, eq=False)
class BinOp(Expr):
    op: str  # + - * / ** @ > < >= <= == != & |
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=False)
class UnaryOp(Expr):
    op: str  # - ~ not
    operand: Expr


@dataclass(frozen=True, eq=False)
class Index(Expr):
    value: Expr
    index: Expr


@dataclass(frozen=True, eq=False)
class Slice(Expr):
    start: Any = None
    stop: Any = None
    step: Any = None


@dataclass(frozen=True, eq=False)
class TupleExpr(Expr):
    items: tuple


@dataclass(frozen=True, eq=False)
class ListExpr(Expr):
    items: tuple


@dataclass(frozen=True, eq=False)
class Helper(Expr):
    """A function from tf2torch.helpers, emitted inline (once) into the generated file."""
    name: str


ELLIPSIS = Const(Ellipsis)


def map_expr(e, leaf):
    """Rebuild an expression tree, replacing each leaf (Ref, Input, GraphTensor, SelfAttr, Local, Const, Helper)
    by `leaf(node)`; composite nodes are rebuilt around their mapped children."""
    def m(v):
        return map_expr(v, leaf) if isinstance(v, Expr) else v

    if isinstance(e, Call):
        return Call(m(e.func), tuple(m(a) for a in e.args), tuple((k, m(v)) for k, v in e.kwargs))
    if isinstance(e, Attr):
        return Attr(m(e.value), e.name)
    if isinstance(e, BinOp):
        return BinOp(e.op, m(e.left), m(e.right))
    if isinstance(e, UnaryOp):
        return UnaryOp(e.op, m(e.operand))
    if isinstance(e, Index):
        return Index(m(e.value), m(e.index))
    if isinstance(e, (TupleExpr, ListExpr)):
        return type(e)(tuple(m(i) for i in e.items))
    if isinstance(e, Slice):
        return Slice(m(e.start), m(e.stop), m(e.step))
    return leaf(e)


def lift(value) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, slice):
        return Slice(value.start, value.stop, value.step)
    if isinstance(value, tuple) and any(isinstance(v, (Expr, slice)) or v is Ellipsis for v in value):
        return TupleExpr(tuple(lift(v) for v in value))
    if isinstance(value, list):
        return ListExpr(tuple(lift(v) for v in value))
    return Const(value)


def ref(path: str) -> Ref:
    return Ref(path)


torch = Ref("torch")
nn = Ref("nn")
F = Ref("F")


# ----------------------------------------------------------------------------------------------
# Weight transforms (data), applied by weights.py
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transpose:
    axes: tuple[int, ...]


@dataclass(frozen=True)
class Reshape:
    shape: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class Take:
    """numpy.take(w, index, axis): reorder/select rows (gates, flattened features)."""
    index: np.ndarray
    axis: int = 0


Transform = Union[Transpose, Reshape, Take]


@dataclass
class Param:
    """One torch parameter or buffer: from a Keras weight through transforms, or a fixed value."""

    source: str | None = None  # Keras weight name (see Layer.weight), None if `value` is given
    transforms: tuple = ()
    value: np.ndarray | None = None

    def describe(self) -> str:
        if self.source is None:
            return "constant"
        steps = [self.source] + [_describe(t) for t in self.transforms]
        return " -> ".join(steps)


def _describe(t) -> str:
    if isinstance(t, Transpose):
        return f"transpose{t.axes}"
    if isinstance(t, Reshape):
        return f"reshape{t.shape}"
    return f"take(axis={t.axis})"


def from_keras(source: str, *transforms) -> Param:
    return Param(source=source, transforms=tuple(transforms))


def constant(value) -> Param:
    return Param(value=np.asarray(value))


# ----------------------------------------------------------------------------------------------
# Fragment
# ----------------------------------------------------------------------------------------------
@dataclass
class TorchModule:
    """A submodule assigned in __init__: self.<name> = <ctor>; its params by torch name."""

    ctor: Call
    params: dict[str, Param] = field(default_factory=dict)


@dataclass
class Buffer:
    """A tensor registered on the root module: self.register_buffer(<name>, ...)."""

    param: Param
    shape: tuple[int, ...]
    dtype: str = "float32"


@dataclass
class Fragment:
    """What one node becomes.

    modules/buffers are keyed by a local key: "" is named after the Keras layer, another key k
    is named "<layer>_<k>". steps assign temporaries (Local or tuple of Locals/None) in order;
    outputs are one expression per Keras output, with out_layouts saying how each is laid out.
    """

    outputs: list[Expr]
    out_layouts: list[Layout]
    modules: dict[str, TorchModule] = field(default_factory=dict)
    buffers: dict[str, Buffer] = field(default_factory=dict)
    steps: list[tuple[Any, Expr]] = field(default_factory=list)
    description: str = ""  # what the Keras layer became, for the report
    warnings: list[str] = field(default_factory=list)

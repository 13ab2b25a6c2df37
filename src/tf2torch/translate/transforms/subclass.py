"""Subclassed keras.Model / keras.layers.Layer -> nn.Module classes.

The class keeps the user's structure: `__init__` stays `__init__` (`super().__init__()` without Keras
arguments), `call` becomes `forward` (`training` -> `self.training`, the train/eval mode of torch),
`build` weights become parameters (nn.UninitializedParameter materialised on the first call when
their shape needs the input shape), and every `self.attr = keras.layers.X(...)` becomes the torch
module the model converter emits for that layer (one source of truth: tf2torch.converters), with
its call sites replaced by the converter's forward expression (Dense(64, activation="relu") ->
`F.relu(self.attr(x))`). Lists of layers become nn.ModuleList, a keras.Sequential attribute a
class of its own, nested subclassed layers their translated classes.

Layout: tensors keep Keras' layout inside subclassed code (call() may index axes), so spatial
layers are wrapped in permutes to channels-first and back (exact); a permute back that meets the
next layer's permute to channels-first cancels out.

Sizes: a layer is rebuilt statically (translate/static.py) inside a one-layer functional model.
Constructor arguments that are not constants (`hidden`, `self.units`, `n // 2`) become *symbols*,
distinctive numbers written back as the original expressions. Input sizes come from the layer that
feeds it when `call` can be followed on symbolic tensors (from `model.build(...)`/`keras.Input` for
the model input, or on inputs of every rank 2-5 that Keras accepts), else they stay unknown and the
module is lazy (nn.LazyLinear...). Every layer is translated twice with different symbol values: a
translation that differs (a size computed from a symbol, an argument used in a way we cannot see)
is refused with a TODO, never guessed.

Train-time behaviour matters in a translated training script, unlike `tf2torch convert` (inference
only): Dropout & co. become torch modules active in train mode (nn.Dropout, nn.Dropout2d...,
runtime GaussianNoise/GaussianDropout), BatchNormalization keeps Keras' eps and momentum.
"""
from __future__ import annotations

import ast
import itertools
import math
import operator
from dataclasses import dataclass, field

import libcst as cst
import numpy as np
import torch
from libcst.metadata import MetadataWrapper, ParentNodeProvider

from ... import fragment as fr
from ...emit import _IMPORTS, Renderer, _helper_sources
from ...errors import Tf2TorchError
from ...names import to_identifier
from ...program import build_program
from ..base import Transform, with_todos
from ..state import ModelInfo
from ..static import _PRIMES, Evaluator, NotStatic, Symbols, int_literals, literal, make_layer
from ..syntax import assigned_names, camel, target_names, used_names
from .models import _INPUT_SYMBOL, _lazy_ctor

_KERAS_BASES = {"keras.Model": "model", "keras.layers.Layer": "layer", "keras.Layer": "layer"}
_LAYER_NAME = "tfxlayer"  # name given to a rebuilt layer; its modules become self.<attr>[_<key>]
_ELEMENT = "__tfx_m__"  # the module of an element of a list of layers, in templates
_IGNORED_ARGS = {"name", "dtype", "seed"}  # constructor arguments without a torch counterpart
_RUNTIME_IMPORTS = {  # imports the entries of runtime/layers.py need
    "GaussianNoise": {"import torch", "from torch import nn"},
    "GaussianDropout": {"import math", "import torch", "from torch import nn"},
    "variance_scaling_": {"import math", "import torch", "from torch import nn"},
}
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
          cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)


class _Refused(Exception):
    """This layer (or statement) cannot be translated exactly: the message says why."""


class _BadInput(_Refused):
    """The layer does not accept an input of that rank/shape (another candidate may do)."""


class _Impossible(Exception):
    """Keras rejected a layer call while following `call`: that input shape cannot be the real one."""


# ------------------------------------------------------------------------------------------------
# Symbols: constructor arguments known only at run time, standing in as distinctive numbers
# ------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Symbol:
    index: int
    node: cst.BaseExpression
    kind: str | None = None  # "int" or "float", decided when Keras first accepts a value

    @property
    def placeholder(self) -> str:
        return f"__tfx_s{self.index}__"


class _SymbolTable:
    """Expression text -> symbol; two runs give every symbol different values (see module doc)."""

    def __init__(self, avoid: set[int]):
        primes = [p for p in _PRIMES if p not in avoid]  # ~70 values a run
        self._ints = (primes[0::2], primes[1::2])
        self.input_size = (self._ints[0].pop(), self._ints[1].pop())  # the unknown input size (lazy)
        self.by_text: dict[str, _Symbol] = {}

    def get(self, node: cst.BaseExpression) -> _Symbol:
        text = _code(node)
        if text not in self.by_text:
            if len(self.by_text) >= len(self._ints[1]):
                raise _Refused("too many sizes known only at run time in this script")
            self.by_text[text] = _Symbol(len(self.by_text), node)
        return self.by_text[text]

    def value(self, sym: _Symbol, run: int, kind: str | None = None):
        kind = kind or sym.kind or "int"
        if kind == "int":
            return self._ints[run][sym.index]
        return 0.25 + 0.3 * run + 0.0007 * sym.index + 0.000013  # in (0, 1): rates, momenta

    def write_back(self, run: int) -> dict:
        """Value -> placeholder Ref, for the symbols of this run and the unknown input size."""
        table = {(int, self.input_size[run]): fr.Ref(_INPUT_SYMBOL)}
        for sym in self.by_text.values():
            if sym.kind:
                value = self.value(sym, run)
                table[(type(value), value)] = fr.Ref(sym.placeholder)
        return table


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _self_attr(node) -> str | None:
    """`self.x` -> "x"."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
        return node.attr.value
    return None


def _names_in(node: cst.CSTNode) -> set[str]:
    """Free names an expression reads (attribute names and keywords excluded)."""
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Arg_keyword(self, n) -> None:
            pass

        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

    node.visit(Collect())
    return names


# ------------------------------------------------------------------------------------------------
# What one layer attribute becomes
# ------------------------------------------------------------------------------------------------
@dataclass
class _LayerSpec:
    attr: str  # __tfx_m__ for the elements of a list of layers
    call: cst.Call  # the Keras constructor call
    cls: type | None  # None: a translated custom class
    position: int  # index of the statement in __init__'s top-level body
    scope: frozenset = frozenset()  # names bound around the constructor (comprehension variables)


@dataclass
class _Deferred:
    """A nested Keras constructor, built once its symbols have values."""

    cls: type
    args: list
    kwargs: dict


@dataclass
class _ListSpec:
    """`self.attr = [layers.Dense(8) for _ in range(3)]` (or a list display) -> nn.ModuleList."""

    attr: str
    value: cst.BaseExpression  # the List or ListComp
    elements: list[_LayerSpec]


@dataclass
class _Translation:
    ctors: list[tuple[str, str]]  # (attribute, constructor source with placeholders)
    pre: list[tuple[str, str]]  # hoisted statements of the forward template (target, value)
    result: str  # forward expression with placeholders __tfx_in{i}__
    imports: set[str] = field(default_factory=set)
    helpers: list[str] = field(default_factory=list)
    runtime: set[str] = field(default_factory=set)
    todos: list[str] = field(default_factory=list)
    activation: str | None = None
    symbols: set[str] = field(default_factory=set)  # symbol placeholders used
    ctor_symbols: set[str] = field(default_factory=set)  # ... in the constructors
    template_symbols: set[str] = field(default_factory=set)  # ... in the forward code
    own_symbols: set[str] = field(default_factory=set)  # ... standing for the layer's own constructor arguments
    shapes: tuple = ()  # the input shapes it was made for

    @property
    def signature(self) -> str:
        return repr((self.ctors, self.pre, self.result, sorted(self.todos)))

    @property
    def template(self) -> str:
        return repr((self.pre, self.result))


def _write_back(e, table: dict):
    def sub(node):
        if isinstance(node, fr.Const):
            v = node.value
            if type(v) in (int, float) and (type(v), v) in table:
                return table[(type(v), v)]
            if isinstance(v, (tuple, list)) and any(type(i) in (int, float) and (type(i), i) in table for i in v):
                items = tuple(sub(fr.Const(i)) for i in v)
                return fr.TupleExpr(items) if isinstance(v, tuple) else fr.ListExpr(items)
        return node

    return fr.map_expr(e, sub)


def _refs(e) -> list[str]:
    found: list[str] = []

    def visit(node):
        if isinstance(node, fr.Ref):
            found.append(node.path)
        return node

    fr.map_expr(e, visit)
    return found


def _targets(target) -> list[str]:
    if isinstance(target, str):
        return [target]
    return [n for t in target for n in _targets(t)]


def _template(program) -> tuple[list[tuple[object, fr.Expr]], fr.Expr]:
    """Forward statements of a one-layer program -> (hoisted statements, result expression).

    Inputs become __tfx_in{i}__; a temporary read once is inlined, anything else is hoisted
    with its name turned into __tfx_l_<name>__ (renamed at the call site)."""
    env: dict[str, fr.Expr] = {b.arg: fr.Ref(f"__tfx_in{i}__") for i, b in enumerate(program.inputs)}
    # reads of each (name, version) to decide what to inline
    version: dict[str, int] = {}
    reads: dict[tuple[str, int], int] = {}
    for target, value in program.statements:
        for ref in _refs(value):
            if ref in version:
                reads[(ref, version[ref])] = reads.get((ref, version[ref]), 0) + 1
        for name in _targets(target):
            version[name] = version.get(name, 0) + 1
    for r in program.returns:
        for ref in _refs(r):
            if ref in version:
                reads[(ref, version[ref])] = reads.get((ref, version[ref]), 0) + 1
    version = {}
    pre: list[tuple[object, fr.Expr]] = []

    def subst(e):
        return fr.map_expr(e, lambda n: env.get(n.path, n) if isinstance(n, fr.Ref) else n)

    for target, value in program.statements:
        value = subst(value)
        names = _targets(target)
        for name in names:
            version[name] = version.get(name, 0) + 1
        if isinstance(target, str) and reads.get((target, version[target]), 0) <= 1:
            env[target] = value
            continue
        renamed = {n: f"__tfx_l_{n}__" for n in names if n != "_"}

        def rename(t):
            return renamed.get(t, t) if isinstance(t, str) else tuple(rename(i) for i in t)

        pre.append((rename(target), value))
        env.update({n: fr.Ref(r) for n, r in renamed.items()})
    results = [subst(r) for r in program.returns]
    return pre, results[0] if len(results) == 1 else fr.TupleExpr(tuple(results))


def _render(r: Renderer, e) -> str:
    return ast.unparse(r.expr(e))


def _render_target(t) -> str:
    if isinstance(t, str):
        return t
    return "(" + ", ".join(_render_target(i) for i in t) + ("," if len(t) == 1 else "") + ")"


# ------------------------------------------------------------------------------------------------
# Train-time layers: `tf2torch convert` drops them (inference); a training script needs them
# ------------------------------------------------------------------------------------------------
def _train_time(layer, rank: int) -> tuple[fr.Call, fr.Expr, str | None] | None:
    """(constructor, forward, runtime entry) for layers whose training behaviour the converter
    leaves out, or None for the others. Semantics: keras/src/layers/regularization/*.py."""
    import keras

    name = type(layer).__name__
    x, module = fr.Ref("__tfx_in0__"), fr.Ref(f"self.{_LAYER_NAME}")
    if isinstance(layer, (keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D)):
        # spatial_dropout.py: noise shape (N, 1, ..., 1, C) = whole channels, torch's Dropout{1,2,3}d on channels-first
        spatial = {"SpatialDropout1D": 3, "SpatialDropout2D": 4, "SpatialDropout3D": 5}[name]
        if rank != spatial:
            raise _BadInput(f"{name} needs a rank-{spatial} input")
        ctor = fr.Ref(f"nn.Dropout{spatial - 2}d")(layer.rate)
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            return ctor, module(x), None
        if rank == 3:
            return ctor, module(x.method("transpose", 1, 2)).method("transpose", 1, 2), None
        last = (0, rank - 1) + tuple(range(1, rank - 1))
        back = (0,) + tuple(range(2, rank)) + (1,)
        return ctor, module(x.method("permute", *last)).method("permute", *back), None
    if isinstance(layer, (keras.layers.Dropout, keras.layers.AlphaDropout)):
        if getattr(layer, "noise_shape", None) is not None:
            raise _Refused(f"{name}(noise_shape=...) has no torch module: drop a mask of that shape by hand")
        # dropout.py: inverted dropout, scale 1 / (1 - rate) = nn.Dropout; alpha_dropout.py: the
        # affine SELU-preserving formula of nn.AlphaDropout
        return fr.Ref("nn.AlphaDropout" if name == "AlphaDropout" else "nn.Dropout")(layer.rate), module(x), None
    if isinstance(layer, keras.layers.GaussianNoise):
        return fr.Ref("GaussianNoise")(layer.stddev), module(x), "GaussianNoise"
    if isinstance(layer, keras.layers.GaussianDropout):
        return fr.Ref("GaussianDropout")(layer.rate), module(x), "GaussianDropout"
    if isinstance(layer, keras.layers.ActivityRegularization):
        raise _Refused("ActivityRegularization adds a penalty to the loss: add it to the loss explicitly")
    if isinstance(layer, keras.layers.RNN) or type(layer).__name__ in ("LSTM", "GRU", "SimpleRNN"):
        cfg = layer.get_config()
        if cfg.get("dropout") or cfg.get("recurrent_dropout"):
            raise _Refused(f"{name}(dropout/recurrent_dropout) masks inputs per gate in training; torch's {name} cannot: "
                           "write the cell loop")
    return None


def _training_gaps(call: cst.Call) -> list[str]:
    """Constructor arguments that change training but not the forward pass: a TODO each."""
    gaps = []
    for arg in call.args:
        key = arg.keyword.value if arg.keyword else ""
        if key.endswith("_regularizer") and _code(arg.value) != "None":
            gaps.append(f"{key}={_code(arg.value)} is not applied: add its penalty to the loss (Keras adds it to model.losses)")
        elif key.endswith("_constraint") and _code(arg.value) != "None":
            gaps.append(f"{key}={_code(arg.value)} is not applied: project the weight after each optimizer.step()")
        elif key.endswith("_initializer"):
            gaps.append(f"{key}={_code(arg.value)} is not applied: the torch module keeps its own initialisation")
        elif key == "trainable" and _code(arg.value) != "True":
            gaps.append("trainable=False: freeze the module with requires_grad_(False) (and .eval() for BatchNormalization)")
    return gaps


# ------------------------------------------------------------------------------------------------
# Filling templates into the user's code
# ------------------------------------------------------------------------------------------------
class _Fill(cst.CSTTransformer):
    """Replace placeholder names by CST expressions, in parentheses where precedence needs them."""

    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self, mapping: dict[str, cst.BaseExpression]):
        super().__init__()
        self.mapping = mapping

    def leave_Name(self, original: cst.Name, updated: cst.Name):
        if updated.value not in self.mapping:
            return updated
        node = self.mapping[updated.value].deep_clone()
        parent = self.get_metadata(ParentNodeProvider, original, None)
        bare = isinstance(parent, (cst.Arg, cst.Element, cst.Expr, cst.Index, cst.DictElement, cst.Assign, cst.Return))
        if not bare and not isinstance(node, _ATOMS) and not getattr(node, "lpar", None):
            node = node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return node


def _fill_statement(source: str, mapping: dict) -> cst.BaseStatement:
    module = MetadataWrapper(cst.parse_module(source + "\n")).visit(_Fill(mapping))
    return module.body[0]


def _fill_expression(source: str, mapping: dict) -> cst.BaseExpression:
    stmt = _fill_statement(f"__tfx_value__ = {source}", mapping)
    return stmt.body[0].value


class _CancelPermutes(cst.CSTTransformer):
    """`y.permute(0, 2, 3, 1).movedim(3, 1)` -> `y`: where a layer's permute back to Keras' layout
    meets the next layer's permute to channels-first (pure views: dropping both is exact)."""

    @staticmethod
    def _op(node):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in ("permute", "movedim", "transpose")):
            return None
        try:
            args = [literal(a.value) for a in node.args if a.keyword is None and not a.star]
        except NotStatic:
            return None
        if len(args) != len(node.args) or not all(type(a) is int for a in args):
            return None
        return node.func.attr.value, args, node.func.value

    @staticmethod
    def _perm(kind: str, args: list, rank: int | None):
        if kind == "permute":
            return list(args) if rank in (None, len(args)) else None
        if rank is None:
            return None
        a, b = (i % rank for i in args) if len(args) == 2 else (None, None)
        if a is None:
            return None
        order = list(range(rank))
        if kind == "transpose":
            order[a], order[b] = order[b], order[a]
        else:  # movedim(a, b): dim a goes to position b
            order.insert(b, order.pop(a))
        return order

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        outer = self._op(updated)
        inner = self._op(outer[2]) if outer else None
        if not inner:
            return updated
        if outer[0] == inner[0] == "transpose":
            identity = sorted(outer[1]) == sorted(inner[1])
        else:
            rank = len(outer[1]) if outer[0] == "permute" else len(inner[1]) if inner[0] == "permute" else None
            first, second = self._perm(inner[0], inner[1], rank), self._perm(outer[0], outer[1], rank)
            identity = first is not None and second is not None and all(first[second[i]] == i for i in range(len(first)))
        return inner[2] if identity else updated


def _placeholders(text: str, prefix: str) -> set[str]:
    import re

    return set(re.findall(rf"__tfx_{prefix}\w*?__", text))


# ------------------------------------------------------------------------------------------------
# Class analysis
# ------------------------------------------------------------------------------------------------
def _methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)} if isinstance(cls.body, cst.IndentedBlock) else {}


def _params(fn: cst.FunctionDef) -> list[cst.Param]:
    return list(fn.params.posonly_params) + list(fn.params.params)


def _is_super_call(node, method: str) -> bool:
    """`super().<method>(...)` or `super(Cls, self).<method>(...)`."""
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == method
            and isinstance(node.func.value, cst.Call) and isinstance(node.func.value.func, cst.Name)
            and node.func.value.func.value == "super")


def _single_assign(stmt) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
        assign = stmt.body[0]
        if len(assign.targets) == 1:
            return assign.targets[0].target, assign.value
    return None


def _walk_blocks(stmts):
    """Statements of a body, descending into if/elif/else blocks only."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, cst.If):
            branch = stmt
            while branch is not None:
                body = branch.body
                yield from _walk_blocks(body.body if isinstance(body, cst.IndentedBlock) else [])
                branch = branch.orelse
                if isinstance(branch, cst.Else):
                    yield from _walk_blocks(branch.body.body if isinstance(branch.body, cst.IndentedBlock) else [])
                    branch = None


_COMPARISONS = {cst.LessThan: operator.lt, cst.GreaterThan: operator.gt, cst.LessThanEqual: operator.le,
                cst.GreaterThanEqual: operator.ge, cst.Equal: operator.eq, cst.NotEqual: operator.ne}


class _CallEvaluator(Evaluator):
    """Evaluates `call` on symbolic Keras tensors: `self.attr` is the rebuilt layer; records the
    input shapes each layer attribute is called with."""

    def __init__(self, qualname, env, layers: dict[str, object], customs: dict | None = None):
        super().__init__(qualname, env, Symbols(), set())
        self.layers = layers
        self.customs = customs or {}  # attribute -> function running a nested translated layer
        self.observed: dict[str, list[tuple]] = {}

    def eval(self, node):
        attr = _self_attr(node)
        if attr is not None:
            if attr in self.layers:
                return self.layers[attr]
            raise NotStatic(f"self.{attr}")
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:  # h > 6.0 on tensors
            compare = _COMPARISONS.get(type(node.comparisons[0].operator))
            if compare is not None:
                return compare(self.eval(node.left), self.eval(node.comparisons[0].comparator))
        return super().eval(node)

    def call(self, node: cst.Call):
        import keras

        attr = _self_attr(node.func)
        if attr is not None and self.customs.get(attr) is not None:
            args = [a for a in node.args if a.keyword is None]
            if len(args) != 1 or args[0].star or any(a.keyword and a.keyword.value != "training" for a in node.args):
                raise NotStatic("nested layer call arguments")
            return self.customs[attr](self.eval(args[0].value))
        if attr is None or attr not in self.layers:
            return super().call(node)
        if any(a.star or (a.keyword and a.keyword.value not in ("training",)) for a in node.args):
            raise NotStatic("layer call arguments")
        args = [self.eval(a.value) for a in node.args if a.keyword is None]
        if len(args) != 1:
            raise NotStatic("layer call arity")
        value = args[0]
        tensors = value if isinstance(value, (list, tuple)) else [value]
        if not tensors or not all(isinstance(t, keras.KerasTensor) for t in tensors):
            raise NotStatic("layer called on something else than tensors")
        try:
            out = self.layers[attr](value)
        except Exception as exc:
            # Only a wrong rank rules a context out: a size error may come from the symbols
            # (a prime is divisible by nothing) or from sizes unknown here
            if _rank_error(self.layers[attr], tensors, exc):
                raise _Impossible(str(exc)) from None
            raise NotStatic(str(exc)) from None
        shapes = tuple(tuple(t.shape) for t in tensors)
        sig = ("list", len(tensors)) if isinstance(value, (list, tuple)) else ("single",)
        self.observed.setdefault(attr, []).append((sig, shapes))
        return out


def _rank_error(layer, tensors: list, exc: Exception) -> bool:
    """Whether a layer refused its input for its rank (Keras' InputSpec, or the message of a
    build that needs another rank, e.g. a Conv2D kernel on a rank-5 input)."""
    specs = layer.input_spec if isinstance(layer.input_spec, (list, tuple)) else [layer.input_spec]
    for spec, t in zip(specs, tensors):
        rank = len(t.shape)
        if spec is not None and ((spec.ndim is not None and rank != spec.ndim) or (spec.min_ndim is not None and rank < spec.min_ndim)
                                 or (spec.max_ndim is not None and rank > spec.max_ndim)):
            return True
    message = str(exc)
    return "ndim" in message or "same length as input" in message


def _evaluate_statement(ev: _CallEvaluator, stmt) -> tuple | None:
    """One statement of `call` on symbolic tensors; what cannot be followed is forgotten.
    A `return` that could be evaluated gives (value,)."""

    pair = _single_assign(stmt)
    if pair:
        target, value = pair
        names = target_names(target)
        try:
            result = ev.eval(value)
        except _Impossible:
            raise
        except Exception:
            result = None
            names_ok = False
        else:
            names_ok = True
        if names_ok and isinstance(target, cst.Name):
            ev.env[target.value] = result
        elif (names_ok and isinstance(target, (cst.Tuple, cst.List)) and isinstance(result, (list, tuple))
              and len(result) == len(target.elements) and all(isinstance(el.value, cst.Name) for el in target.elements)):
            ev.env.update(zip(names, result))
        else:
            for n in names:
                ev.env.pop(n, None)
        return
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], (cst.Return, cst.Expr)):
        value = stmt.body[0].value
        if value is not None:
            try:
                result = ev.eval(value)
            except _Impossible:
                raise
            except Exception:
                return None
            if isinstance(stmt.body[0], cst.Return):
                return (result,)
        return None
    for n in assigned_names(stmt):
        ev.env.pop(n, None)


def _destructured(body: cst.CSTNode, name: str) -> bool:
    """Whether `call` treats its input as a container (indexing, unpacking, iterating): then it
    is not one tensor and cannot be followed."""
    found = []

    class Find(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            if isinstance(node.value, cst.Name) and node.value.value == name:
                found.append(node)

        def visit_For(self, node: cst.For) -> None:
            if isinstance(node.iter, cst.Name) and node.iter.value == name:
                found.append(node)

        def visit_Assign(self, node: cst.Assign) -> None:
            if isinstance(node.value, cst.Name) and node.value.value == name and any(
                    isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets):
                found.append(node)

    body.visit(Find())
    return bool(found)


def _parse(source: str) -> cst.BaseStatement:
    return cst.parse_statement(source if source.endswith("\n") else source + "\n")


def _module_constants(tree: cst.Module) -> dict:
    """Module-level names bound exactly once, by a literal: safe to read anywhere."""
    counts: dict[str, int] = {}
    for stmt in tree.body:
        for name in assigned_names(stmt):
            counts[name] = counts.get(name, 0) + 1
    constants = {}
    for stmt in tree.body:
        pair = _single_assign(stmt)
        if pair and isinstance(pair[0], cst.Name) and counts.get(pair[0].value) == 1:
            try:
                constants[pair[0].value] = literal(pair[1])
            except NotStatic:
                pass
    return constants


def _lazy_candidates(sig: tuple, size: int) -> list[tuple]:
    """Input shapes of unknown rank (2 to 5) whose last size is the unknown input size."""
    count = sig[1] if sig[0] == "list" else 1
    return [tuple([(None,) * (rank - 1) + (size,)] * count) for rank in range(2, 6)]


def _call_signature(call: cst.Call) -> tuple | None:
    """("single",) for layer(x), ("list", n) for layer([a, b]); None for anything else."""
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) != 1 or positional[0].star:
        return None
    value = positional[0].value
    if isinstance(value, (cst.List, cst.Tuple)):
        if all(isinstance(el, cst.Element) for el in value.elements):
            return ("list", len(value.elements))
        return None
    return ("single",)


def _call_inputs(call: cst.Call) -> list[cst.BaseExpression]:
    value = next(a.value for a in call.args if a.keyword is None)
    if isinstance(value, (cst.List, cst.Tuple)):
        return [el.value for el in value.elements]
    return [value]


class _ClassInfo:
    """What the translation of one class needs to know about it."""

    def __init__(self, cls: cst.ClassDef, kind: str):
        self.cls, self.kind = cls, kind
        self.methods = _methods(cls)
        self.init = self.methods.get("__init__")
        self.call = self.methods.get("call")
        self.build = self.methods.get("build")
        init_body = list(self.init.body.body) if self.init and isinstance(self.init.body, cst.IndentedBlock) else []
        self.init_body = init_body
        self.init_params = {p.name.value for p in _params(self.init)} - {"self"} if self.init else set()
        if self.init and isinstance(self.init.params.star_kwarg, cst.Param):
            self.init_params.add(self.init.params.star_kwarg.name.value)
        self.init_locals = assigned_names(self.init.body) if self.init else set()
        self.top_attrs: dict[str, int] = {}  # attribute -> index of its first top-level assignment in __init__
        for i, stmt in enumerate(init_body):
            pair = _single_assign(stmt)
            if pair and _self_attr(pair[0]):
                self.top_attrs.setdefault(_self_attr(pair[0]), i)


# ------------------------------------------------------------------------------------------------
# Method bodies: layer call sites, `training`, Keras-only calls
# ------------------------------------------------------------------------------------------------
_STATEMENTS = (cst.SimpleStatementLine, cst.For, cst.While, cst.If, cst.With, cst.Try, cst.FunctionDef, cst.ClassDef)
_SCOPES = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_BASE_CONFIG_COMMENT = "# Keras' base config (name, trainable, dtype) has no nn.Module counterpart"


def _is_training_value(node) -> bool:
    """The value of a `training=` argument that just passes the caller's mode on."""
    return (isinstance(node, cst.Name) and node.value in ("training", "None")) or (
        _self_attr(node) == "training")


class _BodyRewriter(cst.CSTTransformer):
    def __init__(self, owner: "TranslateSubclasses", plan: "_ClassPlan", method: str, used_names: set[str], rename_training: bool):
        super().__init__()
        from ...names import RESERVED, Namespace

        self.owner, self.plan = owner, plan
        self.fresh = Namespace(RESERVED | used_names)
        self.rename_training = rename_training
        self.stack: list[tuple[cst.CSTNode, list[str], list[str], list]] = []  # (statement, todos, comments, hoisted)
        self.scopes = 0
        self.skip = 0
        self.loop_elements: dict[str, str] = {}  # loop variable -> list attribute it iterates over

    # statement bookkeeping -----------------------------------------------------------------------
    def on_visit(self, node) -> bool:
        if isinstance(node, _STATEMENTS):
            self.stack.append((node, [], [], []))
        if isinstance(node, _SCOPES):
            self.scopes += 1
        return super().on_visit(node)

    def on_leave(self, original, updated):
        result = super().on_leave(original, updated)
        if isinstance(original, _SCOPES):
            self.scopes -= 1
        if isinstance(original, _STATEMENTS):
            _, todos, comments, hoisted = self.stack.pop()
            lines = [cst.EmptyLine(comment=cst.Comment(c)) for c in comments]
            if hoisted and not isinstance(result, cst.RemovalSentinel):
                first = hoisted[0].with_changes(leading_lines=[*result.leading_lines, *lines])
                result = cst.FlattenSentinel([with_todos(first, todos), *hoisted[1:], result.with_changes(leading_lines=[])])
            elif not isinstance(result, (cst.RemovalSentinel, cst.FlattenSentinel)):
                result = with_todos(result.with_changes(leading_lines=[*result.leading_lines, *lines]), todos)
        return result

    def todo(self, why: str) -> None:
        if self.stack:
            self.stack[-1][1].append(why)

    # names -------------------------------------------------------------------------------------
    def visit_Arg_keyword(self, node) -> None:
        self.skip += 1

    def leave_Arg_keyword(self, node) -> None:
        self.skip -= 1

    def visit_Attribute_attr(self, node) -> None:
        self.skip += 1

    def leave_Attribute_attr(self, node) -> None:
        self.skip -= 1

    def visit_Param_name(self, node) -> None:
        self.skip += 1

    def leave_Param_name(self, node) -> None:
        self.skip -= 1

    def leave_Name(self, original: cst.Name, updated: cst.Name):
        if self.rename_training and not self.skip and updated.value == "training":
            return cst.Attribute(cst.Name("self"), cst.Name("training"))
        return updated

    def leave_Dict(self, original: cst.Dict, updated: cst.Dict):
        """`{**super().get_config(), ...}`: the (now empty) base config unpacked adds nothing."""
        elements = [el for el in updated.elements
                    if not (isinstance(el, cst.StarredDictElement) and isinstance(el.value, cst.Dict) and not el.value.elements)]
        if len(elements) == len(updated.elements):
            return updated
        if elements and elements[-1].comma != cst.MaybeSentinel.DEFAULT:
            elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(elements=elements)

    # lists of layers ----------------------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        iterated = node.iter
        target = node.target
        if (isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Name) and iterated.func.value == "enumerate"
                and len(iterated.args) == 1 and isinstance(target, cst.Tuple) and len(target.elements) == 2):
            iterated, target = iterated.args[0].value, target.elements[1].value
        attr = _self_attr(iterated)
        if attr in self.plan.list_templates and isinstance(target, cst.Name):
            self.loop_elements[target.value] = attr

    def leave_For(self, original: cst.For, updated: cst.For):
        target = original.target
        for name in [el.value.value for el in target.elements if isinstance(el.value, cst.Name)] if isinstance(target, cst.Tuple) else (
                [target.value] if isinstance(target, cst.Name) else []):
            self.loop_elements.pop(name, None)
        return updated

    def _element_call(self, attr: str, index, call: cst.Call):
        templates = self.plan.list_templates[attr]
        if len({t.template for t in templates}) == 1:
            t = templates[0]
        elif isinstance(index, cst.Integer) and int(index.value) < len(templates):
            t = templates[int(index.value)]
        else:
            self.todo(f"the layers of self.{attr} need different torch code: call them one by one (self.{attr}[0](x), ...)")
            return call
        stripped = self._without_training(call, f"an element of self.{attr}")
        if stripped is call and any(a.keyword for a in call.args):
            return call
        if [a for a in stripped.args if a.keyword is not None] or _call_signature(stripped) != ("single",):
            self.todo(f"an element of self.{attr} is called with arguments its translation does not cover")
            return call
        pre, expr = self.owner.instantiate(t, _call_inputs(stripped), self.fresh, {_ELEMENT: call.func})
        if pre:
            if self.scopes or not self.stack or not isinstance(self.stack[-1][0], cst.SimpleStatementLine):
                self.todo(f"the torch code of self.{attr}'s layers needs statements before this expression: write them out")
                return call
            self.stack[-1][3].extend(pre)
        return expr

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        inner = _self_attr(original.value)
        if inner in self.plan.translations or inner in self.plan.list_templates:
            self.todo(f"`self.{inner}.{original.attr.value}` is Keras layer API: self.{inner} is now a torch module "
                      "(parameters `weight`/`bias`, torch layout)")
        return updated

    # calls -------------------------------------------------------------------------------------
    def leave_Call(self, original: cst.Call, updated: cst.Call):
        func = updated.func
        if isinstance(func, cst.Name) and func.value in self.loop_elements:
            return self._element_call(self.loop_elements[func.value], None, updated)
        if (isinstance(func, cst.Subscript) and _self_attr(func.value) in self.plan.list_templates and len(func.slice) == 1
                and isinstance(func.slice[0].slice, cst.Index)):
            return self._element_call(_self_attr(func.value), func.slice[0].slice.value, updated)
        if _is_super_call(updated, "get_config"):
            self.stack[-1][2].append(_BASE_CONFIG_COMMENT) if self.stack else None
            return cst.Dict([])
        if _is_super_call(updated, "call"):
            return self._without_training(updated.with_changes(func=updated.func.with_changes(attr=cst.Name("forward"))), "super()")
        attr = _self_attr(updated.func)
        if attr in ("add_loss", "add_metric"):
            self.todo(f"self.{attr}(...) has no nn.Module counterpart: return the value and add it to the loss (or metric) "
                      "where the model is trained")
            return updated
        if attr is None:
            return updated
        if attr in self.plan.translations:
            return self._layer_call(attr, updated)
        if attr in self.plan.custom:
            return self._without_training(updated, f"self.{attr}")
        return updated

    def _without_training(self, call: cst.Call, what: str) -> cst.Call:
        args = []
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "training":
                if not _is_training_value(arg.value):
                    self.todo(f"{what} is called with training={_code(arg.value)}: torch modules follow their own train()/eval() mode; "
                              "set that mode on the module instead")
                    return call
                continue
            args.append(arg)
        if args and args[-1].comma != cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return call.with_changes(args=args)

    def _layer_call(self, attr: str, call: cst.Call):
        other = [a.keyword.value for a in call.args if a.keyword is not None and a.keyword.value != "training"]
        if other:
            self.todo(f"self.{attr}(...) is called with {', '.join(other)}=...: not translated (Keras call arguments)")
            return call
        stripped = self._without_training(call, f"self.{attr}")
        if stripped is call and any(a.keyword for a in call.args):
            return call
        sig = _call_signature(stripped)
        translation = self.plan.translations[attr].get(sig)
        if translation is None:
            self.todo(f"self.{attr} is called with arguments its translation does not cover")
            return call
        pre, expr = self.owner.instantiate(translation, _call_inputs(stripped), self.fresh)
        if pre:
            if self.scopes or not self.stack or not isinstance(self.stack[-1][0], cst.SimpleStatementLine):
                self.todo(f"the torch code of self.{attr} needs statements before this expression: write them out")
                return call
            self.stack[-1][3].extend(pre)
        return expr


@dataclass
class _ClassPlan:
    translations: dict[str, dict[tuple, _Translation]] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)
    custom: set[str] = field(default_factory=set)
    custom_calls: dict[str, tuple[str, cst.Call]] = field(default_factory=dict)  # attribute -> (class, constructor call)
    lists: dict[str, _ListSpec] = field(default_factory=dict)
    list_ctors: dict[str, str] = field(default_factory=dict)  # attribute -> nn.ModuleList(...) source
    list_templates: dict[str, list[_Translation]] = field(default_factory=dict)
    specs: dict[str, _LayerSpec] = field(default_factory=dict)
    spec_statements: dict[int, str] = field(default_factory=dict)  # id(statement) -> attribute


# ------------------------------------------------------------------------------------------------
# The transformation
# ------------------------------------------------------------------------------------------------
class TranslateSubclasses(Transform):
    DESCRIPTION = "subclassed keras.Model / keras.layers.Layer -> nn.Module classes"

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.kinds: dict[int, str] = {}  # id(ClassDef) -> "model" / "layer"
        self.names: dict[str, str] = {}  # translated class name -> kind
        self.class_nodes: dict[str, cst.ClassDef] = {}
        self.plans: dict[str, _ClassPlan] = {}  # translated class -> its layer attributes (for subclasses)
        self._find_classes(tree)
        if not self.kinds:
            return tree
        self.constants = _module_constants(tree)
        self.table = _SymbolTable(int_literals(tree))
        from ...names import Namespace, reserved

        # new classes avoid the script's names and those a generated file may use (inline helpers)
        self.class_names = Namespace(used_names(tree) | {"Module"} | reserved())
        self.keywords: dict[str, set[str]] = {}  # class -> keywords its instantiations pass
        self.build_calls: dict[str, list[cst.Call]] = {}  # class -> `m.build(shape)` / `m(keras.Input(...))` calls
        self.input_shapes = self._input_shapes(tree)
        self.activations: dict[str, str | None] = {}
        self.sized: set[str] = set()  # classes left with no lazy module or parameter
        self.translated: set[str] = set()
        tree = super().transform_module_impl(tree)
        self._record_models(tree)
        return tree

    # module scan ---------------------------------------------------------------------------------
    def _find_classes(self, tree: cst.Module) -> None:
        found: list[cst.ClassDef] = []

        class Collect(cst.CSTVisitor):
            def visit_ClassDef(self, node: cst.ClassDef) -> None:
                found.append(node)

        tree.visit(Collect())
        for node in found:
            kind = None
            for base in node.bases:
                if base.keyword is not None:
                    continue
                name = self.qualname(base.value)
                if name in _KERAS_BASES:
                    kind = kind or _KERAS_BASES[name]
                elif isinstance(base.value, cst.Name) and base.value.value in self.names:
                    kind = kind or self.names[base.value.value]
            if kind:
                self.kinds[id(node)] = kind
                self.names[node.name.value] = kind
                self.class_nodes[node.name.value] = node

    def _input_shapes(self, tree: cst.Module) -> dict[str, tuple]:
        """Class -> input shape (batch excluded) when every instance tells the same one through
        `var.build((None, ...))` or `var(keras.Input(...))`."""
        owner = self
        classes: dict[str, str] = {}  # variable -> class
        bindings: dict[str, int] = {}
        inputs: dict[str, cst.Call] = {}  # variable -> keras.Input(...) call assigned to it
        shape_calls: list[tuple[str, cst.Call, str]] = []  # (variable, call, "build" / "call")
        instances: dict[str, int] = {}  # class -> number of instantiations anywhere

        class Scan(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        bindings[t.target.value] = bindings.get(t.target.value, 0) + 1
                if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call):
                    var, func = node.targets[0].target.value, node.value.func
                    if isinstance(func, cst.Name) and func.value in owner.names:
                        classes[var] = func.value
                    elif owner.qualname(node.value) == "keras.Input":
                        inputs[var] = node.value

            def visit_Call(self, node: cst.Call) -> None:
                func = node.func
                if isinstance(func, cst.Name) and func.value in owner.names:
                    owner.keywords.setdefault(func.value, set()).update(a.keyword.value for a in node.args if a.keyword)
                    instances[func.value] = instances.get(func.value, 0) + 1
                if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value == "build":
                    shape_calls.append((func.value.value, node, "build"))
                elif isinstance(func, cst.Name) and len(node.args) == 1 and node.args[0].keyword is None:
                    shape_calls.append((func.value, node, "call"))

        tree.visit(Scan())
        found: dict[str, set] = {}
        for var, call, how in shape_calls:
            if var not in classes or bindings.get(var) != 1:
                continue
            shape = self._shape_of(call, how, inputs)
            if shape is not None:
                found.setdefault(var, set()).add(shape)
                self.build_calls.setdefault(classes[var], []).append(call)  # removed if the class needs no build
        shapes = {}
        for cls in set(classes.values()):
            variables = [v for v, c in classes.items() if c == cls]
            seen = set().union(*(found.get(v, set()) for v in variables))
            every_instance = instances.get(cls, 0) == len(variables)  # none made elsewhere (in a list, another class...)
            if len(seen) == 1 and every_instance and all(found.get(v) and bindings.get(v) == 1 for v in variables):
                shapes[cls] = next(iter(seen))
        return shapes

    def _shape_of(self, call: cst.Call, how: str, inputs: dict) -> tuple | None:
        import keras

        arg = call.args[0] if call.args else None
        if arg is None or (arg.keyword is not None and arg.keyword.value != "input_shape"):
            return None
        ev = Evaluator(self.qualname, dict(self.constants), Symbols(), set())
        try:
            if how == "build":
                shape = ev.eval(arg.value)
                shape = tuple(shape)[1:] if isinstance(shape, (tuple, list)) and len(shape) > 1 else None
            else:
                value = arg.value
                if isinstance(value, cst.Name) and value.value in inputs:
                    value = inputs[value.value]
                if not (isinstance(value, cst.Call) and self.qualname(value) == "keras.Input"):
                    return None
                tensor = ev.eval(value)
                shape = tuple(tensor.shape)[1:] if isinstance(tensor, keras.KerasTensor) else None
        except Exception:
            return None
        if shape is None or not all(isinstance(d, int) and not isinstance(d, bool) or d is None for d in shape):
            return None
        return shape

    def _record_models(self, tree: cst.Module) -> None:
        owner = self

        class Find(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                if (len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call)
                        and isinstance(node.value.func, cst.Name)):
                    cls = node.value.func.value
                    if owner.names.get(cls) == "model" and cls in owner.translated:
                        var = node.targets[0].target.value
                        owner.state.models[var] = ModelInfo(var, cls, [], [], owner.activations.get(cls))

        tree.visit(Find())

    # statements outside the classes ------------------------------------------------------------
    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) == 1 and isinstance(original.body[0], cst.Expr):
            call = original.body[0].value
            for cls, calls in self.build_calls.items():
                if cls in self.sized and any(call is c for c in calls):
                    self.state.note(f"`{self.code(call)}`: not needed, {cls} takes its sizes from that input shape")
                    return cst.RemovalSentinel.REMOVE
        return updated

    # classes -------------------------------------------------------------------------------------
    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef):
        kind = self.kinds.get(id(original))
        if kind is None:
            return updated
        self.uses: list[_Translation] = []
        try:
            result = self._translate_class(original, kind)
        except Exception as exc:  # a bug of ours: keep the class as it was, say so
            import os
            import traceback

            if os.environ.get("TF2TORCH_DEBUG"):
                raise
            from pathlib import Path

            where = traceback.extract_tb(exc.__traceback__)[-1]
            self.todo(f"internal error translating class {original.name.value} ({type(exc).__name__}: {exc} at "
                      f"{Path(where.filename).name}:{where.lineno}); kept as is")
            return updated
        self._commit_uses()
        self.translated.add(original.name.value)
        self.state.need("from torch import nn")
        self.state.note(f"class {original.name.value}: subclassed Keras {'Model' if kind == 'model' else 'Layer'} -> nn.Module")
        return result

    def _translate_class(self, cls: cst.ClassDef, kind: str) -> cst.ClassDef:
        info = _ClassInfo(cls, kind)
        name = cls.name.value
        self.class_name = name
        self.init_constants = {k: v for k, v in self.constants.items() if k not in info.init_params | info.init_locals}
        plan = self._specs(info)
        sites = self._sites(info, plan)
        self._plan(info, plan, sites)
        for base in reversed(cls.bases):  # layers a translated base class created: their call sites here too
            inherited = self.plans.get(base.value.value) if isinstance(base.value, cst.Name) else None
            if inherited is not None:
                for key in ("translations", "list_templates"):
                    getattr(plan, key).update({k: v for k, v in getattr(inherited, key).items() if k not in plan.spec_statements.values()})
                plan.custom |= inherited.custom - set(plan.spec_statements.values())
        self.plans[name] = plan
        init_additions, build, lazy_build = self._translate_build(info)
        forward_param = None
        body = []
        for stmt in cls.body.body:
            if not isinstance(stmt, cst.FunctionDef):
                body.append(stmt)
                continue
            method = stmt.name.value
            if method == "__init__":
                body.append(self._rewrite_init(info, plan, stmt, init_additions + ([_parse("self.built = False")] if lazy_build else [])))
                init_additions = []
            elif method == "build":
                if build is not None:
                    body.append(build)
            elif method == "call":
                new, forward_param = self._rewrite_call(info, plan, stmt, lazy_build)
                body.append(new)
            else:
                body.append(stmt.visit(_BodyRewriter(self, plan, method, used_names(stmt), False)))
        if init_additions or (lazy_build and info.init is None):
            init = _parse("def __init__(self):\n    super().__init__()\n")
            extra = init_additions + ([_parse("self.built = False")] if lazy_build else [])
            init = init.with_changes(body=init.body.with_changes(body=[*init.body.body, *extra]))
            at = next((i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef)), len(body))
            if at < len(body) and not body[at].leading_lines:
                body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            body.insert(at, init)
        if lazy_build and forward_param is None:
            self.todo("build() creates weights from the input shape but there is no call() to run it from")
        # fully sized: no lazy module/parameter left, here or in the classes it uses
        source = _code(cst.Module(body=body)) + "".join(h for t in self.uses for h in t.helpers)
        nested = {c for c, _ in plan.custom_calls.values()}
        if ("nn.Lazy" not in source and "Uninitialized" not in source and not plan.refusals
                and nested <= self.sized and set(plan.custom_calls) == plan.custom):
            self.sized.add(name)
        self.activations[name] = self._output_activation(info, plan)
        bases = []
        for base in cls.bases:
            if base.keyword is None and self.qualname(base.value) in _KERAS_BASES:
                base = base.with_changes(value=cst.Attribute(cst.Name("nn"), cst.Name("Module")))
            bases.append(base)
        decorators = [d for d in cls.decorators if not (self.qualname(d.decorator) or "").endswith("register_keras_serializable")]
        if len(decorators) != len(cls.decorators):
            self.state.note(f"class {name}: @register_keras_serializable dropped (Keras serialisation only)")
        return cls.with_changes(bases=bases, decorators=decorators, body=cls.body.with_changes(body=body))

    def _output_activation(self, info: _ClassInfo, plan: _ClassPlan) -> str | None:
        if info.kind != "model" or info.call is None or not isinstance(info.call.body, cst.IndentedBlock):
            return None
        stmts = list(info.call.body.body)
        last = stmts[-1] if stmts else None
        if not (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return) and last.body[0].value is not None):
            return None
        value = last.body[0].value
        if isinstance(value, cst.Name):
            for stmt in reversed(stmts[:-1]):
                pair = _single_assign(stmt)
                if pair and isinstance(pair[0], cst.Name) and pair[0].value == value.value:
                    value = pair[1]
                    break
        attr = _self_attr(value.func) if isinstance(value, cst.Call) else None
        if attr in plan.translations:
            acts = {t.activation for t in plan.translations[attr].values()}
            act = acts.pop() if len(acts) == 1 else None
            return act if act not in (None, "linear") else None
        return None

    # layer attributes ------------------------------------------------------------------------------
    def _specs(self, info: _ClassInfo) -> _ClassPlan:
        plan = _ClassPlan()
        seen: dict[str, int] = {}
        for index, top in enumerate(info.init_body):
            for stmt in _walk_blocks([top]):
                pair = _single_assign(stmt)
                attr = _self_attr(pair[0]) if pair else None
                if attr is None:
                    continue
                value = pair[1]
                if not (isinstance(value, cst.Name) and value.value == "None"):  # `self.x = None` in another branch is fine
                    seen[attr] = seen.get(attr, 0) + 1
                if isinstance(value, (cst.List, cst.ListComp)):
                    elements = self._list_elements(value, index)
                    if elements:
                        plan.lists[attr] = _ListSpec(attr, value, elements)
                        plan.spec_statements[id(stmt)] = attr
                    continue
                if not isinstance(value, cst.Call):
                    continue
                if isinstance(value.func, cst.Name) and value.func.value in self.names:
                    plan.custom.add(attr)
                    plan.custom_calls[attr] = (value.func.value, value)
                    continue
                if self.qualname(value) == "keras.Model":
                    plan.refusals[attr] = "a functional Keras model built in __init__ is not translated: build it outside the class"
                    plan.spec_statements[id(stmt)] = attr
                    continue
                cls = self._keras_layer_class(value)
                if cls is not None:
                    plan.specs[attr] = _LayerSpec(attr, value, cls, index)
                    plan.spec_statements[id(stmt)] = attr
        for attr, count in seen.items():
            if count > 1 and attr in plan.lists:
                plan.refusals[attr] = f"self.{attr} is assigned several times in __init__: its torch modules are ambiguous"
                del plan.lists[attr]
            if count > 1:
                plan.custom_calls.pop(attr, None)
            if count > 1 and attr in plan.specs:
                plan.refusals[attr] = f"self.{attr} is assigned several times in __init__: its torch module is ambiguous"
                del plan.specs[attr]
        return plan

    def _list_elements(self, value, position: int) -> list[_LayerSpec]:
        """The layer constructors of a list display / comprehension, or [] if it is not one."""
        import keras

        if isinstance(value, cst.ListComp):
            calls, scope = [value.elt], set()
            comp = value.for_in
            while comp is not None:
                if comp.ifs:
                    return []
                scope.update(target_names(comp.target))
                comp = comp.inner_for_in
        else:
            if not value.elements or not all(isinstance(el, cst.Element) for el in value.elements):
                return []
            calls, scope = [el.value for el in value.elements], set()
        specs = []
        for call in calls:
            if not isinstance(call, cst.Call):
                return []
            if isinstance(call.func, cst.Name) and call.func.value in self.names:
                specs.append(_LayerSpec(_ELEMENT, call, None, position, frozenset(scope)))
                continue
            cls = self._keras_layer_class(call)
            if cls is None or cls is keras.Sequential:
                return []
            specs.append(_LayerSpec(_ELEMENT, call, cls, position, frozenset(scope)))
        return specs

    def _translate_list(self, spec: _ListSpec, info: _ClassInfo) -> tuple[str, list]:
        """(nn.ModuleList(...) source with placeholders, one forward template per element)."""
        from ...registry import lookup

        ctors, templates = [], []
        for element in spec.elements:
            if element.cls is None:  # a translated custom class: constructed and called as it is
                ctors.append(_code(element.call))
                templates.append(_Translation([], [], f"{_ELEMENT}(__tfx_in0__)"))
                continue
            if lookup(element.cls) is None:
                raise _Refused(f"{element.cls.__name__} is not supported by the model converter (see docs/support.md)")
            t = self._translate_attr(element, ("single",), None, info)
            if len(t.ctors) != 1:
                raise _Refused(f"{element.cls.__name__} has no single torch module: not translated inside a list of layers")
            by_placeholder = {s.placeholder: s.node for s in self.table.by_text.values()}
            mapping = {ph: by_placeholder[ph] for ph in t.ctor_symbols}
            ctors.append(_code(_fill_expression(t.ctors[0][1], mapping)))
            templates.append(t)
            self._use(t)
        if isinstance(spec.value, cst.ListComp):
            comp = spec.value.with_changes(elt=cst.parse_expression(ctors[0]))
            return f"nn.ModuleList({_code(comp)})", templates
        return "nn.ModuleList([" + ", ".join(ctors) + "])", templates

    def _sites(self, info: _ClassInfo, plan: _ClassPlan) -> dict[str, list[tuple]]:
        """attribute -> call signature of each call site, over the methods (not __init__/build)."""
        sites: dict[str, list[tuple]] = {}

        class Collect(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                attr = _self_attr(node.func)
                if attr in plan.specs:
                    sites.setdefault(attr, []).append(_call_signature(node))

        for method, fn in info.methods.items():
            if method not in ("__init__", "build"):
                fn.visit(Collect())
        return sites

    def _plan(self, info: _ClassInfo, plan: _ClassPlan, sites: dict[str, list[tuple]]) -> None:
        import keras

        from ...registry import lookup

        for attr, spec in list(plan.specs.items()):
            if lookup(spec.cls) is None and spec.cls is not keras.Sequential:
                plan.refusals[attr] = f"{spec.cls.__name__} is not supported by the model converter (see docs/support.md)"
                del plan.specs[attr]
        observations = self._observe(info, plan)
        for attr, spec in plan.specs.items():
            attr_sites = sites.get(attr, [])
            signatures = sorted({s for s in attr_sites if s is not None}) or [("single",)]
            try:
                per_signature = {}
                for sig in signatures:
                    observed = self._observed_shapes(observations, attr, sig, len(attr_sites))
                    per_signature[sig] = self._translate_attr(spec, sig, observed, info)
                if len({repr(t.ctors) for t in per_signature.values()}) > 1:
                    raise _Refused(f"self.{attr} is called with inputs that need different torch modules")
                plan.translations[attr] = per_signature
            except _Refused as exc:
                plan.refusals[attr] = str(exc)
        for attr, spec in plan.lists.items():
            try:
                plan.list_ctors[attr], plan.list_templates[attr] = self._translate_list(spec, info)
            except _Refused as exc:
                plan.refusals[attr] = str(exc)

    def _observed_shapes(self, observations, attr: str, sig: tuple, n_sites: int):
        """Per run, the input shapes `attr` gets in each possible context, if every call site was seen."""
        if not observations or not n_sites:
            return None
        per_run = []
        for contexts in observations:
            if not contexts:
                return None
            candidates = []
            for observed in contexts:
                seen = observed.get(attr, [])
                if len(seen) != n_sites or any(s != seen[0] for s in seen) or seen[0][0] != sig:
                    return None
                candidates.append(seen[0][1])
            per_run.append(candidates)
        return per_run

    def _observe(self, info: _ClassInfo, plan: _ClassPlan):
        """Follow `call` on symbolic inputs (every rank 2-5 when the input shape is unknown): per run,
        the layer input shapes observed in each context that Keras accepts."""
        call = info.call
        if call is None or not isinstance(call.body, cst.IndentedBlock) or not plan.specs:
            return None
        params = _params(call)[1:]
        tensors = [p for p in params if p.name.value not in ("training", "mask")]
        if len(tensors) != 1 or isinstance(call.params.star_arg, cst.Param) or _destructured(call.body, tensors[0].name.value):
            return None
        shape = self.input_shapes.get(info.cls.name.value)
        result = []
        for run in (0, 1):
            shapes = [(None, *shape)] if shape is not None else [(None,) * (r - 1) + (self.table.input_size[run],) for r in range(2, 6)]
            contexts = []
            for s in shapes:
                observed = self._run_call(info, plan, tensors[0].name.value, s, run)
                if observed is not None:
                    contexts.append(observed)
            result.append(contexts)
        return result

    def _run_call(self, info: _ClassInfo, plan: _ClassPlan, param: str, shape: tuple, run: int):
        import keras

        layers = {}
        for attr, spec in plan.specs.items():
            try:
                layers[attr] = self._make(spec, run)
            except (_Refused, NotStatic):
                pass
        local = assigned_names(info.call.body) | {p.name.value for p in _params(info.call)}
        env = {k: v for k, v in self.constants.items() if k not in local}
        try:
            env[param] = keras.Input(shape=shape[1:])
        except Exception:
            return None
        customs = {attr: self._custom_layer(cls, call, run, 1) for attr, (cls, call) in plan.custom_calls.items()}
        ev = _CallEvaluator(self.qualname, env, layers, customs)
        try:
            for stmt in info.call.body.body:
                _evaluate_statement(ev, stmt)
        except _Impossible:
            return None
        return ev.observed

    def _custom_layer(self, cls_name: str, call: cst.Call, run: int, depth: int):
        """A function running a translated custom layer's call() on symbolic tensors (so that sizes
        flow through nested layers), or None when its constructor cannot be followed."""
        node = self.class_nodes.get(cls_name)
        if node is None or depth > 3:
            return None
        info = _ClassInfo(node, self.names[cls_name])
        if info.init is None or info.call is None or not isinstance(info.call.body, cst.IndentedBlock):
            return None
        ev = Evaluator(self.qualname, dict(self.init_constants), Symbols(), set())

        def value(n):
            try:
                return ev.eval(n)
            except NotStatic:
                return self.table.value(self.table.get(n), run)

        params = _params(info.init)[1:]
        names = [p.name.value for p in params]
        positional = [a for a in call.args if a.keyword is None]
        if any(a.star for a in call.args) or len(positional) > len(params):
            return None
        try:
            bound = {p.name.value: value(a.value) for p, a in zip(params, positional)}
            bound.update({a.keyword.value: value(a.value) for a in call.args if a.keyword is not None and a.keyword.value in names})
            for p in params:
                if p.name.value not in bound:
                    if p.default is None:
                        return None
                    bound[p.name.value] = literal(p.default)
        except Exception:
            return None
        outer = self.init_constants
        self.init_constants = {k: v for k, v in self.constants.items() if k not in info.init_params | info.init_locals}
        env = {**self.init_constants, **{k: v for k, v in bound.items() if k not in info.init_locals}}
        try:
            plan = self._specs(info)
            layers = {}
            for attr, spec in plan.specs.items():
                try:
                    layers[attr] = self._make(spec, run, env)
                except (_Refused, NotStatic):
                    pass
            customs = {attr: self._custom_layer(c, k, run, depth + 1) for attr, (c, k) in plan.custom_calls.items()}
        finally:
            self.init_constants = outer
        tensors = [p.name.value for p in _params(info.call)[1:] if p.name.value not in ("training", "mask")]
        local = assigned_names(info.call.body) | {p.name.value for p in _params(info.call)}
        if len(tensors) != 1:
            return None

        def apply(x):
            inner = _CallEvaluator(self.qualname, {**{k: v for k, v in self.constants.items() if k not in local}, tensors[0]: x},
                                   layers, customs)
            for stmt in info.call.body.body:
                returned = _evaluate_statement(inner, stmt)
                if returned is not None:
                    return returned[0]
            raise NotStatic(f"{cls_name}.call")

        return apply

    # rebuilding and translating one layer ----------------------------------------------------------
    def _keras_layer_class(self, call: cst.Call):
        """The Keras layer class (or keras.Sequential) a constructor call names, or None."""
        import keras

        qualname = self.qualname(call) or ""
        if qualname == "keras.Sequential":
            return keras.Sequential
        if not qualname.startswith("keras.layers."):
            return None
        try:
            cls = Evaluator(self.qualname, {}, Symbols(), set()).resolve(qualname)
        except NotStatic:
            return None
        if isinstance(cls, type) and issubclass(cls, keras.layers.Layer) and not issubclass(cls, keras.Model):
            return cls
        return None

    def _make(self, spec: _LayerSpec, run: int, env: dict | None = None):
        """A fresh Keras layer from the constructor call; non-constant arguments are symbols (or,
        with `env`, the values of a nested layer's constructor arguments: no symbol then)."""
        import keras

        ev = Evaluator(self.qualname, dict(self.init_constants if env is None else env), Symbols(), set())
        used: list[_Symbol] = []

        def abstract(node):
            try:
                return ev.eval(node)
            except NotStatic:
                if env is not None:
                    raise
            except Exception as exc:  # Keras refused a nested constructor
                raise _Refused(f"Keras rejects `{_code(node)}`: {' '.join(str(exc).split())[:160]}") from None
            if isinstance(node, (cst.Tuple, cst.List)) and all(isinstance(el, cst.Element) for el in node.elements):
                values = [abstract(el.value) for el in node.elements]
                return tuple(values) if isinstance(node, cst.Tuple) else values
            if isinstance(node, cst.Call):  # a nested Keras constructor (inside a Sequential...)
                cls = self._keras_layer_class(node)
                if cls is not None:
                    return _Deferred(cls, *arguments(node))
            sym = self.table.get(node)
            used.append(sym)
            return sym

        def arguments(call):
            args, kwargs = [], {}
            for arg in call.args:
                if arg.star:
                    raise _Refused(f"{_code(call.func)}(*...) cannot be rebuilt statically")
                if arg.keyword is not None and arg.keyword.value in _IGNORED_ARGS:
                    continue
                if arg.keyword is None:
                    args.append(abstract(arg.value))
                else:
                    kwargs[arg.keyword.value] = abstract(arg.value)
            return args, kwargs

        args, kwargs = arguments(spec.call)
        undecided = [s for s in dict.fromkeys(used) if s.kind is None]
        if len(undecided) > 4:
            raise _Refused(f"{spec.cls.__name__}: too many arguments known only at run time")

        def value(v, kinds):
            if isinstance(v, _Symbol):
                return self.table.value(v, run, kinds.get(v.index))
            if isinstance(v, (list, tuple)):
                return type(v)(value(i, kinds) for i in v)
            if isinstance(v, _Deferred):
                return make_layer(v.cls, value(v.args, kinds), {k: value(i, kinds) for k, i in v.kwargs.items()})
            return v

        for combo in itertools.product(("int", "float"), repeat=len(undecided)):
            kinds = {s.index: k for s, k in zip(undecided, combo)}
            name = spec.attr if spec.cls is keras.Sequential else _LAYER_NAME
            try:
                layer = make_layer(spec.cls, value(args, kinds), {**{k: value(v, kinds) for k, v in kwargs.items()}, "name": name})
            except NotStatic:
                continue
            if spec.cls is keras.Sequential:  # the names a fresh session gives, whatever was built before
                from keras.src.utils.naming import to_snake_case

                from ...names import Namespace

                names = Namespace(set())
                for inner in layer.layers:
                    inner.name = names.name(to_snake_case(type(inner).__name__))
            for s in undecided:
                s.kind = kinds[s.index]
            layer._tfx_symbols = {s.placeholder for s in used}
            return layer
        if used:
            names = ", ".join(f"`{_code(s.node)}`" for s in dict.fromkeys(used))
            raise _Refused(f"cannot rebuild {spec.cls.__name__} statically: {names} known only at run time")
        raise _Refused(f"Keras rejects this {spec.cls.__name__} definition")

    def _translate_attr(self, spec: _LayerSpec, sig: tuple, observed, info: _ClassInfo) -> _Translation:
        """Try the sizes `call` gives (observed), then a lazy module; the last refusal explains."""
        error = None
        for shapes in ([observed] if observed else []) + [None]:
            try:
                return self._translate_with(spec, sig, shapes, info)
            except _Refused as exc:
                error = exc
        raise error

    def _translate_with(self, spec: _LayerSpec, sig: tuple, shapes_per_run, info: _ClassInfo) -> _Translation:
        results = []
        for run in (0, 1):
            given = self._make(spec, run)._tf2torch_input_shape
            if shapes_per_run is not None:
                candidates = shapes_per_run[run]
            elif given is not None and sig == ("single",):
                candidates = [((None, *given),)]
            else:
                candidates = _lazy_candidates(sig, self.table.input_size[run])
            found: dict[str, _Translation] = {}
            errors = []
            for shapes in candidates:
                try:
                    t = self._one(spec, sig, shapes, run)
                except (_Refused, NotStatic) as exc:
                    errors.insert(len(errors) if isinstance(exc, _BadInput) else 0, str(exc))  # the telling ones first
                    continue
                t.shapes = shapes
                found.setdefault(t.signature, t)
            if not found:
                raise _Refused(errors[0] if errors else f"{spec.cls.__name__} has no translation")
            if len(found) > 1 and shapes_per_run is None:
                found = self._rank_free(spec, sig, list(found.values()))
            if len(found) > 1:
                raise _Refused(f"the torch code of {spec.cls.__name__} depends on the rank of its input, which is unknown statically: "
                               "give the model an input shape (model.build((None, ...)) or keras.Input)")
            results.append(next(iter(found.values())))
        first, second = results
        if first.signature != second.signature:
            raise _Refused(f"a size or argument of {spec.cls.__name__} is computed from values known only at run time: give them values")
        by_placeholder = {s.placeholder: s for s in self.table.by_text.values()}
        for ph in sorted(first.own_symbols - first.symbols):
            raise _Refused(f"argument `{_code(by_placeholder[ph].node)}` of {spec.cls.__name__} is used in a way the translation cannot "
                           "follow (a flag or a mode?): give it a literal value")
        for ph in first.ctor_symbols - first.own_symbols:
            if not self._available(by_placeholder[ph].node, spec.position, info, spec.scope):
                raise _Refused(f"the size `{_code(by_placeholder[ph].node)}` is not available where self.{spec.attr} is built")
        for ph in first.template_symbols:
            node = by_placeholder[ph].node
            if _names_in(node) != {"self"} or not all(a in info.top_attrs for a in _self_attrs_in(node)):
                raise _Refused(f"the forward code of {spec.cls.__name__} needs `{_code(node)}`, which only __init__ knows")
        return first

    def _rank_free(self, spec: _LayerSpec, sig: tuple, candidates: list[_Translation]) -> dict:
        """Translations that differ with the input rank may still agree on every rank (Flatten:
        `x.flatten(1)` is also right for a rank-2 input, where Keras' Flatten does nothing). For a
        module-free translation, check the highest-rank one numerically against the Keras layer at
        every other rank; the generated expression only is run, never the script."""
        import keras

        best = max(candidates, key=lambda t: len(t.shapes[0]))
        if best.ctors or best.pre or best.helpers or best.symbols or sig != ("single",):
            return {t.signature: t for t in candidates}
        expression = compile(best.result, "<translation>", "eval")
        rng = np.random.default_rng(0)
        for t in candidates:
            shape = tuple(d if d is not None else 3 + i for i, d in enumerate(t.shapes[0]))
            shape = tuple(5 if d == self.table.input_size[0] else d for d in shape)
            x = rng.standard_normal(shape).astype("float32")
            try:
                layer = self._make(spec, 0)
                expected = keras.ops.convert_to_numpy(layer(x))
                with torch.no_grad():
                    got = eval(expression, {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, "math": math},
                               {"__tfx_in0__": torch.from_numpy(x)}).numpy()
            except Exception:
                return {t.signature: t for t in candidates}
            if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-6, atol=1e-6):
                return {t.signature: t for t in candidates}
        return {best.signature: best}

    def _available(self, node, position: int, info: _ClassInfo, scope=frozenset()) -> bool:
        """Whether an expression can be evaluated in __init__ before top-level statement `position`."""
        for name in _names_in(node):
            if name == "self" or name in scope:
                continue
            if name in info.init_params and name not in info.init_locals:
                continue
            return False
        return all(info.top_attrs.get(a, len(info.init_body)) < position for a in _self_attrs_in(node))

    def _one(self, spec: _LayerSpec, sig: tuple, shapes: tuple, run: int) -> _Translation:
        """The layer inside a one-layer functional model on inputs of these shapes -> its torch code."""
        import keras

        from ...frontend.keras3 import read_model

        layer = self._make(spec, run)
        name = spec.cls.__name__
        try:
            inputs = [keras.Input(shape=tuple(s[1:])) for s in shapes]
            out = layer(inputs if sig[0] == "list" else inputs[0])
        except Exception as exc:
            raise _BadInput(f"{name} does not accept this input: {' '.join(str(exc).split())[:160]}") from None
        if spec.cls is keras.Sequential:
            return self._one_sequential(spec, layer, run)
        special = _train_time(layer, len(shapes[0]))
        todos: list[str] = []
        runtime: set[str] = set()
        if special is not None:
            ctor, result, entry = special
            ctors, pre = [(spec.attr, ctor)], []
            runtime = {entry} if entry else set()
        else:
            try:
                program = build_program(read_model(keras.Model(inputs, out)), "Tfx", input_layout="keras")
            except Tf2TorchError as exc:
                raise _Refused(" ".join(str(exc).split())) from None
            if program.buffers:
                raise _Refused(f"{name} keeps constants computed by Keras (buffers): not translated")
            ctors = []
            for sm in program.submodules:
                if sm.attr != _LAYER_NAME and not sm.attr.startswith(_LAYER_NAME + "_"):
                    raise _Refused(f"{name}: unexpected module {sm.attr}")
                ctors.append((spec.attr + sm.attr[len(_LAYER_NAME):], sm.ctor))
            pre, result = _template(program)
            todos = [w.split(": ", 1)[-1] for w in program.warnings]

        def rename(node):
            if isinstance(node, fr.Ref) and (node.path == f"self.{_LAYER_NAME}" or node.path.startswith(f"self.{_LAYER_NAME}_")):
                if spec.attr == _ELEMENT:  # an element of a list of layers: the module is whatever the call site calls
                    if node.path != f"self.{_LAYER_NAME}":
                        raise _Refused(f"{name} needs several torch modules: not translated inside a list of layers")
                    return fr.Ref(_ELEMENT)
                return fr.Ref(f"self.{spec.attr}{node.path[len('self.' + _LAYER_NAME):]}")
            return node

        table = self.table.write_back(run)
        lazy = Symbols(by_name={_INPUT_SYMBOL: self.table.input_size[run]})
        r = Renderer()
        ctor_src = [(a, _render(r, _lazy_ctor(_write_back(c, table), lazy))) for a, c in ctors]
        pre_src = [(_render_target(t), _render(r, _write_back(fr.map_expr(v, rename), table))) for t, v in pre]
        result_src = _render(r, _write_back(fr.map_expr(result, rename), table))
        everything = repr((ctor_src, pre_src, result_src))
        if _INPUT_SYMBOL in everything:
            raise _Refused(f"the input size of {name} is unknown statically and torch has no lazy version of its module: "
                           "give the model an input shape (model.build((None, ...)), keras.Input or input_shape=)")
        imports = {_IMPORTS[root] for root in r.roots}
        helpers = _helper_sources(r.helpers)
        for h in helpers:
            imports |= {_IMPORTS[n.id] for n in ast.walk(ast.parse(h)) if isinstance(n, ast.Name) and n.id in _IMPORTS}
        for entry in runtime:  # what the runtime code copied into the script uses
            imports |= _RUNTIME_IMPORTS[entry]
        activation = layer.get_config().get("activation")
        t = _Translation(ctor_src, pre_src, result_src, imports, helpers, runtime, todos,
                         activation if isinstance(activation, str) else None)
        t.symbols = _placeholders(everything, "s")
        t.ctor_symbols = _placeholders(repr(ctor_src), "s")
        t.template_symbols = _placeholders(repr((pre_src, result_src)), "s")
        t.own_symbols = set(layer._tfx_symbols)
        return t

    def _one_sequential(self, spec: _LayerSpec, model, run: int) -> _Translation:
        """A keras.Sequential attribute (built on its input) -> a class of its own, emitted by the
        model converter like a Sequential of the script; its sizes known only at run time become
        constructor arguments."""
        from ...emit import emit_parts
        from ...frontend.keras3 import read_model

        for inner in model.layers:
            if _train_time(inner, len(inner.input.shape)) is not None:
                raise _Refused(f"{type(inner).__name__} inside a Sequential attribute acts in training, which the model converter "
                               "leaves out: make the Sequential a translated class")
        class_name = self.class_names.name(camel(spec.attr, "Block"), key=(self.class_name, spec.attr))
        try:
            program = build_program(read_model(model), class_name, input_layout="keras")
        except Tf2TorchError as exc:
            raise _Refused(" ".join(str(exc).split())) from None
        if program.buffers:
            raise _Refused("the Sequential keeps constants computed by Keras (buffers): not translated")
        table = self.table.write_back(run)
        lazy = Symbols(by_name={_INPUT_SYMBOL: self.table.input_size[run]})
        for sm in program.submodules:
            sm.ctor = _lazy_ctor(_write_back(sm.ctor, table), lazy)
        program.statements = [(t, _write_back(v, table)) for t, v in program.statements]
        program.returns = [_write_back(r, table) for r in program.returns]
        used = sorted({p for sm in program.submodules for p in _refs(sm.ctor) if p.startswith("__tfx_s")},
                      key=lambda p: int(p[len("__tfx_s"):-2]))
        by_placeholder = {s.placeholder: s for s in self.table.by_text.values()}
        params = self._parameter_names([by_placeholder[p].node for p in used])
        rename = dict(zip(used, params))
        for sm in program.submodules:
            sm.ctor = fr.map_expr(sm.ctor, lambda n: fr.Ref(rename[n.path]) if isinstance(n, fr.Ref) and n.path in rename else n)
        program.init_args = params
        imports, helpers, class_src = emit_parts(program)
        everything = class_src + repr((program.statements, program.returns))
        if _INPUT_SYMBOL in everything or "__tfx_s" in everything:
            raise _Refused("a size of this Sequential is unknown statically (no lazy torch module for it, or used in forward): "
                           "give the model an input shape")
        ctor = f"{class_name}({', '.join(used)})"
        t = _Translation([(spec.attr, ctor)], [], f"self.{spec.attr}(__tfx_in0__)", set(imports), helpers + [class_src], set(),
                         [w.split(": ", 1)[-1] for w in program.warnings])
        t.symbols = t.ctor_symbols = set(used)
        t.own_symbols = set(model._tfx_symbols)
        return t

    def _parameter_names(self, nodes: list) -> list[str]:
        from ...names import RESERVED, Namespace

        names = Namespace(RESERVED | {"self"})
        out = []
        for node in nodes:
            raw = node.value if isinstance(node, cst.Name) else (_self_attr(node) or to_identifier(_code(node), fallback="size"))
            out.append(names.name(raw, fallback="size"))
        return out

    def instantiate(self, t: _Translation, args: list, fresh, extra: dict | None = None) -> tuple[list, cst.BaseExpression]:
        """A translation's forward code at a call site: (statements to put before, expression)."""
        self._use(t)
        by_placeholder = {s.placeholder: s.node for s in self.table.by_text.values()}
        mapping: dict[str, cst.BaseExpression] = {ph: by_placeholder[ph] for ph in t.template_symbols}
        mapping.update(extra or {})
        pre = []
        text = t.template
        for i, arg in enumerate(args):
            ph = f"__tfx_in{i}__"
            if text.count(ph) > 1 and not isinstance(arg, (cst.Name, cst.Attribute)):
                tmp = fresh.name("tmp")
                pre.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(tmp))], arg)]))
                arg = cst.Name(tmp)
            mapping[ph] = arg
        for ph in sorted(_placeholders(text, "l_")):
            mapping[ph] = cst.Name(fresh.name(ph[len("__tfx_l_"):-2], fallback="tmp"))
        for target, value in t.pre:
            pre.append(_fill_statement(f"{target} = {value}", mapping).visit(_CancelPermutes()))
        return pre, _fill_expression(t.result, mapping).visit(_CancelPermutes())

    def _use(self, t: _Translation) -> None:
        """Imports, runtime and helpers a translation needs (committed when its class is done)."""
        self.uses.append(t)

    def _commit_uses(self) -> None:
        for t in self.uses:
            self.state.need(*t.imports)
            self.state.use(*t.runtime)
            for h in t.helpers:
                if h not in self.state.classes:
                    self.state.classes.append(h)
        self.uses = []

    # __init__ --------------------------------------------------------------------------------------
    def _rewrite_init(self, info: _ClassInfo, plan: _ClassPlan, init: cst.FunctionDef, additions: list) -> cst.FunctionDef:
        body = self._init_block(info, plan, list(init.body.body)) + additions
        params = init.params
        star = params.star_kwarg
        if isinstance(star, cst.Param):
            kwargs = star.name.value
            still_used = kwargs in used_names(cst.Module(body=body))
            callers_need = bool(self.keywords.get(info.cls.name.value, set()) - info.init_params)
            if not still_used and not callers_need:
                params = params.with_changes(star_kwarg=None)
                last = list(params.kwonly_params or params.params)
                if last and last[-1].comma != cst.MaybeSentinel.DEFAULT:  # no dangling comma
                    fixed = last[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    params = params.with_changes(**{"kwonly_params" if params.kwonly_params else "params": [*last[:-1], fixed]})
                if isinstance(params.star_arg, cst.ParamStar) and not params.kwonly_params:
                    params = params.with_changes(star_arg=cst.MaybeSentinel.DEFAULT)
        return init.with_changes(params=params, body=init.body.with_changes(body=body))

    def _init_block(self, info: _ClassInfo, plan: _ClassPlan, stmts: list) -> list:
        out = []
        for stmt in stmts:
            if isinstance(stmt, cst.If):
                out.append(self._init_if(info, plan, stmt))
                continue
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                out.append(stmt)
                continue
            small = stmt.body[0]
            if isinstance(small, cst.Expr) and _is_super_call(small.value, "__init__"):
                call = small.value
                if call.args:
                    self.state.note("super().__init__(): Keras layer arguments (name, dtype, ...) have no nn.Module counterpart")
                out.append(stmt.with_changes(body=[small.with_changes(value=call.with_changes(args=[]))]))
                continue
            attr = plan.spec_statements.get(id(stmt))
            if attr is not None:
                out.extend(self._layer_statements(plan, attr, stmt))
                continue
            pair = _single_assign(stmt)
            if pair and _self_attr(pair[0]) and _is_add_weight(pair[1]):
                try:
                    created, _, _ = self._weight(_self_attr(pair[0]), pair[1], static=True)
                except _Refused as exc:
                    out.append(with_todos(stmt, [str(exc)]))
                    continue
                created[0] = created[0].with_changes(leading_lines=stmt.leading_lines)
                out.extend(created)
                continue
            out.append(stmt)
        return out

    def _init_if(self, info, plan, stmt: cst.If) -> cst.If:
        body = stmt.body.with_changes(body=self._init_block(info, plan, list(stmt.body.body)) or [_parse("pass")])
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            orelse = self._init_if(info, plan, orelse)
        elif isinstance(orelse, cst.Else):
            orelse = orelse.with_changes(body=orelse.body.with_changes(
                body=self._init_block(info, plan, list(orelse.body.body)) or [_parse("pass")]))
        return stmt.with_changes(body=body, orelse=orelse)

    def _layer_statements(self, plan: _ClassPlan, attr: str, stmt) -> list:
        if attr in plan.refusals:
            return [with_todos(stmt, [plan.refusals[attr]])]
        if attr in plan.lists:
            todos = list(dict.fromkeys(why for t in plan.list_templates[attr] for why in t.todos))
            todos += list(dict.fromkeys(g for e in plan.lists[attr].elements if e.cls is not None for g in _training_gaps(e.call)))
            new = _parse(f"self.{attr} = {plan.list_ctors[attr]}").with_changes(leading_lines=stmt.leading_lines)
            return [with_todos(new, todos)]
        translations = plan.translations[attr]
        t = next(iter(translations.values()))
        self._use(t)
        by_placeholder = {s.placeholder: s.node for s in self.table.by_text.values()}
        mapping = {ph: by_placeholder[ph] for ph in t.ctor_symbols}
        todos = list(dict.fromkeys([why for tr in translations.values() for why in tr.todos] + _training_gaps(plan.specs[attr].call)))
        new = [_fill_statement(f"self.{a} = {src}", mapping) for a, src in t.ctors]
        if not new:  # no module: the forward code is all there is (Flatten, pooling by mean...)
            if todos:
                self.todo(f"self.{attr}: " + "; ".join(todos))
            return []
        new[0] = with_todos(new[0].with_changes(leading_lines=stmt.leading_lines), todos)
        if isinstance(stmt.trailing_whitespace.comment, cst.Comment):
            new[-1] = new[-1].with_changes(trailing_whitespace=stmt.trailing_whitespace)
        return new

    # call -> forward -------------------------------------------------------------------------------
    def _rewrite_call(self, info: _ClassInfo, plan: _ClassPlan, call: cst.FunctionDef, lazy_build: bool):
        params = list(call.params.params)
        names = [p.name.value for p in params]
        used = used_names(call.body)
        rename = "training" in names and "training" not in assigned_names(call.body)
        todos = []
        keep = []
        for p in params:
            if p.name.value == "training" and rename:
                continue
            if p.name.value == "mask":
                if "mask" not in used:
                    continue
                todos.append("Keras passes `mask` implicitly (from Embedding(mask_zero=True)/Masking); in torch pass it explicitly")
            keep.append(p)
        if keep:  # LibCST puts the commas a parameter list needs
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        if "training" in names and not rename:
            todos.append("`training` is reassigned in call(): use self.training (the module's train/eval mode) by hand")
        new = call.with_changes(name=cst.Name("forward"), params=call.params.with_changes(params=keep))
        new = new.visit(_BodyRewriter(self, plan, "call", used_names(call), rename))
        inputs = [p.name.value for p in keep[1:]]
        if lazy_build and inputs:
            prologue = _parse(f"if not self.built:\n    self.build({inputs[0]}.shape)\n    self.built = True\n")
            prologue = prologue.with_changes(leading_lines=[cst.EmptyLine(comment=cst.Comment(
                "# Keras builds the layer's weights on the first call, from the input shape"))])
            stmts = list(new.body.body)
            at = 1 if stmts and _is_docstring(stmts[0]) else 0
            new = new.with_changes(body=new.body.with_changes(body=[*stmts[:at], prologue, *stmts[at:]]))
        return with_todos(new, todos), (inputs[0] if inputs else None)

    # build() and add_weight ------------------------------------------------------------------------
    def _translate_build(self, info: _ClassInfo) -> tuple[list, cst.FunctionDef | None, bool]:
        """(statements for the end of __init__, the build() left (lazy weights) or None, lazy?).

        A weight whose shape does not depend on the input shape is created in __init__; the others
        are nn.UninitializedParameter()s materialised in build(), which forward() calls once."""
        build = info.build
        if build is None or not isinstance(build.body, cst.IndentedBlock):
            return [], None, False
        build_locals = assigned_names(build.body) | {p.name.value for p in _params(build)[1:]}
        additions, kept, lazy = [], [], False
        for stmt in build.body.body:
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
            if isinstance(small, cst.Expr) and _is_super_call(small.value, "build"):
                continue
            pair = _single_assign(stmt)
            if pair and _self_attr(pair[0]) == "built":
                continue
            if pair and _self_attr(pair[0]) and _is_add_weight(pair[1]):
                attr, shape = _self_attr(pair[0]), _keyword(pair[1], "shape")
                static = shape is None or (not (_names_in(shape) - {"self"} - set(self.init_constants))
                                           and not (_names_in(shape) & build_locals)
                                           and all(a in info.top_attrs for a in _self_attrs_in(shape)))
                try:
                    created, materialise, todos = self._weight(attr, pair[1], static=static)
                except _Refused as exc:
                    kept.append(with_todos(stmt, [str(exc)]))
                    lazy = True
                    continue
                if todos:
                    created[0] = with_todos(created[0], todos)
                additions.extend(created)
                if materialise:
                    materialise[0] = materialise[0].with_changes(leading_lines=stmt.leading_lines)
                    kept.extend(materialise)
                    lazy = True
                continue
            if pair and isinstance(pair[0], cst.Name):  # a local (e.g. input_shape[-1]) the weights may use
                kept.append(stmt)
                continue
            kept.append(with_todos(stmt, ["not translated: build() runs once, before the first forward()"]))
            lazy = True
        if not lazy:
            return additions, None, False
        return additions, build.with_changes(body=build.body.with_changes(body=kept)), True

    def _weight(self, attr: str, call: cst.Call, static: bool) -> tuple[list, list, list[str]]:
        """`self.attr = self.add_weight(...)` -> (statements creating it in __init__, statements
        materialising it in build() (lazy), TODOs). Keras 3 layer.py add_weight: shape defaults to
        (), initializer to glorot_uniform (floats), trainable to True."""
        import keras

        if any(a.keyword is None for a in call.args):
            raise _Refused("add_weight with positional arguments (Keras 2 and 3 order them differently): not translated")
        known = {"shape", "initializer", "dtype", "trainable", "name", "regularizer", "constraint", "autocast", "aggregation",
                 "synchronization", "use_resource"}
        args = {a.keyword.value: a.value for a in call.args}
        if set(args) - known:
            raise _Refused(f"add_weight({', '.join(sorted(set(args) - known))}=...) is not translated")
        todos = []
        for key in ("regularizer", "constraint"):
            if key in args and _code(args[key]) != "None":
                todos.append(f"{key}={_code(args[key])} of self.{attr} is not applied"
                             + (": add its penalty to the loss" if key == "regularizer" else ": project it after each optimizer.step()"))
        try:
            trainable = literal(args["trainable"]) if "trainable" in args else True
            dtype = literal(args["dtype"]) if "dtype" in args else None
        except NotStatic:
            raise _Refused("add_weight(trainable=/dtype=) must be constants to be translated") from None
        if dtype not in (None, "float32"):
            raise _Refused(f"add_weight(dtype={dtype!r}) is not translated")
        try:
            value = Evaluator(self.qualname, dict(self.init_constants), Symbols(), set()).eval(args["initializer"]) \
                if "initializer" in args else "glorot_uniform"
            initializer = keras.initializers.get(value)
        except Exception:
            raise _Refused(f"initializer {_code(args['initializer'])} of self.{attr} cannot be read statically") from None
        shape = _code(args["shape"]) if "shape" in args else "()"
        two_d = "shape" in args and isinstance(args["shape"], (cst.Tuple, cst.List)) and len(args["shape"].elements) == 2
        creation, fill, runtime = _initializer_code(initializer, shape, f"self.{attr}", two_d)
        self._use(_Translation([], [], "", imports={"import torch"} | (_RUNTIME_IMPORTS[runtime] if runtime else set()),
                               runtime={runtime} if runtime else set()))
        if static:
            tensor = creation or f"torch.empty({shape})"
            first = f"self.{attr} = nn.Parameter({tensor})" if trainable else f'self.register_buffer("{attr}", {tensor})'
            return [_parse(first)] + ([] if creation else [_parse(fill)]), [], todos
        placeholder = (f"self.{attr} = nn.UninitializedParameter()" if trainable
                       else f'self.register_buffer("{attr}", nn.UninitializedBuffer())')
        return [_parse(placeholder)], [_parse(f"self.{attr}.materialize({shape})"), _parse(fill)], todos


def _keyword(call: cst.Call, key: str):
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == key), None)


def _is_add_weight(node) -> bool:
    return isinstance(node, cst.Call) and _self_attr(node.func) == "add_weight"


def _self_attrs_in(node) -> set[str]:
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> None:
            if _self_attr(n):
                found.add(n.attr.value)

    node.visit(Collect())
    return found


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _initializer_code(initializer, shape: str, target: str, two_d: bool) -> tuple[str | None, str, str | None]:
    """A Keras initializer -> (tensor creation when there is a direct one, in-place fill of
    `target`, runtime entry or None).

    Distributions from keras/src/initializers/constant_initializers.py and random_initializers.py;
    the weight keeps Keras' layout, so fans are Keras' (runtime variance_scaling_)."""
    import keras

    name = type(initializer).__name__
    cfg = initializer.get_config()
    if name == "Zeros":
        return f"torch.zeros({shape})", f"nn.init.zeros_({target})", None
    if name == "Ones":
        return f"torch.ones({shape})", f"nn.init.ones_({target})", None
    if name == "Constant" and isinstance(cfg.get("value"), (int, float)):
        value = float(cfg["value"])
        return f"torch.full({shape}, {value!r})", f"nn.init.constant_({target}, {value!r})", None
    if name == "RandomNormal":
        return None, f"nn.init.normal_({target}, mean={cfg['mean']!r}, std={cfg['stddev']!r})", None
    if name == "RandomUniform":
        return None, f"nn.init.uniform_({target}, a={cfg['minval']!r}, b={cfg['maxval']!r})", None
    if name == "TruncatedNormal":  # cut at two standard deviations (keras random.truncated_normal)
        mean, std = cfg["mean"], cfg["stddev"]
        return None, f"nn.init.trunc_normal_({target}, mean={mean!r}, std={std!r}, a={mean - 2 * std!r}, b={mean + 2 * std!r})", None
    if isinstance(initializer, keras.initializers.VarianceScaling):
        if getattr(initializer, "input_axes", None) is not None or getattr(initializer, "output_axes", None) is not None:
            raise _Refused(f"initializer {name} with input_axes/output_axes is not translated")
        scale, mode, distribution = float(initializer.scale), initializer.mode, initializer.distribution
        if (scale, mode, distribution) == (1.0, "fan_avg", "uniform") and two_d:
            return None, f"nn.init.xavier_uniform_({target})", None  # glorot_uniform: same bound whichever fan is which
        return None, f"variance_scaling_({target}, scale={scale!r}, mode={mode!r}, distribution={distribution!r})", "variance_scaling_"
    raise _Refused(f"initializer {name} has no translation")


TRANSFORM = TranslateSubclasses

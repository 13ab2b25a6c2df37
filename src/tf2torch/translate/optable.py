"""TensorFlow / Keras functions -> PyTorch, as data: one `Op` per function.

An entry names the function (with its aliases, canonical qualified names as `qualnames.canonical`
writes them), its signature (to bind positional and keyword arguments the way TF/Keras does), the
PyTorch it becomes and a sample call that the tests run through TF/Keras and through the
translation on the same inputs.

The rewrite rule is either a *template* (a Python expression whose free names are the parameters)
or a function of the bound call (`Bound`) for what needs a decision (literal flags, argument kinds).
Template conventions:

- a parameter without default is required; `p=None` means "if omitted, write nothing": the template
  argument holding `p` is left out (torch's own default is the same); `p=<expr>` means "if omitted,
  write <expr>" (a PyTorch expression: how a TF default that differs from torch's is made visible);
  `p=DROP` accepts the argument and ignores it (`name=` is always accepted and dropped);
- a parameter the template does not use must be omitted or given as its default literal, otherwise
  the call stays as it was with a TODO (an argument is never dropped silently);
- a literal `None` passed for a parameter whose default is None means "omitted" (as in TF); `p: None = <expr>`
  says that TF's own default is None too (so `None` also means <expr>); for other parameters a literal
  `None` is refused (for `keras.ops.sort(x, axis=None)` it means "flattened");
- parameters named `dtype`, `output_type`, `out_type`, `index_type` hold dtypes and are mapped
  (`tf.float32`, `"float32"`, `np.float32`, `float` -> `torch.float32`);
- `E.to()` left with no argument (an omitted dtype) is removed; `*p` in a call expands varargs;
- the other names of a template are what the output refers to (`torch`, `F`, `math`, `sys`: their
  imports are added); arguments are parenthesised where the template's operators need it.

`keras.backend.*` entries are the Keras 2 backend functions (tf.keras.backend / tf_keras; Keras 3 kept
only configuration there): their defaults differ from keras.ops (argmax: last axis, concatenate:
last axis, sqrt: clips at 0). The file holds the binding/template engine, then the rule functions,
then the table.

Semantics are checked against TF 2.21 / Keras 3.15.1 by tests/translate/test_ops.py (each sample is
run through both) and cited from their sources in comments where they are not obvious.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Union

import libcst as cst


class Untranslatable(Exception):
    """Why a call stays as it was (the message becomes the TODO)."""


# ---------------------------------------------------------------------------------------- engine

_DROP = "DROP"
NOT_LITERAL = object()
_OMITTED = "__tf2torch_omitted__"  # placeholders of omitted arguments and varargs while filling
_STAR = "__tf2torch_omitted__star__"


@dataclass(frozen=True)
class Param:
    name: str
    default: str | None = None  # PyTorch source written when omitted (None: write nothing)
    required: bool = False
    star: bool = False  # *varargs
    keyword_only: bool = False
    drop: bool = False  # accepted and ignored
    none_is_default: bool = False  # a literal None means the default (TF's default is None)


def parse_params(spec: str) -> tuple[Param, ...]:
    fn = ast.parse(f"def f({spec}): pass").body[0].args
    positional = fn.posonlyargs + fn.args
    defaults = [None] * (len(positional) - len(fn.defaults)) + list(fn.defaults)
    params = [_param(a, d, False) for a, d in zip(positional, defaults)]
    if fn.vararg:
        params.append(Param(fn.vararg.arg, star=True))
    params += [_param(a, d, True) for a, d in zip(fn.kwonlyargs, fn.kw_defaults)]
    if "name" not in {p.name for p in params}:  # TF's name= is accepted by every entry, then dropped
        params.append(Param("name", drop=True, keyword_only=True))
    return tuple(params)


def _param(arg: ast.arg, default: ast.expr | None, keyword_only: bool) -> Param:
    name = arg.arg
    if default is None:
        return Param(name, required=True, keyword_only=keyword_only)
    if isinstance(default, ast.Name) and default.id == _DROP or name == "name":
        return Param(name, drop=True, keyword_only=keyword_only)
    source = ast.unparse(default)
    none_is_default = isinstance(arg.annotation, ast.Constant) and arg.annotation.value is None
    return Param(name, None if source == "None" else source, keyword_only=keyword_only, none_is_default=none_is_default)


Rule = Union[str, Callable[["Bound"], cst.BaseExpression]]


@dataclass(frozen=True)
class Op:
    names: tuple[str, ...]  # canonical qualified names; the first is the documented one
    params: tuple[Param, ...]
    rule: Rule
    sample: str | None = None  # a call run through TF/Keras and through the translation by the tests
    check: str = "values"  # "values"; "shape" (random ops: shape and dtype kind); "sorted" (permutations)


def op(names: str, params: str, rule: Rule, sample: str | None = None, check: str = "values") -> Op:
    return Op(tuple(names.split()), parse_params(params), rule, sample, check)


def lit(value) -> cst.BaseExpression:
    """A Python value (number, string, bool, None, tuple/list of those) as an expression."""
    return cst.parse_expression(repr(value))


class Bound:
    """One call bound to an entry's signature: what a rule reads and builds from."""

    def __init__(self, op: Op, name: str, values: dict, star: list, parent=None, role: str = "free",
                 literal: Callable | None = None):
        self.op, self.name, self.values, self.star = op, name, values, star
        self.parent, self.role = parent, role  # where the call sits (for rules that depend on it)
        self._literal = literal or _literal
        self.params = {p.name: p for p in op.params}
        self.originals: dict[str, cst.BaseExpression] = {}
        self.generators: set[str] = set()  # what the script binds keras.random.SeedGenerator(...) to
        self.runs_once = False  # the call is at module level, outside loops: it runs once
        self.used: set[str] = set()
        self.imports: set[str] = set()
        self.runtime: set[str] = set()

    def given(self, name: str) -> bool:
        return name in self.values

    def node(self, name: str) -> cst.BaseExpression | None:
        """The argument (or the entry's default when omitted; None if that is 'nothing')."""
        self.used.add(name)
        if name in self.values:
            return self.values[name]
        default = self.params[name].default
        return None if default is None else cst.parse_expression(default)

    def literal(self, name: str):
        """The argument's Python value if it is a literal (its default if omitted), else NOT_LITERAL."""
        self.used.add(name)
        if name in self.values:
            return self._literal(self.originals.get(name, self.values[name]))
        default = self.params[name].default
        return None if default is None else _safe_literal(default)

    def dtype(self, name: str) -> str | None:
        """'float32', 'int64', ... for a (mapped) dtype argument given literally; None otherwise."""
        node = self.node(name)
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "torch":
            return node.attr.value
        return None

    def pure(self, name: str) -> bool:
        node = self.values.get(name)
        return node is None or is_pure(node)

    def need_pure(self, *names: str) -> None:
        for n in names:
            if not self.pure(n):
                raise Untranslatable(f"`{self.code(n)}` would be evaluated twice in the PyTorch form; "
                                     "assign it to a variable first")

    def code(self, name: str) -> str:
        node = self.values.get(name)
        return "" if node is None else cst.Module([]).code_for_node(node)

    def use(self, *runtime: str) -> None:
        """Runtime entries (tf2torch.translate.runtime.ops) the output calls."""
        self.runtime.update(runtime)
        self.imports.update({"import torch", "import torch.nn.functional as F"})

    def build(self, template: str, **extra) -> cst.BaseExpression:
        """Fill `template`: its free names that are parameters (or keys of `extra`) are replaced by
        the arguments; the other names are what the output refers to (torch, F, ...)."""
        t = _template(template)
        values: dict[str, object] = {}
        for name in t.slot_names:
            if name in extra:  # a node, a Python value (written as a literal) or None (omitted)
                v = extra[name]
                values[name] = v if v is None or isinstance(v, (cst.CSTNode, list)) else lit(v)
            elif name in self.params:
                p = self.params[name]
                values[name] = list(self.star) if p.star else self.node(name)
                self.used.add(name)
        self.imports |= t.imports
        return _fill(t, values)

    def finish(self) -> None:
        """Refuse arguments that no part of the rule used, unless they are given as their default."""
        for name, node in self.values.items():
            p = self.params[name]
            if name in self.used or p.drop:
                continue
            value = self._literal(self.originals.get(name, node))
            default = None if p.default is None else _safe_literal(p.default)
            if value is NOT_LITERAL or value != default or type(value) is not type(default):
                raise Untranslatable(f"argument `{name}={cst.Module([]).code_for_node(node)}` is not translated")
        if self.star and not self.params_used_star():
            raise Untranslatable("extra positional arguments are not translated")

    def params_used_star(self) -> bool:
        return any(p.star and p.name in self.used for p in self.op.params)


def bind(op: Op, name: str, args, originals, dtype: Callable, literal: Callable, parent=None, role="free") -> Bound:
    """Bind call arguments to `op`'s signature the way Python would (TF/Keras functions are Python).

    `args` are the arguments as rewritten so far (what the output uses), `originals` the same
    arguments in the parsed script (what qualified names and literals are read from)."""
    values: dict[str, cst.BaseExpression] = {}
    source: dict[str, cst.BaseExpression] = {}
    star: list[cst.BaseExpression] = []
    params = op.params
    positional = [p for p in params if not p.keyword_only and not p.star]
    has_star = any(p.star for p in params)
    i = 0
    for arg, original in zip(args, originals):
        if arg.star:
            raise Untranslatable(f"`{arg.star}` arguments cannot be matched to parameters")
        if arg.keyword is None:
            if i < len(positional):
                key = positional[i].name
                i += 1
            elif has_star:
                star.append(arg.value)
                continue
            else:
                raise Untranslatable("too many positional arguments")
        else:
            key = arg.keyword.value
            if not [p for p in params if p.name == key and not p.star]:
                raise Untranslatable(f"unknown argument `{key}=`")
            if key in values:
                raise Untranslatable(f"argument `{key}` given twice")
        values[key], source[key] = arg.value, original.value
    by_name = {p.name: p for p in params}
    for key in list(values):
        p = by_name[key]
        if not p.required and _is_none(values[key]):
            if p.default is not None and not p.none_is_default:
                raise Untranslatable(f"`{key}=None` is not translated")
            del values[key]  # None is TF's default
        elif key in _DTYPE_PARAMS:
            values[key] = dtype(source[key], values[key])
    for p in params:
        if p.required and p.name not in values:
            raise Untranslatable(f"argument `{p.name}` is missing")
    bound = Bound(op, name, values, star, parent, role, literal)
    bound.originals = source
    return bound


def pad_sequences(b):
    """keras.utils.pad_sequences stays NumPy (runtime/ops.py); its dtype is a NumPy dtype, kept as written."""
    b.use("pad_sequences")
    b.imports.add("import numpy as np")
    given = [k for k in ("maxlen", "dtype", "padding", "truncating", "value") if b.given(k)]
    extra = {"d": b.originals["dtype"]} if "dtype" in given else {}
    b.used.update(given)
    args = ", ".join(["sequences"] + [f"{k}={'d' if k == 'dtype' else k}" for k in given])
    return b.build(f"pad_sequences({args})", **extra)


_DTYPE_PARAMS = {"dtype", "output_type", "out_type", "index_type"}


def _is_none(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _literal(node):
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node).strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return NOT_LITERAL


def _safe_literal(source: str):
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return NOT_LITERAL


def is_pure(node) -> bool:
    """Can be written twice without changing what the script does (no call, no assignment expression)."""
    if isinstance(node, (cst.Call, cst.NamedExpr, cst.Await, cst.Yield, cst.Lambda)):
        return False
    return all(is_pure(c) for c in node.children)


# templates --------------------------------------------------------------------------------------

_IMPORTS = {"torch": "import torch", "F": "import torch.nn.functional as F", "math": "import math",
            "np": "import numpy as np", "sys": "import sys"}


@dataclass
class _Template:
    tree: cst.BaseExpression
    slots: dict[int, tuple[str, object, str]] = field(default_factory=dict)  # id(Name) -> (name, parent, role)
    slot_names: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)


@lru_cache(maxsize=None)
def _template(source: str) -> _Template:
    tree = cst.parse_expression(source)
    t = _Template(tree)
    names: list[tuple[cst.Name, object, str]] = []
    _names(tree, None, "free", names)
    for node, parent, role in names:
        if node.value in _IMPORTS:
            t.imports.add(_IMPORTS[node.value])
        else:
            t.slots[id(node)] = (node.value, parent, role)
            t.slot_names.add(node.value)
    return t


def _names(node, parent, role, out) -> None:
    """Names in value positions (not attribute names, keywords or comprehension targets)."""
    if isinstance(node, cst.Name):
        out.append((node, parent, role))
    elif isinstance(node, cst.Attribute):
        _names(node.value, node, "value", out)
    elif isinstance(node, cst.Subscript):
        _names(node.value, node, "value", out)
        for el in node.slice:
            _names(el, node, "free", out)
    elif isinstance(node, cst.Call):
        _names(node.func, node, "value", out)
        for arg in node.args:
            _names(arg.value, node, "free", out)
    elif isinstance(node, cst.BinaryOperation) or isinstance(node, cst.BooleanOperation):
        _names(node.left, node, "left", out)
        _names(node.right, node, "right", out)
    elif isinstance(node, cst.UnaryOperation):
        _names(node.expression, node, "operand", out)
    elif isinstance(node, cst.Comparison):
        _names(node.left, node, "cmp", out)
        for c in node.comparisons:
            _names(c.comparator, node, "cmp", out)
    elif isinstance(node, cst.CompFor):
        _names(node.iter, node, "free", out)
        if node.inner_for_in:
            _names(node.inner_for_in, node, "free", out)
    else:
        for child in node.children:
            _names(child, node, "free", out)


def _fill(t: _Template, values: dict) -> cst.BaseExpression:
    result = t.tree.visit(_Filler(t, values))
    leftover = [n for n in _all_names(result) if n.startswith(_OMITTED)]
    if leftover:
        raise Untranslatable(f"argument `{leftover[0].replace(_STAR, '').replace(_OMITTED, '')}` is needed")
    return result


def _all_names(node):
    if isinstance(node, cst.Name):
        yield node.value
    for child in node.children:
        yield from _all_names(child)


class _Filler(cst.CSTTransformer):
    def __init__(self, t: _Template, values: dict):
        super().__init__()
        self.t, self.values = t, values

    def leave_Name(self, original, updated):
        slot = self.t.slots.get(id(original))
        if slot is None or slot[0] not in self.values:
            return updated
        name, parent, role = slot
        value = self.values[name]
        if value is None:
            return cst.Name(_OMITTED + name)
        if isinstance(value, list):  # varargs: expanded by leave_Call
            return cst.Name(_STAR + name)
        return parenthesize(value, parent, role)

    def leave_Call(self, original, updated):
        args, removed_positional = [], False
        for arg in updated.args:
            v = arg.value
            if isinstance(v, cst.Name) and v.value.startswith(_STAR):
                args += [cst.Arg(value=parenthesize(x, None, "free")) for x in self.values[v.value[len(_STAR):]]]
                continue
            if isinstance(v, cst.Name) and v.value.startswith(_OMITTED):
                removed_positional = removed_positional or arg.keyword is None
                continue
            if removed_positional and arg.keyword is None:
                raise Untranslatable("internal: an omitted positional argument is followed by another")
            args.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT))
        if (not args and updated.args and isinstance(updated.func, cst.Attribute)
                and updated.func.attr.value == "to"):
            return updated.func.value  # `.to(dtype)` with the dtype omitted
        return updated.with_changes(args=args)


# parentheses --------------------------------------------------------------------------------------

_BINARY = {cst.Add: 10, cst.Subtract: 10, cst.Multiply: 11, cst.Divide: 11, cst.FloorDivide: 11,
           cst.Modulo: 11, cst.MatrixMultiply: 11, cst.Power: 13, cst.BitOr: 6, cst.BitXor: 7,
           cst.BitAnd: 8, cst.LeftShift: 9, cst.RightShift: 9}
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.SimpleString, cst.FormattedString,
          cst.List, cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp, cst.Ellipsis)


def precedence(node, own: bool = False) -> int:
    """How tightly `node` binds (100: an atom); `own`: of its operator, ignoring its parentheses."""
    if getattr(node, "lpar", None) and not own:
        return 100
    if isinstance(node, cst.BinaryOperation):
        return _BINARY[type(node.operator)]
    if isinstance(node, cst.UnaryOperation):
        return 4 if isinstance(node.operator, cst.Not) else 12
    if isinstance(node, cst.Comparison):
        return 5
    if isinstance(node, cst.BooleanOperation):
        return 3 if isinstance(node.operator, cst.And) else 2
    if isinstance(node, cst.IfExp):
        return 1
    if isinstance(node, cst.Lambda):
        return 0
    if isinstance(node, (cst.NamedExpr, cst.Tuple, cst.GeneratorExp)):
        return -1  # needs its own parentheses anywhere but alone in a call
    if isinstance(node, cst.Await):
        return 14
    return 100


def parenthesize(node, parent, role: str):
    """`node` as it must be written at `role` of `parent` ('value' of an attribute/subscript/call,
    'left'/'right'/'operand'/'cmp' of an operator, or 'free')."""
    if getattr(node, "lpar", None):
        return node
    if isinstance(node, _ATOMS) and not (role == "value" and isinstance(node, (cst.Integer, cst.Float))):
        return node
    mine = precedence(node)
    if role == "free":
        wrap = mine < 0
    elif role == "value":
        wrap = True
    elif role == "cmp":
        wrap = mine <= 5  # a comparison inside a comparison would chain
    else:
        theirs = precedence(parent, own=True)
        power = isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Power)
        if role == "operand":
            wrap = mine < theirs
        elif role == "left":
            wrap = mine < theirs or (mine == theirs and power)
        else:
            wrap = mine < theirs or (mine == theirs and not power)
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if wrap else node


def role_in(parent, child) -> str:
    """The role of `child` in `parent` (both original nodes), for `parenthesize`."""
    if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is child:
        return "value"
    if isinstance(parent, cst.Call) and parent.func is child:
        return "value"
    if isinstance(parent, (cst.BinaryOperation, cst.BooleanOperation)):
        return "left" if parent.left is child else "right"
    if isinstance(parent, (cst.UnaryOperation, cst.Await)):
        return "operand"
    if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
        return "cmp"
    return "free"


# ----------------------------------------------------------------------------------------- rules


def _number(node) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _tensor(b: Bound, name: str) -> cst.BaseExpression:
    """A tensor argument; a literal list/tuple (TF converts it) becomes `torch.tensor(...)`."""
    node = b.node(name)
    if isinstance(node, (cst.List, cst.Tuple)):
        return b.build("torch.tensor(v)", v=node)
    return node


def operator(template: str, *operands: str) -> Callable[[Bound], cst.BaseExpression]:
    """`x + y` and friends; literal lists become tensors (a Python list would concatenate)."""
    def rule(b: Bound):
        return b.build(template, **{n: _tensor(b, n) for n in operands})
    return rule


def clamp_or(fn: str, bound: str) -> Callable[[Bound], cst.BaseExpression]:
    """maximum/minimum: torch.maximum needs two tensors; against a number it is a clamp."""
    def rule(b: Bound):
        x, y = b.op.params[0].name, b.op.params[1].name
        if _number(b.node(y)):
            return b.build(f"torch.clamp(t, {bound}=v)", t=b.node(x), v=b.node(y))
        if _number(b.node(x)):
            return b.build(f"torch.clamp(t, {bound}=v)", t=b.node(y), v=b.node(x))
        return b.build(f"{fn}(a, c)", a=_tensor(b, x), c=_tensor(b, y))
    return rule


def reduce_all(fn: str) -> Callable[[Bound], cst.BaseExpression]:
    """torch.sum/torch.mean: keepdim needs an explicit dim (every dim when TF's axis is omitted)."""
    def rule(b: Bound):
        x, axis, keep = (p.name for p in b.op.params[:3])
        if b.node(axis) is None and b.node(keep) is not None and b.literal(keep) is not False:
            b.need_pure(x)
            return b.build(f"{fn}(t, dim=tuple(range(t.ndim)), keepdim=k)", t=b.node(x), k=b.node(keep))
        return b.build(f"{fn}(t, dim=d, keepdim=k)", t=b.node(x), d=b.node(axis), k=b.node(keep))
    return rule


def reduce_single(fn: str) -> Callable[[Bound], cst.BaseExpression]:
    """torch.prod / count_nonzero-like reductions that take one dim at most."""
    def rule(b: Bound):
        x, axis, keep = b.op.params[0].name, b.op.params[1].name, b.op.params[2].name
        axes = b.literal(axis)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 1:
                raise Untranslatable(f"{fn} reduces one dim at a time; axis={b.code(axis)} is not translated")
            return b.build(f"{fn}(t, dim=d, keepdim=k)", t=b.node(x), d=axes[0], k=b.node(keep))
        if b.node(axis) is None and b.literal(keep):
            raise Untranslatable("keepdims=True over all axes is not translated")
        return b.build(f"{fn}(t, dim=d, keepdim=k)", t=b.node(x), d=b.node(axis), k=b.node(keep))
    return rule


def logsumexp(b: Bound):
    x, axis, keep = (p.name for p in b.op.params[:3])
    if b.node(axis) is None:  # torch.logsumexp needs a dim: reduce the flattened tensor
        if b.literal(keep):
            raise Untranslatable("keepdims=True over all axes is not translated")
        return b.build("torch.logsumexp(torch.flatten(t), dim=0)", t=b.node(x))
    return b.build("torch.logsumexp(t, dim=d, keepdim=k)", t=b.node(x), d=b.node(axis), k=b.node(keep))


def cumulative(fn: str) -> Callable[[Bound], cst.BaseExpression]:
    """cumsum/cumprod/cumulative_logsumexp with exclusive/reverse (TF) or axis=None (Keras: flatten)."""
    def rule(b: Bound):
        x = b.op.params[0].name
        if b.given("exclusive") and b.literal("exclusive") is not False:
            raise Untranslatable("exclusive=True is not translated")
        if b.node("axis") is None:
            return b.build(f"{fn}(torch.flatten(t), dim=0)", t=b.node(x))
        out = b.build(f"{fn}(t, dim=d)", t=b.node(x), d=b.node("axis"))
        if b.given("reverse") and b.literal("reverse") is not False:
            if b.literal("reverse") is not True:
                raise Untranslatable("reverse= must be a literal")
            b.need_pure("axis")
            out = b.build(f"torch.flip({fn}(torch.flip(t, dims=[d]), dim=d), dims=[d])", t=b.node(x), d=b.node("axis"))
        return out
    return rule


def argmax(fn: str) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        out = b.build(f"{fn}(t, dim=d)", t=b.node("input"), d=b.node("axis"))
        if b.dtype("output_type") not in (None, "int64"):
            out = b.build("t.to(d)", t=out, d=b.node("output_type"))
        return out
    return rule


def transpose(x: str, perm: str) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        if perm not in b.params or b.node(perm) is None:  # no perm: all dims reversed
            b.need_pure(x)
            return b.build("torch.permute(t, tuple(reversed(range(t.ndim))))", t=b.node(x))
        return b.build("torch.permute(t, p)", t=b.node(x), p=b.node(perm))
    return rule


def tf_split(b: Bound):
    n = b.literal("num_or_size_splits")
    if isinstance(n, int) and not isinstance(n, bool):  # tf: a number of equal pieces
        return b.build("torch.chunk(value, n, dim=axis)", n=b.node("num_or_size_splits"))
    if isinstance(n, (list, tuple)) and all(isinstance(s, int) for s in n):
        if -1 in n:
            raise Untranslatable("a size of -1 (the rest) is not translated")
        return b.build("torch.split(value, s, dim=axis)", s=b.node("num_or_size_splits"))
    raise Untranslatable(f"cannot tell whether `{b.code('num_or_size_splits')}` is a number of pieces "
                         "(torch.chunk) or a list of sizes (torch.split)")


def gather(b: Bound):
    params, axis = b.op.params[0].name, ("axis" if "axis" in b.params else None)
    if b.given("batch_dims") and b.literal("batch_dims") != 0:
        raise Untranslatable("batch_dims is not translated")
    k = 0 if axis is None or b.node(axis) is None else b.literal(axis)
    idx = _tensor(b, b.op.params[1].name)
    if axis is not None and b.node(axis) is None and b.op.names[0].startswith("keras.ops"):
        return b.build("torch.flatten(t)[i]", t=b.node(params), i=idx)  # numpy take: axis None = flat
    if not isinstance(k, int) or isinstance(k, bool):
        raise Untranslatable("axis must be a literal integer")
    # params[..., indices, :, :] selects slices along `axis` for any rank of indices (tf.gather)
    where = ", ".join([":"] * k + ["i"]) if k >= 0 else ", ".join(["...", "i"] + [":"] * (-k - 1))
    return b.build(f"t[{where}]", t=b.node(params), i=idx)


def one_hot(indices: str, depth: str, dtype_default: str = "torch.float32") -> Callable[[Bound], cst.BaseExpression]:
    # tf.one_hot / keras.ops.one_hot: float32 rows; torch's F.one_hot gives int64 and needs int64
    # indices. Out-of-range indices give zero rows in TF and an error in torch (loud, not silent).
    def rule(b: Bound):
        for flag in ("on_value", "off_value", "sparse"):
            if flag in b.params and b.given(flag) and b.literal(flag) not in (False,):
                raise Untranslatable(f"{flag}= is not translated")
        dtype = (b.node("dtype") if "dtype" in b.params else None) or cst.parse_expression(dtype_default)
        out = b.build("F.one_hot(i.long(), n).to(d)", i=_tensor(b, indices), n=b.node(depth), d=dtype)
        axis = b.literal("axis") if "axis" in b.params else -1
        if axis not in (None, -1):
            out = b.build("torch.movedim(t, -1, a)", t=out, a=b.node("axis"))
        return out
    return rule


def shape(b: Bound):
    # tf.shape gives a tensor; x.shape is a torch.Size (a tuple): the same when indexed or passed
    # as a shape, not in arithmetic or comparisons (tuple * 2 repeats): there it stays a tensor.
    if b.given("out_type"):
        b.used.add("out_type")
    if b.role != "free" and not isinstance(b.parent, (cst.Attribute, cst.Subscript, cst.Call)):
        return b.build("torch.tensor(t.shape)", t=b.node("input"))
    return b.build("t.shape", t=b.node("input"))


def tf_range(b: Bound):
    if b.node("limit") is None:
        if b.node("delta") is None or b.literal("delta") == 1:
            return b.build("torch.arange(start, dtype=dtype)")
        return b.build("torch.arange(0, start, delta, dtype=dtype)")
    if b.literal("delta") == 1:
        return b.build("torch.arange(start, limit, dtype=dtype)")
    return b.build("torch.arange(start, limit, delta, dtype=dtype)")


def matmul(a: str, c: str, *, matvec: bool = False) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        x, y = _tensor(b, a), _tensor(b, c)
        for flag, suffix in (("transpose_a", "mT"), ("adjoint_a", "mH"), ("transpose_b", "mT"), ("adjoint_b", "mH")):
            if flag not in b.params or not b.given(flag):
                continue
            value = b.literal(flag)
            if value not in (True, False):
                raise Untranslatable(f"{flag}= must be a literal True/False")
            if value:
                if flag.endswith("_a"):
                    x = b.build(f"t.{suffix}", t=x)
                else:
                    y = b.build(f"t.{suffix}", t=y)
        if matvec:
            return b.build("(m @ v.unsqueeze(-1)).squeeze(-1)", m=x, v=y)
        return b.build("m @ v", m=x, v=y)
    return rule


def l2_normalize(b: Bound):
    # TF: x * rsqrt(max(sum(x**2), epsilon)) = x / max(norm, sqrt(epsilon)) = F.normalize(eps=sqrt(epsilon))
    # (tensorflow/python/ops/nn_impl.py l2_normalize)
    if b.given("dim"):
        raise Untranslatable("the deprecated dim= is not translated; use axis=")
    eps = b.literal("epsilon")
    eps_node = lit(eps ** 0.5) if isinstance(eps, (int, float)) else b.build("e ** 0.5", e=b.node("epsilon"))
    if b.node("axis") is None:  # all axes
        b.need_pure("x")
        return b.build("torch.reshape(F.normalize(torch.flatten(x), dim=0, eps=e), x.shape)", e=eps_node)
    return b.build("F.normalize(x, dim=axis, eps=e)", e=eps_node)


def gelu(b: Bound):
    approximate = b.literal("approximate")
    if approximate is True:
        return b.build("F.gelu(x, approximate='tanh')", x=b.node(b.op.params[0].name))
    if approximate is False:
        return b.build("F.gelu(x)", x=b.node(b.op.params[0].name))
    raise Untranslatable("approximate= must be a literal True/False")


def silu(b: Bound):
    if b.literal("beta") == 1.0:
        return b.build("F.silu(features)")
    b.need_pure("features")
    return b.build("features * torch.sigmoid(beta * features)")


def moments(b: Bound):
    if "shift" in b.params and b.given("shift"):
        raise Untranslatable("shift= is not translated")
    b.need_pure("x")
    # TF/Keras moments return the population (biased) variance
    return b.build("(torch.mean(x, dim=axes, keepdim=keepdims), torch.var(x, dim=axes, correction=0, keepdim=keepdims))")


def dropout(x: str, rate: str, tf_semantics: bool) -> Callable[[Bound], cst.BaseExpression]:
    # tf.nn.dropout / keras.random.dropout are always active (no training flag)
    def rule(b: Bound):
        if b.given("noise_shape"):
            raise Untranslatable("noise_shape= is not translated")
        if b.given("seed"):
            if tf_semantics:
                raise Untranslatable("F.dropout takes no seed: set torch.manual_seed(...) before if determinism matters")
            # F.dropout takes no generator: Keras' own form, keep where uniform >= rate and scale
            # (keras/src/backend/tensorflow/random.py dropout)
            b.need_pure(x, rate)
            return b.build("t * (torch.rand(t.shape, generator=g) >= r) / (1 - r)", t=b.node(x), r=b.node(rate),
                           g=_generator(b, False))
        return b.build("F.dropout(t, p=r, training=True)", t=b.node(x), r=b.node(rate))
    return rule


def _generator(b: Bound, tf_semantics: bool) -> cst.BaseExpression | None:
    if not b.given("seed"):
        return None
    seed = b.literal("seed")
    if tf_semantics and not b.runs_once:
        # tf.random op seeds: each call draws new numbers from a per-op sequence; a torch.Generator
        # seeded at each call would repeat the same numbers (the same only for a call that runs once)
        raise Untranslatable("TF op seeds give a new draw per call: create one torch.Generator().manual_seed(seed) "
                             "outside and pass generator=")
    if isinstance(seed, int) and not isinstance(seed, bool):
        # keras.random with an int seed draws the same numbers at every call (random/seed_generator.py draw_seed)
        return b.build("torch.Generator().manual_seed(s)", s=b.node("seed"))
    if b.code("seed") in b.generators:
        # a keras.random.SeedGenerator of the script (now a torch.Generator): a stream of draws
        return b.node("seed")
    raise Untranslatable("the seed is neither an int nor a SeedGenerator of this script: pass a torch.Generator")


def random_normal(tf_semantics: bool) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        g = _generator(b, tf_semantics)
        out = b.build("torch.randn(shape, dtype=dtype, generator=g)", g=g)
        if b.node("stddev") is not None and b.literal("stddev") != 1.0:
            out = b.build("r * s", r=out, s=b.node("stddev"))
        if b.node("mean") is not None and b.literal("mean") != 0.0:
            out = b.build("r + m", r=out, m=b.node("mean"))
        return out
    return rule


_INT_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def random_uniform(tf_semantics: bool) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        g = _generator(b, tf_semantics)
        dtype = b.dtype("dtype")
        if b.given("dtype") and dtype is None:
            raise Untranslatable("dtype must be a literal dtype (integer and float draws differ)")
        low = b.node("minval")
        if dtype in _INT_DTYPES:  # TF: integers in [minval, maxval)
            if b.node("maxval") is None:
                raise Untranslatable("maxval is needed for integer draws")
            return b.build("torch.randint(lo, hi, shape, dtype=dtype, generator=g)", lo=low, hi=b.node("maxval"), g=g)
        lo, hi = b.literal("minval"), b.literal("maxval")
        if lo in (0, None) and hi in (1, None) and not isinstance(lo, bool):
            return b.build("torch.rand(shape, dtype=dtype, generator=g)", g=g)
        return b.build("torch.empty(shape, dtype=dtype).uniform_(lo, hi, generator=g)",
                       lo=low or lit(0.0), hi=b.node("maxval") or lit(1.0), g=g)
    return rule


def truncated_normal(tf_semantics: bool) -> Callable[[Bound], cst.BaseExpression]:
    # TF/Keras re-draw values more than 2 stddev from the mean; trunc_normal_ bounds are absolute
    def rule(b: Bound):
        g = _generator(b, tf_semantics)
        mean, std = b.literal("mean"), b.literal("stddev")
        empty = b.build("torch.empty(shape, dtype=dtype)")
        if mean == 0.0 and std == 1.0:
            return b.build("torch.nn.init.trunc_normal_(e, generator=g)", e=empty, g=g)
        if isinstance(mean, (int, float)) and isinstance(std, (int, float)):
            lo, hi = lit(float(mean - 2 * std)), lit(float(mean + 2 * std))
        else:
            b.need_pure("mean", "stddev")
            lo, hi = b.build("mean - 2 * stddev"), b.build("mean + 2 * stddev")
        return b.build("torch.nn.init.trunc_normal_(e, mean=mean, std=stddev, a=lo, b=hi, generator=g)",
                       e=empty, lo=lo, hi=hi, g=g)
    return rule


def shuffle(tf_semantics: bool) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        g = _generator(b, tf_semantics)
        x = b.op.params[0].name
        if "axis" in b.params and b.literal("axis") != 0:
            raise Untranslatable("axis other than 0 is not translated")
        b.need_pure(x)
        return b.build("t[torch.randperm(len(t), generator=g)]", t=b.node(x), g=g)
    return rule


def categorical(tf_semantics: bool) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        g = _generator(b, tf_semantics)
        out = b.build("torch.multinomial(F.softmax(logits, dim=-1), num_samples, replacement=True, generator=g)", g=g)
        if b.dtype("dtype") not in (None, "int64"):
            out = b.build("t.to(d)", t=out, d=b.node("dtype"))
        return out
    return rule


_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "area": None, "bicubic": None,
                 "lanczos3": None, "lanczos5": None, "gaussian": None, "mitchellcubic": None}


def resize(method: str) -> Callable[[Bound], cst.BaseExpression]:
    # TF2 resize: half-pixel centres, no antialias: bilinear = F.interpolate(bilinear,
    # align_corners=False); nearest = 'nearest-exact' (keras/src/backend/torch/image.py does the same)
    def rule(b: Bound):
        m = b.literal(method)
        if m is NOT_LITERAL or str(m).lower() not in _RESIZE_MODES:
            raise Untranslatable(f"{method}= must be a literal method name")
        mode = _RESIZE_MODES[str(m).lower()]
        if mode is None:
            raise Untranslatable(f"{method}={m!r} has no exact F.interpolate mode (bicubic: TF a=-0.5, torch a=-0.75)")
        for flag in ("antialias", "preserve_aspect_ratio", "crop_to_aspect_ratio", "pad_to_aspect_ratio"):
            if flag in b.params and b.literal(flag) is not False:
                raise Untranslatable(f"{flag}= is not translated")
        if "data_format" in b.params and b.literal("data_format") not in (None, "channels_last"):
            raise Untranslatable("data_format= other than channels_last is not translated")
        for flag in ("fill_mode", "fill_value"):
            if flag in b.params:
                b.used.add(flag)  # only used with pad_to_aspect_ratio
        b.use("resize_nhwc")
        return b.build("resize_nhwc(images, size, mode=m)", m=mode)
    return rule


def pad(b: Bound):
    # tf.pad: [[before, after]] from the first dim; F.pad: (before, after) pairs from the last dim
    x, widths = b.op.params[0].name, b.op.params[1].name
    mode = b.literal("mode")
    if not isinstance(mode, str) or mode.lower() != "constant":
        raise Untranslatable(f"mode={b.code('mode') or mode!r} is not translated (only constant padding)")
    pairs = b.literal(widths)
    if not (isinstance(pairs, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs)):
        raise Untranslatable(f"{widths} must be a literal list of [before, after] pairs, one per dim")
    while pairs and tuple(pairs[0]) == (0, 0):
        pairs = pairs[1:]
    flat = tuple(v for p in reversed(pairs) for v in p)
    value = b.node("constant_values")
    if value is not None and b.literal("constant_values") == 0:
        value = None
    return b.build("F.pad(t, p, value=v)", t=b.node(x), p=flat, v=value)


def tf_slice(b: Bound):
    x, begin, size = (p.name for p in b.op.params[:3])
    starts, sizes = b.literal(begin), b.literal(size)
    if not (isinstance(starts, (list, tuple)) and isinstance(sizes, (list, tuple)) and len(starts) == len(sizes)
            and all(isinstance(v, int) for v in (*starts, *sizes))):
        raise Untranslatable("begin/size must be literal lists of integers")
    parts = [f"{s}:" if n == -1 else f"{s}:{s + n}" for s, n in zip(starts, sizes)]
    parts = [p.replace("0:", ":", 1) if p.startswith("0:") else p for p in parts]
    return b.build(f"t[{', '.join(parts)}]", t=b.node(x))


def sort(b: Bound):
    direction = b.literal("direction")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise Untranslatable("direction= must be a literal")
    desc = direction == "DESCENDING" or None
    return b.build("torch.sort(values, dim=axis, descending=d).values", d=desc)


def argsort(b: Bound):
    direction = b.literal("direction")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise Untranslatable("direction= must be a literal")
    stable = b.literal("stable")
    if stable not in (True, False):
        raise Untranslatable("stable= must be a literal")
    return b.build("torch.argsort(values, dim=axis, descending=d, stable=s)",
                   d=(direction == "DESCENDING") or None, s=stable or None)


def where(cond: str, x: str, y: str, one_arg: str) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        if b.node(x) is None and b.node(y) is None:
            return b.build(one_arg, c=b.node(cond))
        if b.node(x) is None or b.node(y) is None:
            raise Untranslatable("both x and y are needed")
        return b.build("torch.where(c, a, d)", c=b.node(cond), a=b.node(x), d=b.node(y))
    return rule


def sequence_mask(b: Bound):
    maxlen = b.node("maxlen")
    if maxlen is None:
        b.need_pure("lengths")
        maxlen = b.build("torch.max(lengths)")
    out = b.build("torch.arange(n) < torch.unsqueeze(lengths, -1)", n=maxlen)
    if b.dtype("dtype") not in (None, "bool"):
        out = b.build("t.to(d)", t=out, d=b.node("dtype"))
    return out


def band_part(b: Bound):
    lower, upper = b.literal("num_lower"), b.literal("num_upper")
    if not (isinstance(lower, int) and isinstance(upper, int)):
        raise Untranslatable("num_lower/num_upper must be literal integers")
    out = b.node("input")
    if upper >= 0:  # keep j - i <= upper
        out = b.build("torch.tril(t, u)", t=out, u=upper or None)
    if lower >= 0:  # keep i - j <= lower
        out = b.build("torch.triu(t, l)", t=out, l=-lower or None)
    return out


def norm(flattened_is_vector: bool) -> Callable[[Bound], cst.BaseExpression]:
    # euclidean/Frobenius (or any vector norm along one axis) = torch.linalg.vector_norm; a numeric
    # ord over two axes is a matrix norm (not translated). tf.norm treats a tensor without axis as
    # one flat vector (numpy/keras: a matrix norm for 2-D inputs)
    def rule(b: Bound):
        x, axis_name = b.op.params[0].name, "axis"
        order = b.literal("ord")
        axis = b.literal(axis_name)
        if order in ("euclidean", "fro", None):
            return b.build("torch.linalg.vector_norm(t, dim=a, keepdim=k)", t=b.node(x), a=b.node(axis_name),
                           k=b.node("keepdims"))
        if isinstance(order, (int, float)) and (isinstance(axis, int) or (b.node(axis_name) is None and flattened_is_vector)):
            return b.build("torch.linalg.vector_norm(t, ord=o, dim=a, keepdim=k)", t=b.node(x), o=b.node("ord"),
                           a=b.node(axis_name), k=b.node("keepdims"))
        raise Untranslatable(f"ord={b.code('ord')} with axis={b.code(axis_name) or None} is not translated")
    return rule


def svd_values(b: Bound):
    if b.literal("compute_uv") is not False:
        raise Untranslatable("tf.linalg.svd returns (s, u, v) with v not transposed; torch.linalg.svd returns "
                             "(U, S, Vh): rewrite the unpacking by hand")
    return b.build("torch.linalg.svdvals(tensor)")


def triangular_solve(lower_name: str) -> Callable[[Bound], cst.BaseExpression]:
    def rule(b: Bound):
        lower = b.literal(lower_name)
        if lower not in (True, False):
            raise Untranslatable(f"{lower_name}= must be a literal")
        if "adjoint" in b.params and b.literal("adjoint") is not False:
            raise Untranslatable("adjoint= is not translated")
        a, rhs = b.op.params[0].name, b.op.params[1].name
        return b.build("torch.linalg.solve_triangular(m, r, upper=u)", m=b.node(a), r=b.node(rhs), u=not lower)
    return rule


def qr(b: Bound):
    if "full_matrices" in b.params:
        full = b.literal("full_matrices")
        if full not in (True, False):
            raise Untranslatable("full_matrices= must be a literal")
        return b.build("torch.linalg.qr(input, mode=m)", m="complete" if full else None)
    mode = b.literal("mode")
    if mode not in ("reduced", "complete"):
        raise Untranslatable("mode= must be 'reduced' or 'complete'")
    return b.build("torch.linalg.qr(x, mode=m)", m=None if mode == "reduced" else mode)


def batch_normalization(b: Bound):
    # (x - mean) * rsqrt(variance + eps) * scale + offset; scale/offset may be None
    out = b.build("(x - mean) * torch.rsqrt(variance + variance_epsilon)")
    if not _is_none(b.node("scale")):
        out = b.build("t * scale", t=out)
    if not _is_none(b.node("offset")):
        out = b.build("t + offset", t=out)
    return out


def bias_add(b: Bound):
    if b.literal("data_format") not in (None, "NHWC", "NWC", "NDHWC", "N...C"):
        raise Untranslatable("channels-first data_format= is not translated")
    return b.build("value + bias")


def crop_to_bounding_box(b: Bound):
    ends = [b.literal(a) + b.literal(c) if isinstance(b.literal(a), int) and isinstance(b.literal(c), int) else None
            for a, c in (("offset_height", "target_height"), ("offset_width", "target_width"))]
    if None in ends:
        b.need_pure("offset_height", "offset_width")
        return b.build("image[..., offset_height:offset_height + target_height, offset_width:offset_width + target_width, :]")
    return b.build("image[..., offset_height:h, offset_width:w, :]", h=ends[0], w=ends[1])


def pad_to_bounding_box(b: Bound):
    b.need_pure("image", "offset_height", "offset_width")
    return b.build("F.pad(image, (0, 0, offset_width, target_width - offset_width - image.shape[-2], "
                   "offset_height, target_height - offset_height - image.shape[-3]))")


def flip(b: Bound):
    if b.node("axis") is None:
        b.need_pure("x")
        return b.build("torch.flip(x, dims=tuple(range(x.ndim)))")
    axis = b.literal("axis")
    dims = b.node("axis") if isinstance(axis, (list, tuple)) or axis is NOT_LITERAL else lit([axis])
    return b.build("torch.flip(x, dims=d)", d=dims)


def keras_pad(b: Bound):
    widths = b.literal("pad_width")
    if isinstance(widths, (list, tuple)) and widths and all(isinstance(p, (list, tuple)) for p in widths):
        if b.literal("mode") != "constant":
            raise Untranslatable("only constant padding is translated")
        pairs = [tuple(p) for p in widths]
        if any(len(p) != 2 for p in pairs):
            raise Untranslatable("pad_width must list (before, after) pairs")
        while pairs and pairs[0] == (0, 0):
            pairs = pairs[1:]
        return b.build("F.pad(x, p, value=v)", p=tuple(v for p in reversed(pairs) for v in p),
                       v=None if b.literal("constant_values") in (None, 0) else b.node("constant_values"))
    raise Untranslatable("pad_width must be a literal list of (before, after) pairs, one per dim")


def keras_linspace(b: Bound):
    if b.literal("endpoint") is not True or b.literal("retstep") is not False or b.literal("axis") != 0:
        raise Untranslatable("endpoint=False / retstep / axis are not translated")
    return b.build("torch.linspace(start, stop, num, dtype=dtype)")


def keras_eye(b: Bound):
    if b.literal("k") != 0:
        raise Untranslatable("k= (diagonal offset) is not translated")
    return b.build("torch.eye(N, M, dtype=dtype)")


def clip_by_norm(b: Bound):
    # TF: t * clip_norm / maximum(l2norm(t, axes), clip_norm) (ops/clip_ops.py clip_by_norm)
    b.need_pure("t")
    return b.build("t * clip_norm / torch.clamp(torch.linalg.vector_norm(t, dim=axes, keepdim=True), min=clip_norm)")


def average_loss(b: Bound):
    # single replica: sum(loss * weight) / batch size (ops/nn_impl.py compute_average_loss)
    b.need_pure("per_example_loss")
    loss = b.build("per_example_loss * sample_weight") if b.node("sample_weight") is not None else b.node("per_example_loss")
    size = b.node("global_batch_size") or b.build("per_example_loss.shape[0]")
    return b.build("torch.sum(l) / n", l=loss, n=size)


def expand_dims(b: Bound):
    axis = b.literal("axis")
    if isinstance(axis, (list, tuple)):
        raise Untranslatable("several axes are not translated")
    x = b.op.params[0].name
    return b.build("torch.unsqueeze(t, a)", t=b.node(x), a=b.node("axis"))


def gather_nd(b: Bound):
    if b.given("batch_dims") and b.literal("batch_dims") != 0:
        raise Untranslatable("batch_dims is not translated")
    # the last dim of indices indexes the leading dims of params
    return b.build("params[torch.unbind(i, dim=-1)]", i=_tensor(b, "indices"))


def tf_print(b: Bound):
    # tf.print writes to stderr unless told otherwise
    stream = b.node("output_stream")
    if stream is None:
        b.imports.add("import sys")
        stream = cst.parse_expression("sys.stderr")
    return b.build("print(*inputs, file=o, sep=sep, end=end)", o=stream)


def keras_tensor(b: Bound):
    # Keras converts Python floats to float32 (floatx) and keeps numpy dtypes; so does torch.as_tensor
    return b.build("torch.as_tensor(x, dtype=dtype)")


def keras_epsilon(b: Bound):
    # keras.backend.epsilon() is 1e-7 unless set_epsilon changed it
    return lit(1e-07)


def keras_std(fn: str) -> str:
    return f"{fn}(x, dim=axis, correction=0, keepdim=keepdims)"


def k2_sqrt(b: Bound):
    # keras.backend.sqrt clips negative values to 0 first (tf_keras/src/backend.py sqrt)
    return b.build("torch.sqrt(torch.clamp(x, min=0.0))")


def median(b: Bound):
    # numpy median averages the two middle values (torch.median takes the lower one): quantile 0.5
    if b.node("axis") is not None:
        return b.build("torch.quantile(x, 0.5, dim=axis, keepdim=keepdims)")
    if b.literal("keepdims") not in (None, False):
        raise Untranslatable("keepdims=True over all axes is not translated")
    return b.build("torch.quantile(torch.flatten(x), 0.5)")


def tf_range_keras(b: Bound):
    if b.node("stop") is None:
        if b.node("step") is None:
            return b.build("torch.arange(start, dtype=dtype)")
        return b.build("torch.arange(0, start, step, dtype=dtype)")
    return b.build("torch.arange(start, stop, step, dtype=dtype)")


def logits_only(b: Bound, template: str, pure: str | None = None):
    # from_logits=False: Keras clips probabilities to [eps, 1 - eps] first (not translated)
    if b.literal("from_logits") is not True:
        raise Untranslatable("from_logits=False (Keras clips probabilities to [1e-7, 1 - 1e-7]) is not translated")
    if pure:
        b.need_pure(pure)
    return b.build(template)


def shape_keras2(b: Bound):
    return b.build("torch.tensor(x.shape)") if b.role != "free" and not isinstance(
        b.parent, (cst.Attribute, cst.Subscript, cst.Call)) else b.build("x.shape")


def l2_normalize_k2(b: Bound):
    # keras.backend.l2_normalize = tf.math.l2_normalize(x, axis) with epsilon 1e-12
    if b.node("axis") is None:
        b.need_pure("x")
        return b.build("torch.reshape(F.normalize(torch.flatten(x), dim=0, eps=1e-06), x.shape)")
    return b.build("F.normalize(x, dim=axis, eps=1e-06)")


def _refuse(why: str):
    raise Untranslatable(why)


# ----------------------------------------------------------------------------------------- table

def _unary(names: str, torch_fn: str, sample_input: str = "x", param: str = "x") -> Op:
    first = names.split()[0]
    call = first.replace("keras.backend.", "K.").replace("keras.activations.", "keras.activations.")
    return op(names, param, f"{torch_fn}({param})", f"{call}({sample_input})")


_REDUCE = "input_tensor, axis=None, keepdims=None"
_KREDUCE = "x, axis=None, keepdims=None"

TABLE: list[Op] = [
    # --- tf / tf.math: element-wise --------------------------------------------------------------
    _unary("tf.math.abs tf.abs", "torch.abs"),
    op("tf.math.negative tf.negative", "x", "-x", "tf.negative(x)"),
    _unary("tf.math.sign tf.sign", "torch.sign"),
    _unary("tf.math.square tf.square", "torch.square"),
    _unary("tf.math.sqrt tf.sqrt", "torch.sqrt", "p"),
    _unary("tf.math.rsqrt", "torch.rsqrt", "p"),
    _unary("tf.math.exp tf.exp", "torch.exp"),
    _unary("tf.math.expm1", "torch.expm1"),
    _unary("tf.math.log", "torch.log", "p"),
    _unary("tf.math.log1p", "torch.log1p", "p"),
    _unary("tf.math.sin tf.sin", "torch.sin"),
    _unary("tf.math.cos tf.cos", "torch.cos"),
    _unary("tf.math.tan tf.tan", "torch.tan", "u"),
    _unary("tf.math.asin tf.asin", "torch.asin", "u"),
    _unary("tf.math.acos tf.acos", "torch.acos", "u"),
    _unary("tf.math.atan tf.atan", "torch.atan"),
    _unary("tf.math.sinh tf.sinh", "torch.sinh"),
    _unary("tf.math.cosh tf.cosh", "torch.cosh"),
    _unary("tf.math.tanh tf.tanh tf.nn.tanh", "torch.tanh"),
    _unary("tf.math.asinh tf.asinh", "torch.asinh"),
    _unary("tf.math.acosh tf.acosh", "torch.acosh", "p + 1"),
    _unary("tf.math.atanh tf.atanh", "torch.atanh", "u"),
    _unary("tf.math.floor tf.floor", "torch.floor"),
    _unary("tf.math.ceil", "torch.ceil"),
    _unary("tf.math.round tf.round", "torch.round", "halves"),  # both round half to even
    _unary("tf.math.rint", "torch.round", "x * 3"),
    _unary("tf.math.reciprocal", "torch.reciprocal", "p"),
    _unary("tf.math.sigmoid tf.sigmoid tf.nn.sigmoid", "torch.sigmoid"),
    _unary("tf.math.erf", "torch.erf"),
    _unary("tf.math.erfc", "torch.erfc"),
    _unary("tf.math.erfinv", "torch.erfinv", "u"),
    _unary("tf.math.ndtri", "torch.special.ndtri", "u"),
    _unary("tf.math.lgamma", "torch.lgamma", "p"),
    _unary("tf.math.digamma", "torch.digamma", "p"),
    _unary("tf.math.bessel_i0 tf.math.special.bessel_i0", "torch.special.i0"),
    _unary("tf.math.is_nan", "torch.isnan", "xnan"),
    _unary("tf.math.is_inf", "torch.isinf", "xnan"),
    _unary("tf.math.is_finite", "torch.isfinite", "xnan"),
    _unary("tf.math.logical_not tf.logical_not", "torch.logical_not", "m"),
    _unary("tf.math.softplus tf.nn.softplus", "F.softplus", "x", "features"),
    _unary("tf.math.log_sigmoid", "F.logsigmoid"),
    op("tf.math.add tf.add", "x, y", operator("x + y", "x", "y"), "tf.add(x, y)"),
    op("tf.math.subtract tf.subtract", "x, y", operator("x - y", "x", "y"), "tf.subtract(x, y)"),
    op("tf.math.multiply tf.multiply", "x, y", operator("x * y", "x", "y"), "tf.multiply(x, [1.0, 2.0, 3.0, 4.0])"),
    # int / int is float64 in TF and float32 in torch (same values up to float32 precision)
    op("tf.math.divide tf.divide", "x, y", operator("x / y", "x", "y"), "tf.divide(x, p)"),
    op("tf.math.truediv tf.truediv", "x, y", operator("x / y", "x", "y"), "tf.math.truediv(i, j)"),
    op("tf.realdiv", "x, y", operator("x / y", "x", "y"), "tf.realdiv(x, p)"),
    op("tf.math.pow tf.pow", "x, y", "torch.pow(x, y)", "tf.pow(p, x)"),
    op("tf.math.maximum tf.maximum", "x, y", clamp_or("torch.maximum", "min"), "tf.maximum(x, 0.5)"),
    op("tf.math.minimum tf.minimum", "x, y", clamp_or("torch.minimum", "max"), "tf.minimum(x, y)"),
    # floor division/modulo follow Python (floor) semantics in both; truncate* follow C
    op("tf.math.floordiv", "x, y", "torch.floor_divide(x, y)", "tf.math.floordiv(i * 7 - 20, j)"),
    op("tf.math.floormod tf.math.mod", "x, y", "torch.remainder(x, y)", "tf.math.floormod(x * 5, p)"),
    op("tf.truncatediv", "x, y", "torch.div(x, y, rounding_mode='trunc')", "tf.truncatediv(i * 7 - 20, j)"),
    op("tf.truncatemod", "x, y", "torch.fmod(x, y)", "tf.truncatemod(x * 5, p)"),
    op("tf.math.squared_difference", "x, y", "torch.square(x - y)", "tf.math.squared_difference(x, y)"),
    op("tf.math.atan2 tf.atan2", "y, x", "torch.atan2(y, x)", "tf.math.atan2(y, x)"),
    op("tf.math.zeta", "x, q", "torch.special.zeta(x, q)", "tf.math.zeta(p + 1, q)"),
    op("tf.math.divide_no_nan", "x, y", lambda b: (b.need_pure("y"), b.build("torch.where(y == 0, 0.0, x / y)"))[1],
       "tf.math.divide_no_nan(x, yz)"),
    op("tf.math.multiply_no_nan", "x, y", lambda b: (b.need_pure("y"), b.build("torch.where(y == 0, 0.0, x * y)"))[1],
       "tf.math.multiply_no_nan(xnan, yz)"),
    op("tf.math.equal tf.equal", "x, y", operator("x == y", "x", "y"), "tf.equal(i, j)"),
    op("tf.math.not_equal tf.not_equal", "x, y", operator("x != y", "x", "y"), "tf.not_equal(i, j)"),
    op("tf.math.greater tf.greater", "x, y", operator("x > y", "x", "y"), "tf.greater(x, y)"),
    op("tf.math.greater_equal tf.greater_equal", "x, y", operator("x >= y", "x", "y"), "tf.greater_equal(i, j)"),
    op("tf.math.less tf.less", "x, y", operator("x < y", "x", "y"), "tf.less(x, y)"),
    op("tf.math.less_equal tf.less_equal", "x, y", operator("x <= y", "x", "y"), "tf.less_equal(i, j)"),
    op("tf.math.logical_and tf.logical_and", "x, y", "torch.logical_and(x, y)", "tf.logical_and(m, n)"),
    op("tf.math.logical_or tf.logical_or", "x, y", "torch.logical_or(x, y)", "tf.logical_or(m, n)"),
    op("tf.math.logical_xor", "x, y", "torch.logical_xor(x, y)", "tf.math.logical_xor(m, n)"),
    op("tf.clip_by_value", "t, clip_value_min, clip_value_max", "torch.clamp(t, clip_value_min, clip_value_max)",
       "tf.clip_by_value(x, -0.5, 0.5)"),
    op("tf.clip_by_norm", "t, clip_norm, axes=None", clip_by_norm, "tf.clip_by_norm(x, 1.5, axes=[1])"),
    op("tf.math.add_n tf.add_n", "inputs", "torch.sum(torch.stack(inputs), dim=0)", "tf.add_n([x, y, p])"),
    op("tf.math.cumsum tf.cumsum", "x, axis=0, exclusive=False, reverse=False", cumulative("torch.cumsum"),
       "tf.cumsum(x, axis=1, reverse=True)"),
    op("tf.math.cumprod", "x, axis=0, exclusive=False, reverse=False", cumulative("torch.cumprod"),
       "tf.math.cumprod(p, 2)"),
    op("tf.math.cumulative_logsumexp", "x, axis=0, exclusive=False, reverse=False", cumulative("torch.logcumsumexp"),
       "tf.math.cumulative_logsumexp(x, axis=1)"),
    # --- reductions --------------------------------------------------------------------------------
    op("tf.math.reduce_sum tf.reduce_sum", _REDUCE, reduce_all("torch.sum"),
       "tf.reduce_sum(x, 1, True)"),
    op("tf.math.reduce_mean tf.reduce_mean", _REDUCE, reduce_all("torch.mean"),
       "tf.reduce_mean(x, keepdims=True)"),
    op("tf.math.reduce_max tf.reduce_max", _REDUCE, "torch.amax(input_tensor, dim=axis, keepdim=keepdims)",
       "tf.reduce_max(x, axis=-1, keepdims=True)"),
    op("tf.math.reduce_min tf.reduce_min", _REDUCE, "torch.amin(input_tensor, dim=axis, keepdim=keepdims)",
       "tf.reduce_min(x)"),
    op("tf.math.reduce_prod tf.reduce_prod", _REDUCE, reduce_single("torch.prod"), "tf.reduce_prod(p, axis=1)"),
    op("tf.math.reduce_any tf.reduce_any", _REDUCE, "torch.any(input_tensor, dim=axis, keepdim=keepdims)",
       "tf.reduce_any(m, axis=(0, 1))"),
    op("tf.math.reduce_all tf.reduce_all", _REDUCE, "torch.all(input_tensor, dim=axis, keepdim=keepdims)",
       "tf.reduce_all(m | n, axis=2)"),
    op("tf.math.reduce_logsumexp tf.reduce_logsumexp", _REDUCE, logsumexp, "tf.reduce_logsumexp(x, axis=2)"),
    # TF variance/std are the population ones (divide by N): correction=0
    op("tf.math.reduce_std", _REDUCE, "torch.std(input_tensor, dim=axis, correction=0, keepdim=keepdims)",
       "tf.math.reduce_std(x, axis=1)"),
    op("tf.math.reduce_variance", _REDUCE, "torch.var(input_tensor, dim=axis, correction=0, keepdim=keepdims)",
       "tf.math.reduce_variance(x)"),
    op("tf.math.reduce_euclidean_norm", _REDUCE, "torch.linalg.vector_norm(input_tensor, dim=axis, keepdim=keepdims)",
       "tf.math.reduce_euclidean_norm(x, axis=2)"),
    op("tf.math.count_nonzero", "input, axis=None, keepdims=None, dtype=DROP", reduce_single("torch.count_nonzero"),
       "tf.math.count_nonzero(m, axis=1)"),
    # tf.argmax: axis omitted (or None) is axis 0, not the flattened tensor
    op("tf.math.argmax tf.argmax", "input, axis: None = 0, output_type=None", argmax("torch.argmax"), "tf.argmax(x)"),
    op("tf.math.argmin tf.argmin", "input, axis: None = 0, output_type=None", argmax("torch.argmin"), "tf.argmin(x, axis=2)"),
    op("tf.math.top_k tf.nn.top_k", "input, k=1, sorted=None, index_type=DROP", "torch.topk(input, k, sorted=sorted)",
       "tf.math.top_k(x, k=2)"),
    op("tf.sort", "values, axis=None, direction='ASCENDING'", sort, "tf.sort(x, axis=1, direction='DESCENDING')"),
    op("tf.argsort", "values, axis=None, direction='ASCENDING', stable=False", argsort, "tf.argsort(x, stable=True)"),
    op("tf.math.bincount", "arr, weights=None, minlength=None, maxlength=None, dtype=DROP, axis=None, binary_output=False",
       lambda b: b.build("torch.bincount(torch.flatten(arr), weights=w, minlength=minlength)",
                         w=b.build("torch.flatten(weights)") if b.node("weights") is not None else None),
       "tf.math.bincount(k, minlength=6)"),
    # --- creation / conversion ---------------------------------------------------------------------
    # tf.cast takes anything TF converts (numpy arrays, Python numbers, shapes' ints), as torch.as_tensor
    # does (for a tensor it is x.to(dtype), differentiable); float -> int truncates toward 0 in both
    op("tf.cast tf.dtypes.cast", "x, dtype", "torch.as_tensor(x, dtype=dtype)", "tf.cast(x * 4, tf.int32)"),
    op("tf.constant", "value, dtype=None, shape=None", "torch.tensor(value, dtype=dtype)",
       "tf.constant([[1.0, 2.0], [3.0, 4.0]], dtype=tf.float64)"),
    op("tf.convert_to_tensor", "value, dtype=None, dtype_hint=None", "torch.as_tensor(value, dtype=dtype)",
       "tf.convert_to_tensor(x)"),
    op("tf.zeros", "shape, dtype=None, layout=None", "torch.zeros(shape, dtype=dtype)", "tf.zeros([2, 3], tf.int32)"),
    op("tf.ones", "shape, dtype=None, layout=None", "torch.ones(shape, dtype=dtype)", "tf.ones((3,))"),
    op("tf.zeros_like", "input, dtype=None, layout=None", "torch.zeros_like(input, dtype=dtype)", "tf.zeros_like(x)"),
    op("tf.ones_like", "input, dtype=None, layout=None", "torch.ones_like(input, dtype=dtype)",
       "tf.ones_like(x, dtype=tf.int64)"),
    op("tf.fill", "dims, value, layout=None", "torch.full(dims, value)", "tf.fill([2, 3], 1.5)"),
    op("tf.range", "start, limit=None, delta=1, dtype=None", tf_range, "tf.range(1, 10, 3)"),
    op("tf.linspace", "start, stop, num, axis=0", "torch.linspace(start, stop, num)",
       "tf.linspace(0.0, 1.0, 7)"),
    op("tf.eye tf.linalg.eye", "num_rows, num_columns=None, batch_shape=None, dtype=None",
       "torch.eye(num_rows, num_columns, dtype=dtype)", "tf.eye(3, 4)"),
    op("tf.identity", "input", "torch.clone(input)", "tf.identity(x)"),
    op("tf.stop_gradient", "input", "input.detach()", "tf.stop_gradient(x)"),
    op("tf.random.set_seed", "seed", "torch.manual_seed(seed)"),
    op("tf.print", "*inputs, output_stream=None, summarize=DROP, sep=None, end=None", tf_print),
    # --- shapes ------------------------------------------------------------------------------------
    op("tf.shape", "input, out_type=None", shape, "tf.shape(x)"),
    op("tf.rank", "input", "input.ndim", "tf.rank(x)"),
    op("tf.size", "input, out_type=DROP", "input.numel()", "tf.size(x)"),
    op("tf.reshape", "tensor, shape", "torch.reshape(tensor, shape)", "tf.reshape(x, [-1, 4])"),
    op("tf.transpose", "a, perm=None, conjugate=False", transpose("a", "perm"), "tf.transpose(x)"),
    op("tf.expand_dims", "input, axis", expand_dims, "tf.expand_dims(x, -1)"),
    op("tf.squeeze", "input, axis=None", "torch.squeeze(input, dim=axis)", "tf.squeeze(x[:, :1], axis=[1])"),
    op("tf.concat", "values, axis", "torch.cat(values, dim=axis)", "tf.concat([x, y], -1)"),
    op("tf.stack", "values, axis=0", "torch.stack(values, dim=axis)", "tf.stack([x, y], axis=1)"),
    op("tf.unstack", "value, num=DROP, axis=0", "torch.unbind(value, dim=axis)", "tf.unstack(x, axis=2)"),
    # tf.split(x, N) = N equal pieces (torch.chunk); a list = sizes (torch.split)
    op("tf.split", "value, num_or_size_splits, axis=0, num=DROP", tf_split, "tf.split(x, 2, axis=0)"),
    # tf.tile = Tensor.repeat / torch.tile; tf.repeat = repeat_interleave (axis None flattens in both)
    op("tf.tile", "input, multiples", "torch.tile(input, multiples)", "tf.tile(x, [1, 2, 3])"),
    op("tf.repeat", "input, repeats, axis=None", "torch.repeat_interleave(input, repeats, dim=axis)",
       "tf.repeat(x, 2, axis=1)"),
    op("tf.broadcast_to", "input, shape", "torch.broadcast_to(input, shape)", "tf.broadcast_to(v, [3, 5])"),
    op("tf.reverse", "tensor, axis", "torch.flip(tensor, dims=axis)", "tf.reverse(x, [1, 2])"),
    op("tf.slice", "input_, begin, size", tf_slice, "tf.slice(x, [0, 1, 1], [1, -1, 2])"),
    op("tf.pad", "tensor, paddings, mode='CONSTANT', constant_values=0", pad,
       "tf.pad(img, [[0, 0], [1, 2], [3, 0], [0, 0]], constant_values=1.5)"),
    op("tf.gather", "params, indices, validate_indices=DROP, axis=None, batch_dims=0", gather, "tf.gather(x, ids, axis=2)"),
    op("tf.gather_nd", "params, indices, batch_dims=0, bad_indices_policy=''", gather_nd,
       "tf.gather_nd(x, [[0, 1], [1, 2]])"),
    op("tf.where", "condition, x=None, y=None", where("condition", "x", "y", "torch.argwhere(c)"), "tf.where(m, x, y)"),
    op("tf.boolean_mask", "tensor, mask, axis=None", "tensor[mask]", "tf.boolean_mask(x, m)"),
    op("tf.sequence_mask", "lengths, maxlen=None, dtype=None", sequence_mask, "tf.sequence_mask(lengths, 6)"),
    op("tf.one_hot", "indices, depth, on_value=None, off_value=None, axis=None, dtype=None",
       one_hot("indices", "depth"), "tf.one_hot(labels, 5)"),
    op("tf.meshgrid", "*args, indexing='xy'", "torch.meshgrid(*args, indexing=indexing)", "tf.meshgrid(v, v[:3])"),
    op("tf.einsum tf.linalg.einsum", "equation, *inputs", "torch.einsum(equation, *inputs)",
       "tf.einsum('ij,jk->ik', a, bm)"),
    op("tf.tensordot tf.linalg.tensordot", "a, b, axes", "torch.tensordot(a, b, dims=axes)",
       "tf.tensordot(x, bm, axes=[[2], [0]])"),
    op("tf.norm tf.linalg.norm", "tensor, ord='euclidean', axis=None, keepdims=None", norm(True), "tf.norm(x, axis=1)"),
    # --- tf.nn ---------------------------------------------------------------------------------------
    _unary("tf.nn.relu", "F.relu", param="features"),
    _unary("tf.nn.relu6", "F.relu6", param="features", sample_input="x * 8"),
    _unary("tf.nn.elu", "F.elu", param="features"),
    _unary("tf.nn.selu", "F.selu", param="features"),
    _unary("tf.nn.softsign", "F.softsign", param="features"),
    op("tf.nn.softmax tf.math.softmax", "logits, axis: None = -1", "F.softmax(logits, dim=axis)", "tf.nn.softmax(x, axis=1)"),
    op("tf.nn.log_softmax tf.math.log_softmax", "logits, axis: None = -1", "F.log_softmax(logits, dim=axis)",
       "tf.nn.log_softmax(x)"),
    # tf.nn.gelu is exact (erf) by default
    op("tf.nn.gelu", "features, approximate=False", gelu, "tf.nn.gelu(x)"),
    op("tf.nn.silu tf.nn.swish", "features, beta=1.0", silu, "tf.nn.silu(x, beta=1.5)"),
    # the function's default slope is 0.2 (the LeakyReLU layer's is 0.3, torch's 0.01)
    op("tf.nn.leaky_relu", "features, alpha=0.2", "F.leaky_relu(features, negative_slope=alpha)", "tf.nn.leaky_relu(x)"),
    op("tf.nn.crelu", "features, axis=-1", lambda b: (b.need_pure("features"),
       b.build("F.relu(torch.cat([features, -features], dim=axis))"))[1], "tf.nn.crelu(x)"),
    op("tf.nn.l2_normalize tf.math.l2_normalize tf.linalg.l2_normalize", "x, axis=None, epsilon=1e-12, dim=None",
       l2_normalize, "tf.nn.l2_normalize(x, axis=-1)"),
    op("tf.nn.moments", "x, axes, shift=None, keepdims=None", moments, "tf.nn.moments(x, axes=[0, 1])"),
    op("tf.nn.dropout", "x, rate, noise_shape=None, seed=None", dropout("x", "rate", True), "tf.nn.dropout(x, 0.5)", "shape"),
    # (labels, logits) in TF; torch losses take (input, target)
    op("tf.nn.sigmoid_cross_entropy_with_logits", "labels, logits",
       "F.binary_cross_entropy_with_logits(logits, labels, reduction='none')",
       "tf.nn.sigmoid_cross_entropy_with_logits(labels=blabels, logits=logits)"),
    op("tf.nn.weighted_cross_entropy_with_logits", "labels, logits, pos_weight",
       "F.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.as_tensor(pos_weight), reduction='none')",
       "tf.nn.weighted_cross_entropy_with_logits(blabels, logits, 2.0)"),
    # exact for any rank and class axis (F.cross_entropy wants classes on dim 1)
    op("tf.nn.softmax_cross_entropy_with_logits", "labels, logits, axis=-1",
       lambda b: (b.need_pure("axis"), b.build("-torch.sum(labels * F.log_softmax(logits, dim=axis), dim=axis)"))[1],
       "tf.nn.softmax_cross_entropy_with_logits(labels=probs, logits=logits)"),
    op("tf.nn.sparse_softmax_cross_entropy_with_logits", "labels, logits",
       "F.cross_entropy(torch.movedim(logits, -1, 1), labels.long(), reduction='none')",
       "tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels3, logits=logits3)"),
    op("tf.nn.l2_loss", "t", "torch.sum(t ** 2) / 2", "tf.nn.l2_loss(x)"),  # half the sum of squares
    op("tf.nn.bias_add", "value, bias, data_format=None", bias_add, "tf.nn.bias_add(x, v[:4])"),
    # argument order: F.embedding(ids, weight)
    op("tf.nn.embedding_lookup", "params, ids, max_norm=None", "F.embedding(ids, params)",
       "tf.nn.embedding_lookup(emb, ids)"),
    op("tf.nn.batch_normalization", "x, mean, variance, offset, scale, variance_epsilon", batch_normalization,
       "tf.nn.batch_normalization(x, v[:4], p[0, 0], None, w[:4], 1e-3)"),
    op("tf.nn.compute_average_loss", "per_example_loss, sample_weight=None, global_batch_size=None", average_loss,
       "tf.nn.compute_average_loss(v, global_batch_size=8)"),
    op("tf.nn.zero_fraction", "value", "torch.mean((value == 0).to(torch.float32))", "tf.nn.zero_fraction(tf.nn.relu(x))"),
    # --- tf.random (op seeds cannot be reproduced: TODO) --------------------------------------------------
    op("tf.random.normal", "shape, mean=0.0, stddev=1.0, dtype=None, seed=None", random_normal(True),
       "tf.random.normal([2, 3], mean=1.0, stddev=2.0)", "shape"),
    op("tf.random.uniform", "shape, minval=0, maxval=None, dtype=None, seed=None", random_uniform(True),
       "tf.random.uniform((4, 5), -1.0, 1.0)", "shape"),
    op("tf.random.truncated_normal", "shape, mean=0.0, stddev=1.0, dtype=None, seed=None", truncated_normal(True),
       "tf.random.truncated_normal([3, 4])", "shape"),
    op("tf.random.shuffle", "value, seed=None", shuffle(True), "tf.random.shuffle(v)", "sorted"),
    op("tf.random.categorical", "logits, num_samples, dtype=None, seed=None", categorical(True),
       "tf.random.categorical(logits, 3)", "shape"),
    # --- tf.image (channels-last images: (N, H, W, C) or (H, W, C)) ----------------------------------------
    op("tf.image.resize", "images, size, method='bilinear', preserve_aspect_ratio=False, antialias=False",
       resize("method"), "tf.image.resize(img, [7, 4])"),
    op("tf.image.flip_left_right", "image", "torch.flip(image, dims=[-2])", "tf.image.flip_left_right(img)"),
    op("tf.image.flip_up_down", "image", "torch.flip(image, dims=[-3])", "tf.image.flip_up_down(img)"),
    op("tf.image.rot90", "image, k=1", "torch.rot90(image, k, dims=(-3, -2))", "tf.image.rot90(img, k=3)"),
    op("tf.image.transpose", "image", "torch.transpose(image, -3, -2)", "tf.image.transpose(img)"),
    # keras.utils.to_categorical works on NumPy arrays and returns one: kept in NumPy (runtime/ops.py)
    op("keras.utils.to_categorical", "x, num_classes=None",
       lambda b: (b.use("to_categorical"), b.imports.add("import numpy as np"),
                  b.build("to_categorical(x, num_classes)" if b.given("num_classes") else "to_categorical(x)"))[-1],
       None),
    # keras.utils.pad_sequences: NumPy in, NumPy out, pre-padding by default (runtime/ops.py)
    op("keras.utils.pad_sequences", "sequences, maxlen=None, dtype='int32', padding='pre', truncating='pre', value=0.0",
       pad_sequences, None),
    op("tf.image.per_image_standardization", "image",
       lambda b: (b.use("per_image_standardization"), b.build("per_image_standardization(image)"))[1],
       "tf.image.per_image_standardization(img)"),
    # float images; TF weights (ops/image_ops_impl.py rgb_to_grayscale)
    op("tf.image.rgb_to_grayscale", "images",
       "torch.sum(images * torch.tensor([0.2989, 0.5870, 0.1140]), dim=-1, keepdim=True)",
       "tf.image.rgb_to_grayscale(img)"),
    op("tf.image.grayscale_to_rgb", "images", "torch.repeat_interleave(images, 3, dim=-1)",
       "tf.image.grayscale_to_rgb(img[..., :1])"),
    op("tf.image.crop_to_bounding_box", "image, offset_height, offset_width, target_height, target_width",
       crop_to_bounding_box, "tf.image.crop_to_bounding_box(img, 1, 2, 3, 3)"),
    op("tf.image.pad_to_bounding_box", "image, offset_height, offset_width, target_height, target_width",
       pad_to_bounding_box, "tf.image.pad_to_bounding_box(img, 1, 2, 8, 9)"),
    # --- tf.linalg ---------------------------------------------------------------------------------------
    op("tf.linalg.matmul tf.matmul", "a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, "
       "a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False", matmul("a", "b"), "tf.matmul(a, c, transpose_b=True)"),
    op("tf.linalg.matvec", "a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False",
       matmul("a", "b", matvec=True), "tf.linalg.matvec(bs, v3)"),
    op("tf.linalg.inv", "input, adjoint=False", "torch.linalg.inv(input)", "tf.linalg.inv(s)"),
    op("tf.linalg.det", "input", "torch.linalg.det(input)", "tf.linalg.det(bs)"),
    op("tf.linalg.logdet", "matrix", "torch.logdet(matrix)", "tf.linalg.logdet(s)"),  # Hermitian positive definite
    op("tf.linalg.slogdet", "input", "torch.linalg.slogdet(input)", "tf.linalg.slogdet(bs)"),
    op("tf.linalg.cholesky", "input", "torch.linalg.cholesky(input)", "tf.linalg.cholesky(bs)"),
    # argument order: torch.cholesky_solve(rhs, chol)
    op("tf.linalg.cholesky_solve", "chol, rhs", "torch.cholesky_solve(rhs, chol)",
       "tf.linalg.cholesky_solve(tf.linalg.cholesky(s), a)"),
    op("tf.linalg.qr", "input, full_matrices=False", qr, "tf.linalg.qr(bs)"),
    op("tf.linalg.svd", "tensor, full_matrices=False, compute_uv=True", svd_values,
       "tf.linalg.svd(bs, compute_uv=False)"),
    op("tf.linalg.eigh", "tensor", "torch.linalg.eigh(tensor)", None),  # eigenvector signs are arbitrary
    op("tf.linalg.eigvalsh", "tensor", "torch.linalg.eigvalsh(tensor)", "tf.linalg.eigvalsh(bs)"),
    op("tf.linalg.solve", "matrix, rhs, adjoint=False", "torch.linalg.solve(matrix, rhs)", "tf.linalg.solve(s, a)"),
    op("tf.linalg.triangular_solve", "matrix, rhs, lower=True, adjoint=False", triangular_solve("lower"),
       "tf.linalg.triangular_solve(tf.linalg.cholesky(s), a)"),
    op("tf.linalg.trace", "x", "torch.diagonal(x, dim1=-2, dim2=-1).sum(-1)", "tf.linalg.trace(bs)"),
    op("tf.linalg.diag", "diagonal, k=0, num_rows=-1, num_cols=-1, padding_value=0, align='RIGHT_LEFT'",
       "torch.diag_embed(diagonal)", "tf.linalg.diag(a)"),
    op("tf.linalg.diag_part", "input, k=0, padding_value=0, align='RIGHT_LEFT'",
       "torch.diagonal(input, dim1=-2, dim2=-1)", "tf.linalg.diag_part(x)"),
    op("tf.linalg.set_diag", "input, diagonal, k=0, align='RIGHT_LEFT'",
       "torch.diagonal_scatter(input, diagonal, dim1=-2, dim2=-1)", "tf.linalg.set_diag(x, y[..., 0])"),
    op("tf.linalg.band_part", "input, num_lower, num_upper", band_part, "tf.linalg.band_part(x, 1, 0)"),
    op("tf.linalg.matrix_transpose", "a, conjugate=False", "a.mT", "tf.linalg.matrix_transpose(x)"),
    op("tf.linalg.adjoint", "matrix", "matrix.mH", "tf.linalg.adjoint(x)"),
    op("tf.linalg.cross", "a, b", "torch.linalg.cross(a, b)", "tf.linalg.cross(v3, w3)"),
    op("tf.linalg.expm", "input", "torch.linalg.matrix_exp(input)", "tf.linalg.expm(bs / 4)"),
    op("tf.linalg.global_norm", "t_list",
       "torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in t_list]))",
       "tf.linalg.global_norm([x, a])"),
]

# --- keras.ops (NumPy-like signatures; Keras 3) ------------------------------------------------------
_K = "keras.ops."
for _name, _torch, _input in [
    ("abs absolute", "torch.abs", "x"), ("negative", "torch.negative", "x"), ("sign", "torch.sign", "x"),
    ("square", "torch.square", "x"), ("sqrt", "torch.sqrt", "p"), ("rsqrt", "torch.rsqrt", "p"),
    ("exp", "torch.exp", "x"), ("exp2", "torch.exp2", "x"), ("expm1", "torch.expm1", "x"), ("log", "torch.log", "p"),
    ("log1p", "torch.log1p", "p"), ("log2", "torch.log2", "p"), ("log10", "torch.log10", "p"),
    ("sin", "torch.sin", "x"), ("cos", "torch.cos", "x"), ("tan", "torch.tan", "u"), ("arcsin", "torch.asin", "u"),
    ("arccos", "torch.acos", "u"), ("arctan", "torch.atan", "x"), ("sinh", "torch.sinh", "x"),
    ("cosh", "torch.cosh", "x"), ("arcsinh", "torch.asinh", "x"), ("arccosh", "torch.acosh", "p + 1"),
    ("arctanh", "torch.atanh", "u"), ("floor", "torch.floor", "x * 3"), ("ceil", "torch.ceil", "x * 3"),
    ("trunc", "torch.trunc", "x * 3"), ("reciprocal", "torch.reciprocal", "p"), ("erf", "torch.erf", "x"),
    ("erfinv", "torch.erfinv", "u"), ("isnan", "torch.isnan", "x"), ("isinf", "torch.isinf", "x"),
    ("isfinite", "torch.isfinite", "x"), ("logical_not", "torch.logical_not", "m"),
    ("deg2rad", "torch.deg2rad", "x"), ("rad2deg", "torch.rad2deg", "x"), ("ravel", "torch.ravel", "x"),
    ("copy", "torch.clone", "x"), ("conj conjugate", "torch.conj", "x"), ("real", "torch.real", "x"),
    ("tril", "torch.tril", "a"), ("triu", "torch.triu", "a"),
    ("relu", "F.relu", "x"), ("relu6", "F.relu6", "x * 8"), ("sigmoid", "torch.sigmoid", "x"),
    ("tanh", "torch.tanh", "x"), ("silu swish", "F.silu", "x"), ("selu", "F.selu", "x"),
    ("softplus", "F.softplus", "x"), ("softsign", "F.softsign", "x"), ("log_sigmoid", "F.logsigmoid", "x"),
    # Keras 3 hard_sigmoid is relu6(x + 3) / 6 (backend/tensorflow/nn.py), as F.hardsigmoid
    ("hard_sigmoid", "F.hardsigmoid", "x * 4"), ("hard_silu hard_swish", "F.hardswish", "x * 4"),
    ("hard_tanh", "F.hardtanh", "x * 2"), ("tanh_shrink", "F.tanhshrink", "x"),
    ("stop_gradient", "torch.Tensor.detach", "x"),
]:
    _names_k = " ".join(_K + n for n in _name.split())
    _first = _K + _name.split()[0]
    if _torch == "torch.Tensor.detach":
        TABLE.append(op(_names_k, "variable", "variable.detach()", f"{_first}({_input})"))
    elif _name in ("tril", "triu"):
        TABLE.append(op(_names_k, "x, k=None", f"{_torch}(x, k)", f"{_first}({_input}, k=1)"))
    else:
        TABLE.append(op(_names_k, "x", f"{_torch}(x)", f"{_first}({_input})"))

for _name, _rule, _sample in [
    ("add", operator("x1 + x2", "x1", "x2"), "(x, y)"), ("subtract", operator("x1 - x2", "x1", "x2"), "(x, y)"),
    ("multiply", operator("x1 * x2", "x1", "x2"), "(x, y)"), ("divide true_divide", operator("x1 / x2", "x1", "x2"), "(x, p)"),
    ("power", "torch.pow(x1, x2)", "(p, x)"), ("floor_divide", "torch.floor_divide(x1, x2)", "(i * 7 - 20, j)"),
    ("mod", "torch.remainder(x1, x2)", "(x * 5, p)"), ("fmod", "torch.fmod(x1, x2)", "(x * 5, p)"),
    ("maximum", clamp_or("torch.maximum", "min"), "(x, y)"), ("minimum", clamp_or("torch.minimum", "max"), "(0.0, x)"),
    ("fmax", "torch.fmax(x1, x2)", "(x, y)"), ("fmin", "torch.fmin(x1, x2)", "(x, y)"),
    ("arctan2", "torch.atan2(x1, x2)", "(x, y)"), ("hypot", "torch.hypot(x1, x2)", "(x, y)"),
    ("logaddexp", "torch.logaddexp(x1, x2)", "(x, y)"), ("heaviside", "torch.heaviside(x1, x2)", "(x, y)"),
    ("equal", operator("x1 == x2", "x1", "x2"), "(i, j)"), ("not_equal", operator("x1 != x2", "x1", "x2"), "(i, j)"),
    ("greater", operator("x1 > x2", "x1", "x2"), "(x, y)"), ("greater_equal", operator("x1 >= x2", "x1", "x2"), "(i, j)"),
    ("less", operator("x1 < x2", "x1", "x2"), "(x, y)"), ("less_equal", operator("x1 <= x2", "x1", "x2"), "(i, j)"),
    ("logical_and", "torch.logical_and(x1, x2)", "(m, n)"), ("logical_or", "torch.logical_or(x1, x2)", "(m, n)"),
    ("logical_xor", "torch.logical_xor(x1, x2)", "(m, n)"), ("matmul", matmul("x1", "x2"), "(a, bm)"),
    ("kron", "torch.kron(x1, x2)", "(a, c)"),
    # numpy outer flattens its inputs
    ("outer", "torch.outer(torch.flatten(x1), torch.flatten(x2))", "(v, a)"),
    ("divide_no_nan", lambda b: (b.need_pure("x2"), b.build("torch.where(x2 == 0, 0.0, x1 / x2)"))[1],
     "(x, yz)"),
]:
    TABLE.append(op(" ".join(_K + n for n in _name.split()), "x1, x2", _rule, f"{_K}{_name.split()[0]}{_sample}"))

TABLE += [
    op(_K + "clip", "x, x_min, x_max", "torch.clamp(x, x_min, x_max)", "keras.ops.clip(x, -0.5, 0.5)"),
    op(_K + "isclose", "x1, x2, rtol=None, atol=None, equal_nan=None",
       "torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)", "keras.ops.isclose(x, x + 1e-6 * y)"),
    op(_K + "nan_to_num", "x, nan=None, posinf=None, neginf=None", "torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)",
       "keras.ops.nan_to_num(xnan)"),
    op(_K + "round", "x, decimals=0", "torch.round(x, decimals=decimals)", "keras.ops.round(x * 3, decimals=1)"),
    # reductions: numpy names; var/std are the population ones
    op(_K + "sum", _KREDUCE, reduce_all("torch.sum"), "keras.ops.sum(x, axis=(0, 2))"),
    op(_K + "mean", _KREDUCE, reduce_all("torch.mean"), "keras.ops.mean(x, 1, True)"),
    op(_K + "max", _KREDUCE + ", initial=None", "torch.amax(x, dim=axis, keepdim=keepdims)", "keras.ops.max(x, axis=-1)"),
    op(_K + "min", _KREDUCE + ", initial=None", "torch.amin(x, dim=axis, keepdim=keepdims)", "keras.ops.min(x)"),
    op(_K + "amax", _KREDUCE, "torch.amax(x, dim=axis, keepdim=keepdims)", "keras.ops.amax(x, axis=(0, 1))"),
    op(_K + "amin", _KREDUCE, "torch.amin(x, dim=axis, keepdim=keepdims)", "keras.ops.amin(x, axis=1, keepdims=True)"),
    op(_K + "prod", _KREDUCE + ", dtype=None", reduce_single("torch.prod"), "keras.ops.prod(p, axis=0)"),
    op(_K + "any", _KREDUCE, "torch.any(x, dim=axis, keepdim=keepdims)", "keras.ops.any(m, axis=1)"),
    op(_K + "all", _KREDUCE, "torch.all(x, dim=axis, keepdim=keepdims)", "keras.ops.all(m | n)"),
    op(_K + "var", _KREDUCE, keras_std("torch.var"), "keras.ops.var(x, axis=1)"),
    op(_K + "std", _KREDUCE, keras_std("torch.std"), "keras.ops.std(x, axis=[0, 2], keepdims=True)"),
    op(_K + "logsumexp", _KREDUCE, logsumexp, "keras.ops.logsumexp(x, axis=-1)"),
    op(_K + "median", _KREDUCE, median, "keras.ops.median(x, axis=1)"),
    op(_K + "count_nonzero", "x, axis=None", "torch.count_nonzero(x, dim=axis)", "keras.ops.count_nonzero(i - 3, axis=1)"),
    op(_K + "average", "x, axis=None, weights=None", "torch.mean(x, dim=axis)", "keras.ops.average(x, axis=2)"),
    # keras.ops.argmax: axis None flattens (unlike tf.argmax)
    op(_K + "argmax", "x, axis=None, keepdims=None", "torch.argmax(x, dim=axis, keepdim=keepdims)", "keras.ops.argmax(x)"),
    op(_K + "argmin", "x, axis=None, keepdims=None", "torch.argmin(x, dim=axis, keepdim=keepdims)",
       "keras.ops.argmin(x, axis=1)"),
    op(_K + "argsort", "x, axis=-1", "torch.argsort(x, dim=axis, stable=True)", "keras.ops.argsort(x, axis=0)"),
    op(_K + "sort", "x, axis=-1", "torch.sort(x, dim=axis).values", "keras.ops.sort(x, axis=1)"),
    op(_K + "top_k", "x, k, sorted=None", "torch.topk(x, k, sorted=sorted)", "keras.ops.top_k(x, 2)"),
    op(_K + "cumsum", "x, axis=None, dtype=None", cumulative("torch.cumsum"), "keras.ops.cumsum(x, axis=1)"),
    op(_K + "cumprod", "x, axis=None, dtype=None", cumulative("torch.cumprod"), "keras.ops.cumprod(p)"),
    op(_K + "diff", "a, n=None, axis=-1", "torch.diff(a, n=n, dim=axis)", "keras.ops.diff(x, axis=1)"),
    op(_K + "bincount", "x, weights=None, minlength=0, sparse=False", "torch.bincount(x, weights=weights, minlength=minlength)",
       "keras.ops.bincount(k, minlength=6)"),
    op(_K + "searchsorted", "sorted_sequence, values, side='left'", "torch.searchsorted(sorted_sequence, values, side=side)",
       "keras.ops.searchsorted(keras.ops.sort(v), w, side='right')"),
    # creation / conversion: Keras creation ops default to floatx (float32)
    op(_K + "cast", "x, dtype", "torch.as_tensor(x, dtype=dtype)", "keras.ops.cast(x * 4, 'int32')"),
    op(_K + "convert_to_tensor", "x, dtype=None, sparse=None, ragged=None", keras_tensor,
       "keras.ops.convert_to_tensor([[1.0, 2.0]], dtype='float32')"),
    op(_K + "array", "x, dtype=None", keras_tensor, "keras.ops.array(a)"),
    op(_K + "zeros", "shape, dtype=None", "torch.zeros(shape, dtype=dtype)", "keras.ops.zeros((2, 3))"),
    op(_K + "ones", "shape, dtype=None", "torch.ones(shape, dtype=dtype)", "keras.ops.ones([4], dtype='int32')"),
    op(_K + "zeros_like", "x, dtype=None", "torch.zeros_like(x, dtype=dtype)", "keras.ops.zeros_like(i)"),
    op(_K + "ones_like", "x, dtype=None", "torch.ones_like(x, dtype=dtype)", "keras.ops.ones_like(x)"),
    op(_K + "full", "shape, fill_value, dtype: None = torch.float32", "torch.full(shape, fill_value, dtype=dtype)",
       "keras.ops.full((2, 2), 3)"),
    op(_K + "full_like", "x, fill_value, dtype=None", "torch.full_like(x, fill_value, dtype=dtype)",
       "keras.ops.full_like(x, 2.5)"),
    op(_K + "arange", "start, stop=None, step=None, dtype=None", tf_range_keras, "keras.ops.arange(2, 9, 2)"),
    op(_K + "linspace", "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0", keras_linspace,
       "keras.ops.linspace(-1.0, 1.0, 5)"),
    op(_K + "eye", "N, M=None, k=0, dtype=None", keras_eye, "keras.ops.eye(3)"),
    op(_K + "identity", "n, dtype=None", "torch.eye(n, dtype=dtype)", "keras.ops.identity(4)"),
    op(_K + "meshgrid", "*x, indexing='xy'", "torch.meshgrid(*x, indexing=indexing)", "keras.ops.meshgrid(v, w[:2])"),
    # shapes
    op(_K + "shape", "x", "x.shape", "keras.ops.shape(x)"),  # a tuple in Keras too
    op(_K + "ndim", "x", "x.ndim", "keras.ops.ndim(x)"),
    op(_K + "size", "x", "x.numel()", "keras.ops.size(x)"),
    op(_K + "reshape", "x, newshape", "torch.reshape(x, newshape)", "keras.ops.reshape(x, (4, -1))"),
    op(_K + "transpose", "x, axes=None", transpose("x", "axes"), "keras.ops.transpose(x, (1, 0, 2))"),
    op(_K + "moveaxis", "x, source, destination", "torch.movedim(x, source, destination)", "keras.ops.moveaxis(x, 0, -1)"),
    op(_K + "swapaxes", "x, axis1, axis2", "torch.swapaxes(x, axis1, axis2)", "keras.ops.swapaxes(x, 0, 2)"),
    op(_K + "expand_dims", "x, axis", expand_dims, "keras.ops.expand_dims(x, 1)"),
    op(_K + "squeeze", "x, axis=None", "torch.squeeze(x, dim=axis)", "keras.ops.squeeze(x[:1])"),
    op(_K + "concatenate", "xs, axis=0", "torch.cat(xs, dim=axis)", "keras.ops.concatenate([x, y])"),
    op(_K + "stack", "x, axis=0", "torch.stack(x, dim=axis)", "keras.ops.stack([x, y], axis=-1)"),
    op(_K + "unstack", "x, num=DROP, axis=0", "torch.unbind(x, dim=axis)", "keras.ops.unstack(x, axis=1)"),
    op(_K + "hstack", "xs", "torch.hstack(xs)", "keras.ops.hstack([x, y])"),
    op(_K + "vstack", "xs", "torch.vstack(xs)", "keras.ops.vstack([x, y])"),
    # numpy split: an int is a number of equal sections, a list holds split *indices* (= torch.tensor_split)
    op(_K + "split", "x, indices_or_sections, axis=0", "torch.tensor_split(x, indices_or_sections, dim=axis)",
       "keras.ops.split(x, [1, 3], axis=2)"),
    op(_K + "tile", "x, repeats", "torch.tile(x, repeats)", "keras.ops.tile(x, (2, 1, 1))"),
    op(_K + "repeat", "x, repeats, axis=None", "torch.repeat_interleave(x, repeats, dim=axis)", "keras.ops.repeat(x, 3)"),
    op(_K + "broadcast_to", "x, shape", "torch.broadcast_to(x, shape)", "keras.ops.broadcast_to(v, (2, 5))"),
    op(_K + "flip", "x, axis=None", flip, "keras.ops.flip(x, axis=1)"),
    op(_K + "roll", "x, shift, axis=None", "torch.roll(x, shift, dims=axis)", "keras.ops.roll(x, 2, axis=2)"),
    op(_K + "pad", "x, pad_width, mode='constant', constant_values=None", keras_pad,
       "keras.ops.pad(x, ((0, 0), (1, 1), (2, 0)))"),
    op(_K + "slice", "inputs, start_indices, shape", tf_slice, "keras.ops.slice(x, (1, 0, 1), (1, 2, 3))"),
    op(_K + "take", "x, indices, axis=None", gather, "keras.ops.take(x, ids, axis=2)"),
    op(_K + "take_along_axis", "x, indices, axis=None", "torch.take_along_dim(x, indices, dim=axis)",
       "keras.ops.take_along_axis(x, keras.ops.argsort(x, axis=1), axis=1)"),
    op(_K + "where", "condition, x1=None, x2=None", where("condition", "x1", "x2", "torch.nonzero(c, as_tuple=True)"),
       "keras.ops.where(m, x, 0.0)"),
    op(_K + "nonzero", "x", "torch.nonzero(x, as_tuple=True)", "keras.ops.nonzero(m)"),
    op(_K + "one_hot", "x, num_classes, axis=-1, dtype=None, sparse=False", one_hot("x", "num_classes"),
       "keras.ops.one_hot(labels, 6)"),
    op(_K + "diag", "x, k=0", "torch.diag(x, k)", "keras.ops.diag(a)"),
    op(_K + "diagonal", "x, offset=0, axis1=0, axis2=1", "torch.diagonal(x, offset, dim1=axis1, dim2=axis2)",
       "keras.ops.diagonal(x, axis1=1, axis2=2)"),
    # numpy trace: over the first two axes by default
    op(_K + "trace", "x, offset=0, axis1=0, axis2=1", "torch.diagonal(x, offset, dim1=axis1, dim2=axis2).sum(-1)",
       "keras.ops.trace(x)"),
    op(_K + "einsum", "subscripts, *operands", "torch.einsum(subscripts, *operands)", "keras.ops.einsum('bij,bkj->bik', x, y)"),
    op(_K + "tensordot", "x1, x2, axes=2", "torch.tensordot(x1, x2, dims=axes)", "keras.ops.tensordot(a, bm, axes=1)"),
    op(_K + "norm", "x, ord=None, axis=None, keepdims=None", norm(False), "keras.ops.norm(x, axis=-1)"),
    # --- keras.ops.nn ----------------------------------------------------------------------------------
    op(_K + "softmax", "x, axis=-1", "F.softmax(x, dim=axis)", "keras.ops.softmax(x)"),
    op(_K + "log_softmax", "x, axis=-1", "F.log_softmax(x, dim=axis)", "keras.ops.log_softmax(x, axis=0)"),
    # keras.ops.gelu is the tanh approximation by default (keras.activations.gelu is exact)
    op(_K + "gelu", "x, approximate=True", gelu, "keras.ops.gelu(x)"),
    op(_K + "leaky_relu", "x, negative_slope=0.2", "F.leaky_relu(x, negative_slope=negative_slope)", "keras.ops.leaky_relu(x)"),
    op(_K + "elu", "x, alpha=None", "F.elu(x, alpha=alpha)", "keras.ops.elu(x, alpha=0.5)"),
    op(_K + "celu", "x, alpha=None", "F.celu(x, alpha=alpha)", "keras.ops.celu(x, alpha=2.0)"),
    op(_K + "glu", "x, axis=None", "F.glu(x, dim=axis)", "keras.ops.glu(x)"),
    op(_K + "hard_shrink", "x, threshold=None", "F.hardshrink(x, lambd=threshold)", "keras.ops.hard_shrink(x)"),
    op(_K + "soft_shrink", "x, threshold=None", "F.softshrink(x, lambd=threshold)", "keras.ops.soft_shrink(x)"),
    op(_K + "threshold", "x, threshold, default_value", "F.threshold(x, threshold, default_value)",
       "keras.ops.threshold(x, 0.1, -1.0)"),
    # keras.ops.normalize: x / max(norm, epsilon) (ops/nn.py _normalize), epsilon defaults to 1e-7
    op(_K + "normalize", "x, axis=-1, order=None, epsilon: None = 1e-07", "F.normalize(x, p=order, dim=axis, eps=epsilon)",
       "keras.ops.normalize(x, axis=1)"),
    op(_K + "moments", "x, axes, keepdims=None, synchronized=False", moments, "keras.ops.moments(x, axes=[0])"),
    op(_K + "binary_crossentropy", "target, output, from_logits=False", lambda b: logits_only(b,
       "F.binary_cross_entropy_with_logits(output, target, reduction='none')"),
       "keras.ops.binary_crossentropy(blabels, logits, from_logits=True)"),
    op(_K + "categorical_crossentropy", "target, output, from_logits=False, axis=-1", lambda b: logits_only(b,
       "-torch.sum(target * F.log_softmax(output, dim=axis), dim=axis)", pure="axis"),
       "keras.ops.categorical_crossentropy(probs, logits, from_logits=True)"),
    op(_K + "sparse_categorical_crossentropy", "target, output, from_logits=False, axis=-1", lambda b: logits_only(b,
       "F.cross_entropy(torch.movedim(output, axis, 1), target.long(), reduction='none')"),
       "keras.ops.sparse_categorical_crossentropy(labels3, logits3, from_logits=True)"),
    # --- keras.ops.linalg -------------------------------------------------------------------------------
    op(_K + "inv " + _K + "linalg.inv", "x", "torch.linalg.inv(x)", "keras.ops.inv(s)"),
    op(_K + "det " + _K + "linalg.det", "x", "torch.linalg.det(x)", "keras.ops.det(bs)"),
    op(_K + "slogdet", "x", "torch.linalg.slogdet(x)", "keras.ops.slogdet(bs)"),
    op(_K + "logdet", "x", "torch.logdet(x)", "keras.ops.logdet(s)"),
    op(_K + "cholesky " + _K + "linalg.cholesky", "x, upper=None", "torch.linalg.cholesky(x, upper=upper)",
       "keras.ops.cholesky(bs)"),
    op(_K + "eigh " + _K + "linalg.eigh", "x", "torch.linalg.eigh(x)", None),
    op(_K + "solve " + _K + "linalg.solve", "a, b", "torch.linalg.solve(a, b)", "keras.ops.solve(s, a)"),
    op(_K + "solve_triangular " + _K + "linalg.solve_triangular", "a, b, lower=False", triangular_solve("lower"),
       "keras.ops.solve_triangular(keras.ops.cholesky(s), a, lower=True)"),
    op(_K + "qr " + _K + "linalg.qr", "x, mode='reduced'", qr, "keras.ops.qr(bs)"),
    # keras svd: (u, s, vh) like numpy and torch.linalg.svd
    op(_K + "svd " + _K + "linalg.svd", "x, full_matrices=True, compute_uv=True",
       lambda b: b.build("torch.linalg.svdvals(x)") if b.literal("compute_uv") is False
       else b.build("torch.linalg.svd(x, full_matrices=f)", f=None if b.literal("full_matrices") is True else b.node("full_matrices")),
       "keras.ops.svd(bs, compute_uv=False)"),
    op(_K + "linalg.norm", "x, ord=None, axis=None, keepdims=None", norm(False), "keras.ops.linalg.norm(a)"),
    # --- keras.ops.image (channels_last) ---------------------------------------------------------------
    op(_K + "image.resize", "images, size, interpolation='bilinear', antialias=False, crop_to_aspect_ratio=False, "
       "pad_to_aspect_ratio=False, fill_mode='constant', fill_value=0.0, data_format=None", resize("interpolation"),
       "keras.ops.image.resize(img, (3, 9), interpolation='nearest')"),
    op(_K + "image.rgb_to_grayscale", "images, data_format=None",
       lambda b: b.build("torch.sum(images * torch.tensor([0.2989, 0.5870, 0.1140]), dim=-1, keepdim=True)")
       if b.literal("data_format") in (None, "channels_last") else _refuse("data_format= channels_first is not translated"),
       "keras.ops.image.rgb_to_grayscale(img)"),
    # --- keras.random (an int seed draws the same numbers at every call, as a fresh torch.Generator) -------
    op("keras.random.normal", "shape, mean=0.0, stddev=1.0, dtype=None, seed=None", random_normal(False),
       "keras.random.normal((3, 4), seed=1)", "shape"),
    op("keras.random.uniform", "shape, minval=0.0, maxval=1.0, dtype=None, seed=None", random_uniform(False),
       "keras.random.uniform((3, 4), minval=2.0, maxval=3.0)", "shape"),
    op("keras.random.randint", "shape, minval, maxval, dtype=torch.int32, seed=None",
       lambda b: b.build("torch.randint(minval, maxval, shape, dtype=dtype, generator=g)", g=_generator(b, False)),
       "keras.random.randint((5,), 0, 3)", "shape"),
    op("keras.random.truncated_normal", "shape, mean=0.0, stddev=1.0, dtype=None, seed=None", truncated_normal(False),
       "keras.random.truncated_normal((3, 4), stddev=0.5)", "shape"),
    op("keras.random.shuffle", "x, axis=0, seed=None", shuffle(False), "keras.random.shuffle(v, seed=3)", "sorted"),
    op("keras.random.categorical", "logits, num_samples, dtype=torch.int32, seed=None", categorical(False),
       "keras.random.categorical(logits, 2)", "shape"),
    op("keras.random.dropout", "inputs, rate, noise_shape=None, seed=None", dropout("inputs", "rate", False),
       "keras.random.dropout(x, 0.3)", "shape"),
    # a stateful stream of draws, like a torch.Generator (random/seed_generator.py)
    op("keras.random.SeedGenerator", "seed=None", lambda b: b.build("torch.Generator().manual_seed(seed)")
       if b.node("seed") is not None else _refuse("an unseeded SeedGenerator draws its seed at random: give it one"),
       "keras.random.SeedGenerator(3)", "none"),
    op(_K + "convert_to_numpy", "x", "x.detach().cpu().numpy()", "keras.ops.convert_to_numpy(x)"),
    # --- keras.activations (called as functions) -----------------------------------------------------------
    op("keras.activations.relu", "x, negative_slope=0.0, max_value=None, threshold=0.0", "F.relu(x)", "keras.activations.relu(x)"),
    op("keras.activations.sigmoid", "x", "torch.sigmoid(x)", "keras.activations.sigmoid(x)"),
    op("keras.activations.tanh", "x", "torch.tanh(x)", "keras.activations.tanh(x)"),
    op("keras.activations.softmax", "x, axis=-1", "F.softmax(x, dim=axis)", "keras.activations.softmax(x, axis=1)"),
    # keras.activations.gelu is exact (erf) by default
    op("keras.activations.gelu", "x, approximate=False", gelu, "keras.activations.gelu(x)"),
    op("keras.activations.silu keras.activations.swish", "x", "F.silu(x)", "keras.activations.swish(x)"),
    op("keras.activations.elu", "x, alpha=None", "F.elu(x, alpha=alpha)", "keras.activations.elu(x)"),
    op("keras.activations.selu", "x", "F.selu(x)", "keras.activations.selu(x)"),
    op("keras.activations.softplus", "x", "F.softplus(x)", "keras.activations.softplus(x)"),
    op("keras.activations.softsign", "x", "F.softsign(x)", "keras.activations.softsign(x)"),
    op("keras.activations.exponential", "x", "torch.exp(x)", "keras.activations.exponential(x)"),
    op("keras.activations.linear", "x", "x", "keras.activations.linear(x)"),
    # --- keras.backend (Keras 2 signatures: tf.keras.backend / keras.backend before Keras 3) ----------------
    op("keras.backend.epsilon", "", keras_epsilon, "K.epsilon()"),
    op("keras.backend.mean", _KREDUCE, reduce_all("torch.mean"), "K.mean(x, axis=[0, 2])"),
    op("keras.backend.sum", _KREDUCE, reduce_all("torch.sum"), "K.sum(x, axis=1, keepdims=True)"),
    op("keras.backend.max", _KREDUCE, "torch.amax(x, dim=axis, keepdim=keepdims)", "K.max(x, axis=0)"),
    op("keras.backend.min", _KREDUCE, "torch.amin(x, dim=axis, keepdim=keepdims)", "K.min(x)"),
    op("keras.backend.prod", _KREDUCE, reduce_single("torch.prod"), "K.prod(p, axis=2)"),
    op("keras.backend.std", _KREDUCE, keras_std("torch.std"), "K.std(x, axis=1)"),
    op("keras.backend.var", _KREDUCE, keras_std("torch.var"), "K.var(x)"),
    op("keras.backend.any", _KREDUCE, "torch.any(x, dim=axis, keepdim=keepdims)", "K.any(m, axis=1)"),
    op("keras.backend.all", _KREDUCE, "torch.all(x, dim=axis, keepdim=keepdims)", "K.all(m)"),
    op("keras.backend.square", "x", "torch.square(x)", "K.square(x)"),
    op("keras.backend.sqrt", "x", k2_sqrt, "K.sqrt(x)"),
    op("keras.backend.exp", "x", "torch.exp(x)", "K.exp(x)"),
    op("keras.backend.log", "x", "torch.log(x)", "K.log(p)"),
    op("keras.backend.abs", "x", "torch.abs(x)", "K.abs(x)"),
    op("keras.backend.sign", "x", "torch.sign(x)", "K.sign(x)"),
    op("keras.backend.round", "x", "torch.round(x)", "K.round(halves)"),
    op("keras.backend.pow", "x, a", "torch.pow(x, a)", "K.pow(p, 3)"),
    op("keras.backend.maximum", "x, y", clamp_or("torch.maximum", "min"), "K.maximum(x, y)"),
    op("keras.backend.minimum", "x, y", clamp_or("torch.minimum", "max"), "K.minimum(x, 0.2)"),
    op("keras.backend.clip", "x, min_value, max_value", "torch.clamp(x, min_value, max_value)", "K.clip(x, 1e-7, 1 - 1e-7)"),
    # Keras 2 concatenate joins the *last* axis by default (keras.ops.concatenate: the first)
    op("keras.backend.concatenate", "tensors, axis=-1", "torch.cat(tensors, dim=axis)", "K.concatenate([x, y])"),
    op("keras.backend.stack", "x, axis=0", "torch.stack(x, dim=axis)", "K.stack([x, y])"),
    op("keras.backend.reshape", "x, shape", "torch.reshape(x, shape)", "K.reshape(x, (2, -1))"),
    op("keras.backend.expand_dims", "x, axis=-1", "torch.unsqueeze(x, axis)", "K.expand_dims(x)"),
    op("keras.backend.squeeze", "x, axis", "torch.squeeze(x, axis)", "K.squeeze(x[:, :1], 1)"),
    op("keras.backend.flatten", "x", "torch.flatten(x)", "K.flatten(x)"),
    op("keras.backend.batch_flatten", "x", "torch.flatten(x, 1)", "K.batch_flatten(x)"),
    op("keras.backend.permute_dimensions", "x, pattern", "torch.permute(x, pattern)", "K.permute_dimensions(x, (2, 0, 1))"),
    op("keras.backend.transpose", "x", transpose("x", "perm"), "K.transpose(a)"),
    # Keras 2 argmax/argmin default to the last axis
    op("keras.backend.argmax", "x, axis=-1", "torch.argmax(x, dim=axis)", "K.argmax(x)"),
    op("keras.backend.argmin", "x, axis=-1", "torch.argmin(x, dim=axis)", "K.argmin(x, axis=0)"),
    op("keras.backend.softmax", "x, axis=-1", "F.softmax(x, dim=axis)", "K.softmax(x)"),
    op("keras.backend.relu", "x, alpha=0.0, max_value=None, threshold=0.0", "F.relu(x)", "K.relu(x)"),
    op("keras.backend.sigmoid", "x", "torch.sigmoid(x)", "K.sigmoid(x)"),
    op("keras.backend.tanh", "x", "torch.tanh(x)", "K.tanh(x)"),
    op("keras.backend.elu", "x, alpha=None", "F.elu(x, alpha=alpha)", "K.elu(x, 0.5)"),
    op("keras.backend.softplus", "x", "F.softplus(x)", "K.softplus(x)"),
    op("keras.backend.cast", "x, dtype", "torch.as_tensor(x, dtype=dtype)", "K.cast(m, 'float32')"),
    op("keras.backend.shape", "x", shape_keras2, "K.shape(x)"),
    op("keras.backend.int_shape", "x", "tuple(x.shape)", "K.int_shape(x)"),
    op("keras.backend.ndim", "x", "x.ndim", "K.ndim(x)"),
    # Keras 2 backend creation ops default to floatx (float32)
    op("keras.backend.zeros", "shape, dtype=None", "torch.zeros(shape, dtype=dtype)", None),
    op("keras.backend.ones", "shape, dtype=None", "torch.ones(shape, dtype=dtype)", None),
    op("keras.backend.zeros_like", "x, dtype=None", "torch.zeros_like(x, dtype=dtype)", "K.zeros_like(x)"),
    op("keras.backend.ones_like", "x, dtype=None", "torch.ones_like(x, dtype=dtype)", "K.ones_like(x)"),
    op("keras.backend.constant", "value, dtype: None = torch.float32, shape=None", "torch.tensor(value, dtype=dtype)",
       "K.constant([1, 2, 3])"),
    op("keras.backend.arange", "start, stop=None, step=None, dtype=torch.int32", tf_range_keras, "K.arange(2, 11, 3)"),
    op("keras.backend.one_hot", "indices, num_classes", one_hot("indices", "num_classes"), "K.one_hot(labels, 5)"),
    op("keras.backend.gather", "reference, indices", gather, "K.gather(emb, ids)"),
    op("keras.backend.repeat_elements", "x, rep, axis", "torch.repeat_interleave(x, rep, dim=axis)",
       "K.repeat_elements(x, 2, axis=1)"),
    op("keras.backend.tile", "x, n", "torch.tile(x, n)", "K.tile(x, (1, 2, 1))"),
    op("keras.backend.cumsum", "x, axis=0", "torch.cumsum(x, dim=axis)", "K.cumsum(x, axis=1)"),
    op("keras.backend.l2_normalize", "x, axis=None", l2_normalize_k2, "K.l2_normalize(x, axis=1)"),
    op("keras.backend.stop_gradient", "variables", "variables.detach()", "K.stop_gradient(x)"),
    op("keras.backend.dropout", "x, level, noise_shape=None, seed=None", dropout("x", "level", True), "K.dropout(x, 0.5)", "shape"),
    op("keras.backend.equal", "x, y", operator("x == y", "x", "y"), "K.equal(i, j)"),
    op("keras.backend.not_equal", "x, y", operator("x != y", "x", "y"), "K.not_equal(i, j)"),
    op("keras.backend.greater", "x, y", operator("x > y", "x", "y"), "K.greater(x, y)"),
    op("keras.backend.less", "x, y", operator("x < y", "x", "y"), "K.less(x, y)"),
    op("keras.backend.cos", "x", "torch.cos(x)", "K.cos(x)"),
    op("keras.backend.sin", "x", "torch.sin(x)", "K.sin(x)"),
]


def _index(table: list[Op]) -> dict[str, Op]:
    found: dict[str, Op] = {}
    for entry in table:
        for name in entry.names:
            if name in found:
                raise ValueError(f"optable: {name} listed twice")
            found[name] = entry
    return found


BY_NAME: dict[str, Op] = _index(TABLE)

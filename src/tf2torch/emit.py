"""Program -> Python source, through the `ast` module: deterministic, readable, parseable.

Knows nothing about Keras: it renders expressions, declares submodules and buffers, adds the
imports that are used and copies the helpers that are used (from tf2torch.helpers), once each.
"""
from __future__ import annotations

import ast
import math

import numpy as np

from . import fragment as fr
from . import helpers as helper_package
from . import inline

_IMPORTS = {
    "torch": "import torch",
    "nn": "from torch import nn",
    "F": "import torch.nn.functional as F",
    "math": "import math",
}
_IMPORT_ORDER = ["math", "torch", "F", "nn"]

_BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow, "@": ast.MatMult,
           "//": ast.FloorDiv, "%": ast.Mod, "&": ast.BitAnd, "|": ast.BitOr}
_CMPOPS = {">": ast.Gt, "<": ast.Lt, ">=": ast.GtE, "<=": ast.LtE, "==": ast.Eq, "!=": ast.NotEq}
_UNOPS = {"-": ast.USub, "~": ast.Invert, "not": ast.Not}


class Renderer:
    def __init__(self):
        self.roots: set[str] = set()
        self.helpers: set[str] = set()

    def dotted(self, path: str) -> ast.expr:
        parts = path.split(".")
        if parts[0] in _IMPORTS:
            self.roots.add(parts[0])
        node: ast.expr = ast.Name(parts[0], ast.Load())
        for p in parts[1:]:
            node = ast.Attribute(node, p, ast.Load())
        return node

    def const(self, v) -> ast.expr:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, bool) or v is None or isinstance(v, (int, str)) or v is Ellipsis:
            return ast.Constant(v)
        if isinstance(v, float):
            if math.isnan(v):
                return self.dotted("math.nan")
            if math.isinf(v):
                inf = self.dotted("math.inf")
                return inf if v > 0 else ast.UnaryOp(ast.USub(), inf)
            if v < 0:
                return ast.UnaryOp(ast.USub(), ast.Constant(-v))
            return ast.Constant(v)
        if isinstance(v, tuple):
            return ast.Tuple([self.const(i) for i in v], ast.Load())
        if isinstance(v, list):
            return ast.List([self.const(i) for i in v], ast.Load())
        raise TypeError(f"cannot emit constant of type {type(v).__name__}")

    def expr(self, e) -> ast.expr:
        if not isinstance(e, fr.Expr):
            return self.const(e)
        if isinstance(e, fr.Ref):
            return self.dotted(e.path)
        if isinstance(e, fr.Const):
            return self.const(e.value)
        if isinstance(e, fr.Helper):
            self.helpers.add(e.name)
            return ast.Name(e.name, ast.Load())
        if isinstance(e, fr.Call):
            return ast.Call(self.expr(e.func), [self.expr(a) for a in e.args],
                            [ast.keyword(k, self.expr(v)) for k, v in e.kwargs])
        if isinstance(e, fr.Attr):
            return ast.Attribute(self.expr(e.value), e.name, ast.Load())
        if isinstance(e, fr.BinOp):
            if e.op in _CMPOPS:
                return ast.Compare(self.expr(e.left), [_CMPOPS[e.op]()], [self.expr(e.right)])
            return ast.BinOp(self.expr(e.left), _BINOPS[e.op](), self.expr(e.right))
        if isinstance(e, fr.UnaryOp):
            return ast.UnaryOp(_UNOPS[e.op](), self.expr(e.operand))
        if isinstance(e, fr.Index):
            return ast.Subscript(self.expr(e.value), self.expr(e.index), ast.Load())
        if isinstance(e, fr.Slice):
            part = lambda v: None if v is None else self.expr(v)  # noqa: E731
            return ast.Slice(part(e.start), part(e.stop), part(e.step))
        if isinstance(e, fr.TupleExpr):
            return ast.Tuple([self.expr(i) for i in e.items], ast.Load())
        if isinstance(e, fr.ListExpr):
            return ast.List([self.expr(i) for i in e.items], ast.Load())
        raise TypeError(f"cannot emit {type(e).__name__}")

    def target(self, t) -> ast.expr:
        if isinstance(t, str):
            return ast.Name(t, ast.Store())
        return ast.Tuple([self.target(i) for i in t], ast.Store())


def render(expr: fr.Expr) -> str:
    """One expression as source (for reports)."""
    return ast.unparse(Renderer().expr(expr))


def _helper_sources(names: set[str]) -> list[str]:
    """Sources of the helpers used, with the helpers they call, in tf2torch.helpers order."""
    return inline.sources(names, helper_package)


def emit(program) -> str:
    r = Renderer()
    init: list[ast.stmt] = [ast.Expr(ast.Call(ast.Attribute(ast.Call(ast.Name("super", ast.Load()), [], []), "__init__", ast.Load()), [], []))]
    for sm in program.submodules:
        init.append(ast.Assign([ast.Attribute(ast.Name("self", ast.Load()), sm.attr, ast.Store())], r.expr(sm.ctor)))
    for bd in program.buffers:
        empty = fr.Ref("torch.zeros")(tuple(bd.buffer.shape), dtype=fr.Ref(f"torch.{bd.buffer.dtype}"))
        init.append(ast.Expr(r.expr(fr.Ref("self.register_buffer")(bd.attr, empty))))

    body: list[ast.stmt] = []
    for target, value in program.statements:
        body.append(ast.Assign([r.target(target)], r.expr(value)))
    rets = [r.expr(e) for e in program.returns]
    body.append(ast.Return(rets[0] if len(rets) == 1 else ast.Tuple(rets, ast.Load())))

    args = ast.arguments(posonlyargs=[], args=[ast.arg("self")] + [ast.arg(i.arg) for i in program.inputs],
                         kwonlyargs=[], kw_defaults=[], defaults=[])
    init_fn = ast.FunctionDef("__init__", ast.arguments(posonlyargs=[], args=[ast.arg("self")], kwonlyargs=[], kw_defaults=[], defaults=[]),
                              init, [], None, type_params=[])
    forward = ast.FunctionDef("forward", args, body, [], None, type_params=[])
    doc = ast.Expr(ast.Constant(f"Converted by tf2torch from the Keras model {program.model_name!r}."))
    r.roots.add("nn")
    cls = ast.ClassDef(program.class_name, [ast.Attribute(ast.Name("nn", ast.Load()), "Module", ast.Load())], [], [doc, init_fn, forward], [], type_params=[])
    cls_src = ast.unparse(ast.fix_missing_locations(cls))

    helpers = _helper_sources(r.helpers)
    for h in helpers:  # helpers may use imports too
        tree = ast.parse(h)
        r.roots.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in _IMPORTS)
    imports = [_IMPORTS[root] for root in _IMPORT_ORDER if root in r.roots]
    header = '"""PyTorch model generated by tf2torch. Edit freely: it depends only on torch."""'
    parts = [header + "\n\n" + "\n".join(imports)] + helpers + [cls_src]
    return "\n\n\n".join(parts) + "\n"

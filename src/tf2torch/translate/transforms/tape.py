"""Custom training loops: GradientTape -> autograd; tf.function dropped; train_step overrides explained.

A tape (`with tf.GradientTape() as tape: ...` then `tape.gradient(target, sources)`) becomes one of two
exact shapes (TF semantics: tensorflow/python/eager/backprop.py, GradientTape):

- backward form, when one tape has one gradient call whose result only goes to
  `optimizer.apply_gradients(zip(grads, sources))` (optionally through `tf.clip_by_global_norm` or a
  per-tensor `tf.clip_by_norm`):
      optimizer.zero_grad(); <tape body>; loss.backward(); [clip_grad_norm_(sources, c)]; optimizer.step()
  `zero_grad` first because `backward` accumulates into `.grad` where `tape.gradient` computes afresh.
- autograd form, for everything else (two tapes of a GAN, a persistent tape, gradients w.r.t. inputs,
  gradients used otherwise): `grads = torch.autograd.grad(target, sources)`, `[0]` for one tensor
  (whose non-scalar target TF differentiates as its sum: `.sum()`). A graph another gradient call or
  a later tape still needs is kept (`retain_graph=True`); a gradient taken inside another tape stays
  differentiable (`create_graph=True`). `optimizer.apply_gradients(zip(grads, variables))` becomes
  `for param, grad in zip(variables, grads): param.grad = grad` then `optimizer.step()` (a None
  gradient is skipped by both, keras/src/optimizers/base_optimizer.py apply()).

TensorFlow differentiates only what the tape recorded, at the values it recorded; PyTorch follows the
whole graph at the current values. Where that differs the tape stays under a TODO: a target computed
after the block, an input a differentiated model computed before it, weights updated between the
forward pass and the gradient; so does what neither form covers (jacobians, `watch_accessed_variables`,
sources of unknown structure...). `tape.watch(x)` -> `x.requires_grad_(True)`; `tape.stop_recording()`
-> `torch.no_grad()`; `model.trainable_variables` / `trainable_weights` -> `model.parameters()` where it
is iterated once, `list(model.parameters())` elsewhere. A converted model called with `training=True`/
`False` gets `model.train()`/`model.eval()` before the statement (the torch mode Keras sets per call).
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import parse_template_expression, parse_template_statement

from ..base import Transform, with_todos
from ..syntax import assigned_names

_TAPES = ("tf.GradientTape", "tf.autodiff.GradientTape")
_TF_FUNCTION = ("tf.function", "tf.autograph.experimental.do_not_convert")
_TRAINABLE = ("trainable_variables", "trainable_weights")
_ITERATING = ("zip", "list", "tuple", "enumerate", "sorted", "set", "iter")  # consume an iterable once
_STEP_METHODS = {
    "train_step": "Keras' fit() called train_step(data) once per batch (traced by tf.function) and logged the "
                  "metrics it returns; as a plain method it runs only when the training loop calls it",
    "test_step": "Keras' evaluate() called test_step(data) once per batch in inference mode and logged the metrics "
                 "it returns; as a plain method it runs only when the evaluation loop calls it",
    "predict_step": "Keras' predict() called predict_step(data) once per batch and concatenated the results; "
                    "as a plain method it runs only when the prediction loop calls it",
}


@dataclass
class _TapeWith:
    names: list[str]
    persistent: bool
    problem: str | None = None


@dataclass
class _Gradient:
    call: cst.Call
    target: cst.BaseExpression
    sources: cst.BaseExpression
    output_gradients: cst.BaseExpression | None
    statement: int  # index in the region of the top-level statement holding it
    assigned: str | None  # `G` of a top-level `G = tape.gradient(...)`
    in_loop: bool = False


class _Problem(Exception):
    pass


def _code(node) -> str:
    return cst.Module([]).code_for_node(node)


def _names(node) -> list[str]:
    """Variable names read or written in `node` (not attribute names)."""
    found: list[str] = []

    class Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

    node.visit(Collect())
    return found


def _nodes(node, kind) -> list:
    """Every node of type `kind` inside `node` (itself included)."""
    found: list = []
    node.visit(_Visit(lambda n: found.append(n) if isinstance(n, kind) else None))
    return found


def _attribute_names(node) -> set[str]:
    return {a.attr.value for a in _nodes(node, cst.Attribute)}


def _calls_on(node, owners: set[str]) -> bool:
    """Whether `node` calls one of `owners` or a method/attribute of one (`model(x)`, `self.encoder(x)`)."""
    for call in _nodes(node, cst.Call):
        func = call.func
        while isinstance(func, cst.Attribute):
            func = func.value
        if isinstance(func, cst.Name) and func.value in owners:
            return True
    return False


def _updates_weights(node) -> bool:
    """Whether `node` calls `x.apply_gradients(...)` or `x.step()` (an optimizer update)."""
    for call in _nodes(node, cst.Call):
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
        if method == "apply_gradients" or (method == "step" and not call.args):
            return True
    return False


def _assigned(node) -> set[str]:
    found: set[str] = set()

    def targets(t):
        if isinstance(t, cst.Name):
            found.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                targets(e.value)
        elif isinstance(t, cst.StarredElement):
            targets(t.value)

    class Collect(cst.CSTVisitor):
        def visit_AssignTarget(self, n) -> None:
            targets(n.target)

        def visit_AugAssign(self, n) -> None:
            targets(n.target)

        def visit_AnnAssign(self, n) -> None:
            targets(n.target)

        def visit_For(self, n) -> None:
            targets(n.target)

        def visit_AsName(self, n) -> None:
            targets(n.name)

    node.visit(Collect())
    return found


def _method_call(node, receiver_names, method: str) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == method
            and isinstance(node.func.value, cst.Name) and node.func.value.value in receiver_names)


def _single_expr(stmt) -> cst.BaseExpression | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr):
        return stmt.body[0].value
    return None


def _single_assign(stmt) -> cst.Assign | None:
    if (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)
            and len(stmt.body[0].targets) == 1):
        return stmt.body[0]
    return None


def _args(call: cst.Call, names: tuple[str, ...]) -> dict[str, cst.BaseExpression]:
    out = {}
    for i, arg in enumerate(call.args):
        if arg.star:
            raise _Problem("arguments passed with * or **")
        key = arg.keyword.value if arg.keyword else (names[i] if i < len(names) else None)
        if key not in names:
            raise _Problem(f"unexpected argument {_code(arg)}")
        out[key] = arg.value
    return out


def _pure(node) -> bool:
    """An expression without side effects: names, attributes, parameter lists and their sums."""
    if isinstance(node, (cst.Name, cst.Attribute)):
        return isinstance(node, cst.Name) or _pure(node.value)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and _pure(e.value) for e in node.elements)
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, cst.Add) and _pure(node.left) and _pure(node.right)
    if isinstance(node, cst.Call) and not any(a.keyword or a.star for a in node.args):
        if isinstance(node.func, cst.Name) and node.func.value == "list" and len(node.args) == 1:
            return _pure(node.args[0].value)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "parameters" and not node.args:
            return _pure(node.func.value)
    return False


def _same_or(old: cst.CSTNode, new: cst.CSTNode) -> cst.CSTNode:
    return old if old.deep_equals(new) else new


def _moved(new: cst.CSTNode, old: cst.CSTNode) -> cst.CSTNode:
    """`new` with the comments above `old` (and its end-of-line comment, for simple statements)."""
    changes = {"leading_lines": [*old.leading_lines, *new.leading_lines]}
    if isinstance(old, cst.SimpleStatementLine) and isinstance(new, cst.SimpleStatementLine):
        changes["trailing_whitespace"] = old.trailing_whitespace
    return new.with_changes(**changes)


class TranslateTape(Transform):
    DESCRIPTION = "GradientTape loops -> autograd, tf.function dropped, train_step explained"

    def __init__(self, context):
        super().__init__(context)
        self._marks: dict[int, tuple[cst.CSTNode, object]] = {}  # id(updated node) -> (node, info)
        self._iterated: set[int] = set()  # id(original `x.trainable_variables`) iterated once where it stands
        self._tape_names: set[str] = set()  # every name a GradientTape was bound to so far
        self._deferred: list[int] = []  # gradient()/apply_gradients() calls being visited: their arguments wait
        self._failed_grads: set[str] = set()  # results of gradient() calls on tapes kept as is
        self._lists: set[str] = set()  # names bound to lists of variables
        self._singles: set[str] = set()  # names bound to one tf.Variable
        self._tape_depth = 0
        self._ok = False  # the tape being rewritten was rewritten
        self._defs: list[tuple[str, cst.CSTNode]] = []  # enclosing ("class"|"def", node)
        self._taken: set[str] = set()
        self._bound: set[str] = set()  # names the script binds somewhere
        self._loop_names: tuple[str, str] | None = None
        self._modes: dict[int, tuple[str, str]] = {}  # id(original model call with training=) -> (model, "train"|"eval")
        self._mode_lines: list[list[tuple[str, str]]] = []  # per simple statement being visited

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self._taken = set(_names(tree))
        self._bound = assigned_names(tree)
        tree.visit(_Visit(lambda node: self._holds(node) if isinstance(node, cst.Assign) else None))
        ambiguous = self._lists & self._singles
        self._lists -= ambiguous
        self._singles -= ambiguous
        return super().transform_module_impl(tree)

    def _mark(self, node, info):
        self._marks[id(node)] = (node, info)
        return node

    def _marked(self, node):
        entry = self._marks.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def _fresh(self, name: str) -> str:
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        return name

    def _param_grad(self) -> tuple[str, str]:
        """Loop variables for `for param, grad in zip(...)`, the same for every loop of the script."""
        if self._loop_names is None:
            self._loop_names = (self._fresh("param"), self._fresh("grad"))
        return self._loop_names

    # --- what names hold (anywhere in the script) ------------------------------------------------------
    def _holds(self, node: cst.Assign) -> None:
        names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
        value = node.value
        if isinstance(value, (cst.List, cst.Tuple, cst.ListComp)) or (isinstance(value, cst.Attribute) and value.attr.value in _TRAINABLE):
            self._lists.update(names)
        elif isinstance(value, cst.Call) and self.qualname(value) == "tf.Variable":
            self._singles.update(names)

    # --- model.trainable_variables -> model.parameters() ----------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and (func.value in self.state.models or (func.value == "self" and self._in_module_class())):
            for arg in node.args:
                if not (arg.keyword and arg.keyword.value == "training"):
                    continue
                if not (isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False")):
                    self.todo(f"`{func.value}(..., training={_code(arg.value)})`: the torch module has no `training` argument; "
                              f"call {func.value}.train() or {func.value}.eval() before it instead")
                elif not self._mode_lines:
                    self.todo(f"`{func.value}(..., training=...)` in a compound statement's header: move the call into a statement "
                              f"of its own, or call {func.value}.train() or {func.value}.eval() before it and drop `training=`")
                else:
                    self._modes[id(node)] = (func.value, "train" if arg.value.value == "True" else "eval")
        elif (isinstance(func, cst.Name) and func.value not in self._bound and self._tape_depth
              and any(a.keyword and a.keyword.value == "training" for a in node.args)):
            self.todo(f"`{func.value}` comes from outside this script: if it is a torch module, drop `training=` and call "
                      f"{func.value}.train() or {func.value}.eval() before the call")
        if _method_call(node, self._tape_names, "gradient") or (
                isinstance(func, cst.Attribute) and func.attr.value in ("apply_gradients", "apply")):
            self._deferred.append(id(node))  # rewritten with the tape (or left as is with it)
        iterated: list[cst.BaseExpression] = []
        if isinstance(func, cst.Name) and func.value in _ITERATING:
            iterated = [a.value for a in node.args]
        for value in iterated:
            if isinstance(value, cst.Attribute) and value.attr.value in _TRAINABLE:
                self._iterated.add(id(value))

    def visit_For(self, node: cst.For) -> None:
        self._iterated.add(id(node.iter))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._iterated.add(id(node.iter))

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        if updated_node.attr.value not in _TRAINABLE or self._deferred:
            return updated_node
        return self._parameters(updated_node, iterated=id(original_node) in self._iterated)

    def _parameters(self, node: cst.Attribute, iterated: bool) -> cst.BaseExpression:
        params = parse_template_expression("{owner}.parameters()", owner=node.value)
        self.state.note("`.trainable_variables` -> `.parameters()` (a frozen parameter is in it but gets no gradient)")
        return params if iterated else cst.Call(cst.Name("list"), [cst.Arg(params)])

    def _trainable(self, expr: cst.BaseExpression) -> cst.BaseExpression:
        """`expr` (iterated once where it stands) with its `x.trainable_variables` as parameters."""
        if isinstance(expr, cst.Attribute) and expr.attr.value in _TRAINABLE:
            return self._parameters(expr, iterated=True)
        transform = self

        class Rewrite(cst.CSTTransformer):
            def leave_Attribute(self, original_node, updated_node):
                if updated_node.attr.value in _TRAINABLE:
                    return transform._parameters(updated_node, iterated=False)
                return updated_node

        return expr.visit(Rewrite())

    # --- model(x, training=...) -> model.train() / model.eval() ----------------------------------------
    def visit_SimpleStatementLine(self, node) -> None:
        self._mode_lines.append([])

    def leave_SimpleStatementLine(self, original_node, updated_node):
        modes = self._mode_lines.pop()
        if not modes:
            return updated_node
        lines = [parse_template_statement(f"{{model}}.{mode}()\n", model=cst.Name(model)) for model, mode in modes]
        lines[0] = lines[0].with_changes(leading_lines=updated_node.leading_lines)
        lines = [self._mark(line, ("mode", model, mode)) for line, (model, mode) in zip(lines, modes)]
        return cst.FlattenSentinel([*lines, updated_node.with_changes(leading_lines=[])])

    def _modes_once(self, stmts: list) -> list:
        """Drop a model.train()/eval() line that repeats the mode set earlier in the same straight-line code."""
        out, current = [], {}
        for stmt in stmts:
            mode = self._marked(stmt)
            if isinstance(mode, tuple) and mode[0] == "mode":
                if current.get(mode[1]) == mode[2]:
                    continue
                current[mode[1]] = mode[2]
            elif not isinstance(stmt, cst.SimpleStatementLine) or any(n in ("train", "eval") for n in _attribute_names(stmt)):
                current = {}
            out.append(stmt)
        return out

    def _in_module_class(self) -> bool:
        """Inside a method of a class the subclass step made an nn.Module (its forward has no `training`)."""
        classes = [node for kind, node in self._defs if kind == "class"]
        return bool(classes) and any(_code(b.value) in ("nn.Module", "torch.nn.Module") for b in classes[-1].bases)

    # --- tf.function ---------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._defs.append(("class", node))

    def leave_ClassDef(self, original_node, updated_node):
        self._defs.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._defs.append(("def", node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        self._defs.pop()
        kept = []
        for original, updated in zip(original_node.decorators, updated_node.decorators):
            if self.qualname(original.decorator) in _TF_FUNCTION:
                self._note_tf_function(original.decorator)
                continue
            kept.append(updated)
        updated_node = updated_node.with_changes(decorators=kept)
        why = _STEP_METHODS.get(updated_node.name.value)
        if why and self._defs and self._defs[-1][0] == "class" and updated_node.params.params:
            comments = [cst.EmptyLine(comment=cst.Comment("# " + line)) for line in textwrap.wrap(why + ".", 100)]
            if updated_node.name.value != "train_step" and not {"backward", "grad", "gradient"} & _attribute_names(updated_node):
                # no tape in Keras' test/predict step: no graph either
                self.state.need("import torch")
                kept = [cst.Decorator(cst.parse_expression("torch.no_grad()")), *kept]
                updated_node = updated_node.with_changes(decorators=kept)
            if kept:
                first = kept[0].with_changes(leading_lines=[*kept[0].leading_lines, *comments])
                updated_node = updated_node.with_changes(decorators=[first, *kept[1:]])
            else:
                updated_node = updated_node.with_changes(leading_lines=[*updated_node.leading_lines, *comments])
        return updated_node

    def _note_tf_function(self, node) -> None:
        self.state.note("@tf.function removed: the function runs eagerly, and Python side effects (print, appends) now run on "
                        "every call instead of once per trace")
        if isinstance(node, cst.Call) and any(a.keyword and a.keyword.value == "jit_compile" for a in node.args):
            self.state.note("tf.function(jit_compile=True) removed: torch.compile(fn) is the optional counterpart (XLA and "
                            "torch.compile may differ at ~1e-6)")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        if self._deferred and self._deferred[-1] == id(original_node):
            self._deferred.pop()
        mode = self._modes.get(id(original_node))
        if mode is not None and self._mode_lines:
            args = [a for a in updated_node.args if not (a.keyword and a.keyword.value == "training")]
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            if mode not in self._mode_lines[-1]:
                self._mode_lines[-1].append(mode)
            self.state.note("model(x, training=True/False) -> model.train()/model.eval() before the call (the torch "
                            "module's mode, which Keras sets per call)")
            return updated_node.with_changes(args=args)
        name = self.qualname(original_node) if isinstance(original_node.func, (cst.Name, cst.Attribute)) else None
        if name == "tf.function" and updated_node.args and updated_node.args[0].keyword is None and not updated_node.args[0].star:
            self._note_tf_function(updated_node)
            return updated_node.args[0].value.with_changes(lpar=[], rpar=[])
        if name in ("tf.clip_by_global_norm", "tf.clip_by_norm"):
            return self._mark(updated_node, name)
        return updated_node

    # --- tapes ---------------------------------------------------------------------------------------
    def _tape_item(self, item: cst.WithItem) -> bool:
        return isinstance(item.item, cst.Call) and self.qualname(item.item) in _TAPES

    def visit_With(self, node: cst.With) -> None:
        if any(self._tape_item(i) for i in node.items):
            self._tape_depth += 1

    def leave_With(self, original_node: cst.With, updated_node: cst.With):
        tapes = [self._tape_item(i) for i in original_node.items]
        if not any(tapes):
            return updated_node
        self._tape_depth -= 1
        info = _TapeWith([], False)
        if not all(tapes):
            info.problem = "a GradientTape opened together with other context managers"
        for item in original_node.items:
            if info.problem:
                break
            if not (item.asname and isinstance(item.asname.name, cst.Name)):
                info.problem = "a GradientTape without `as name`"
                break
            info.names.append(item.asname.name.value)
            self._tape_names.add(item.asname.name.value)
            try:
                args = _args(item.item, ("persistent", "watch_accessed_variables"))
            except _Problem as exc:
                info.problem = f"GradientTape({exc})"
                break
            if "watch_accessed_variables" in args:
                info.problem = "GradientTape(watch_accessed_variables=...)"
            elif "persistent" in args:
                value = args["persistent"]
                if not (isinstance(value, cst.Name) and value.value in ("True", "False")):
                    info.problem = "GradientTape(persistent=<not a literal>)"
                info.persistent = info.persistent or _code(value) == "True"
        if original_node.asynchronous:
            info.problem = "async with"
        return self._mark(updated_node, info)

    def leave_IndentedBlock(self, original_node, updated_node):
        return updated_node.with_changes(body=self._block(list(updated_node.body)))

    def leave_Module(self, original_node, updated_node):
        return updated_node.with_changes(body=self._block(list(updated_node.body)))

    def _block(self, stmts: list) -> list:
        out: list = []  # statements done
        while stmts:
            stmt, stmts = stmts[0], stmts[1:]
            info = self._marked(stmt)
            if not isinstance(info, _TapeWith):
                out.append(stmt)
                continue
            try:
                stmts = self._tape(stmt, info, stmts, out)  # the with and what follows it, rewritten: scanned on
            except _Problem as exc:
                out.append(self._mark(with_todos(stmt, [f"GradientTape kept as is: {exc}"]), "kept"))
                self._failed_grads |= {n for s in stmts[:self._region(info.names, stmts)] for n in self._gradient_results(s, info.names)}
        return [new for stmt in self._modes_once(out) for new in self._apply(stmt)]

    @staticmethod
    def _gradient_results(stmt, names: list[str]) -> set[str]:
        assign = _single_assign(stmt)
        if assign is not None and _method_call(assign.value, set(names), "gradient"):
            return _assigned(assign)
        return set()

    def _region(self, names: list[str], rest: list) -> int:
        """How many statements after the tape still refer to it (up to a new binding of its name)."""
        for j, stmt in enumerate(rest):
            if isinstance(self._marked(stmt), _TapeWith) and set(self._marked(stmt).names) & set(names):
                return j
            if _assigned(stmt) & set(names):
                return j
        return len(rest)

    def _tape(self, with_stmt: cst.With, info: _TapeWith, rest: list, before: list) -> list:
        """The with statement and the statements after it, rewritten (or _Problem, nothing changed)."""
        if info.problem:
            raise _Problem(info.problem)
        names = info.names
        end = self._region(names, rest)
        region = [s for s in (self._drop_del(s, names) for s in rest[:end]) if s is not None]
        body, watched = self._body(with_stmt, names)
        singles = set(self._singles)
        self._singles |= watched  # `tape.watch(x)`: x is one tensor (or each of a watched list is)
        try:
            return self._rewrite(with_stmt, info, rest, before, end, region, body)
        finally:
            self._singles = singles | (watched if self._ok else set())

    def _rewrite(self, with_stmt, info: _TapeWith, rest: list, before: list, end: int, region: list, body: list) -> list:
        self._ok = False
        names = info.names
        gradients = self._gradients(region, names, _assigned(cst.Module(body)))
        if not gradients:
            raise _Problem("no `tape.gradient(...)` after it in the same block")
        self._check_unrecorded(body, before, gradients)
        for stmt in region[:gradients[-1].statement]:
            if _updates_weights(stmt):
                raise _Problem("weights are updated between the forward pass and its gradient: TensorFlow differentiates at the "
                               "recorded values, PyTorch would fail on the in-place update (compute every gradient first)")
        later = [i for i, s in enumerate(region) if isinstance(self._marked(s), _TapeWith)]  # tapes opened after this one
        shared = any(_assigned(cst.Module(body)) & set(_names(region[i])) for i in later)  # they reuse this graph
        plan = self._backward_plan(info, gradients, region)
        if plan is not None and not any(i < plan["apply"][0] for i in later):  # (their zero_grad would come first)
            new = self._backward(with_stmt, body, region, plan, keep_graph=shared)
        else:
            new = [*self._dedented(with_stmt, body), *self._autograd(region, gradients, keep_graph=shared)]
        self._ok = True
        return [*new, *rest[end:]]

    def _check_unrecorded(self, body: list, before: list, gradients: list[_Gradient]) -> None:
        """A tensor computed before the tape by a model it differentiates: TensorFlow's gradient stops there
        (the tape did not record it), PyTorch's would flow on into the model."""
        owners = {n.value.value for g in gradients for n in _nodes(g.sources, cst.Attribute) if n.attr.value in _TRAINABLE
                  and isinstance(n.value, cst.Name)}
        if not owners:
            return
        tainted: set[str] = set()
        for stmt in before:
            if _calls_on(stmt, owners) or set(_names(stmt)) & tainted:
                tainted |= _assigned(stmt)
        used = {n for s in body for n in _names(s)} & tainted
        if used:
            raise _Problem(f"`{sorted(used)[0]}` was computed by {'/'.join(sorted(owners))} before the tape: TensorFlow does not "
                           "differentiate through it (the tape did not record it), PyTorch would")

    def _body(self, with_stmt: cst.With, names: list[str]) -> tuple[list, set[str]]:
        body = with_stmt.body
        stmts = list(body.body) if isinstance(body, cst.IndentedBlock) else [cst.SimpleStatementLine(body=list(body.body))]
        if any(self._marked(w) == "kept" for stmt in stmts for w in _nodes(stmt, cst.With)):
            raise _Problem("a GradientTape inside it is kept as is")
        rewriter = _TapeUses(names)
        rewritten = []
        for stmt in stmts:
            new = stmt.visit(rewriter)
            rewritten.extend(new.nodes if isinstance(new, cst.FlattenSentinel) else [_same_or(stmt, new)])  # identity kept: marks
        stmts = rewritten
        if any(set(names) & set(_names(s)) for s in stmts):
            raise _Problem(f"`{names[0]}` used inside its block other than by watch(x) / stop_recording()")
        return stmts, rewriter.watched

    def _dedented(self, with_stmt: cst.With, body: list) -> list:
        if not body:
            return []
        return [_moved(body[0], with_stmt), *body[1:]]

    def _drop_del(self, stmt, names):
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Del)):
            return stmt
        target = stmt.body[0].target
        elements = target.elements if isinstance(target, cst.Tuple) else [cst.Element(target)]
        kept = [e for e in elements if not (isinstance(e.value, cst.Name) and e.value.value in names)]
        if len(kept) == len(elements):
            return stmt
        if not kept:
            return None
        new_target = kept[0].value if len(kept) == 1 else cst.Tuple([e.with_changes(comma=cst.MaybeSentinel.DEFAULT) for e in kept])
        return stmt.with_changes(body=[stmt.body[0].with_changes(target=new_target)])

    def _gradients(self, region: list, names: list[str], computed: set[str]) -> list[_Gradient]:
        found: list[_Gradient] = []
        for index, stmt in enumerate(region):
            finder = _FindGradients(names)
            stmt.visit(finder)
            if finder.problem:
                raise _Problem(finder.problem)
            assign = _single_assign(stmt)
            for call, in_loop in finder.calls:
                try:
                    args = _args(call, ("target", "sources", "output_gradients", "unconnected_gradients"))
                except _Problem as exc:
                    raise _Problem(f"tape.gradient: {exc}") from None
                if "unconnected_gradients" in args:
                    raise _Problem("tape.gradient(unconnected_gradients=...)")
                if "target" not in args or "sources" not in args:
                    raise _Problem("tape.gradient without target and sources")
                target = args["target"]
                targets = [e.value for e in target.elements] if isinstance(target, (cst.List, cst.Tuple)) else [target]
                later = _assigned(cst.Module(region[:index]))
                for t in targets:
                    if not (isinstance(t, cst.Name) and t.value in computed) or t.value in later:
                        raise _Problem(f"the gradient target `{_code(t)}` is not a variable computed inside the tape "
                                       "(TensorFlow records only inside `with`: its gradient would be None)")
                top = assign is not None and assign.value is call and isinstance(assign.targets[0].target, cst.Name)
                found.append(_Gradient(call, target, args["sources"], args.get("output_gradients"), index,
                                       assign.targets[0].target.value if top else None, in_loop))
        return found

    # --- backward form -----------------------------------------------------------------------------
    def _backward_plan(self, info: _TapeWith, gradients: list[_Gradient], region: list):
        if len(info.names) != 1 or len(gradients) != 1 or self._tape_depth > 0:
            return None
        g = gradients[0]
        if g.assigned is None or g.output_gradients is not None or not isinstance(g.target, cst.Name):
            return None
        grads, sources = g.assigned, _code(g.sources)
        plan = {"gradient": g, "clip": None, "apply": None}
        for index in range(g.statement + 1, len(region)):
            stmt = region[index]
            if grads not in _names(stmt):
                continue
            apply = self._apply_call(stmt)
            if apply is not None and _code(apply[1]) == grads and _code(apply[2]) == sources:
                plan["apply"] = (index, apply[0])
                break
            clip = self._clip(stmt, grads)
            if clip is None or plan["clip"] is not None:
                return None
            plan["clip"] = (index, clip)
        if plan["apply"] is None:
            return None
        uses = sum(_names(s).count(grads) for s in region[g.statement:])
        expected = 2 if plan["clip"] is None else 4  # G = ...; [G, _ = clip(G, c)]; apply(zip(G, V))
        return plan if uses == expected else None

    def _clip(self, stmt, grads: str):
        """`G, norm = tf.clip_by_global_norm(G, c)` or `G = [tf.clip_by_norm(g, c) for g in G]`."""
        assign = _single_assign(stmt)
        if assign is None:
            return None
        target, value = assign.targets[0].target, assign.value
        if self._marked(value) == "tf.clip_by_global_norm" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            first, norm = (e.value for e in target.elements)
            try:
                args = _args(value, ("t_list", "clip_norm", "use_norm", "name"))
            except _Problem:
                return None
            if (isinstance(first, cst.Name) and first.value == grads and _code(args.get("t_list", cst.Name("_"))) == grads
                    and "clip_norm" in args and "use_norm" not in args and isinstance(norm, cst.Name)):
                return ("global", args["clip_norm"], norm) if norm.value != grads else None
            return None
        if (isinstance(target, cst.Name) and target.value == grads and isinstance(value, cst.ListComp)
                and value.for_in.inner_for_in is None and not value.for_in.ifs
                and isinstance(value.for_in.target, cst.Name) and _code(value.for_in.iter) == grads
                and self._marked(value.elt) == "tf.clip_by_norm"):
            try:
                args = _args(value.elt, ("t", "clip_norm", "axes", "name"))
            except _Problem:
                return None
            if _code(args.get("t", cst.Name("_"))) == value.for_in.target.value and "clip_norm" in args and "axes" not in args:
                return ("per_tensor", args["clip_norm"], None)
        return None

    def _backward(self, with_stmt, body, region, plan, keep_graph: bool) -> list:
        self.state.need("import torch")
        g: _Gradient = plan["gradient"]
        index, optimizer = plan["apply"]
        zero = parse_template_statement("{optimizer}.zero_grad()\n", optimizer=optimizer)
        out = [_moved(zero, with_stmt), *body]
        for i, stmt in enumerate(region):
            if i == g.statement:
                call = "{loss}.backward(retain_graph=True)\n" if keep_graph else "{loss}.backward()\n"
                stmt = _moved(parse_template_statement(call, loss=g.target), stmt)
            elif plan["clip"] is not None and i == plan["clip"][0]:
                kind, clip_norm, norm = plan["clip"][1]
                if kind == "global":
                    call = parse_template_expression("torch.nn.utils.clip_grad_norm_({params}, {c})", params=self._trainable(g.sources),
                                                     c=clip_norm)
                    new = cst.SimpleStatementLine([cst.Expr(call)] if norm.value == "_" else [cst.Assign([cst.AssignTarget(norm)], call)])
                    self.state.note("tf.clip_by_global_norm -> torch.nn.utils.clip_grad_norm_ (torch adds 1e-6 to the norm)")
                else:
                    param = self._param_grad()[0]
                    new = parse_template_statement(f"for {param} in {{params}}:\n    torch.nn.utils.clip_grad_norm_({param}, {{c}})\n",
                                                   params=self._trainable(g.sources), c=clip_norm)
                    self.state.note("tf.clip_by_norm per gradient -> torch.nn.utils.clip_grad_norm_ per parameter")
                stmt = _moved(new, stmt)
            elif i == index:
                stmt = _moved(parse_template_statement("{optimizer}.step()\n", optimizer=optimizer), stmt)
            elif i == self._dead_sources(g, region):
                continue
            out.append(stmt)
        self.state.note("GradientTape -> optimizer.zero_grad() / loss.backward() / optimizer.step()")
        return out

    def _dead_sources(self, g: _Gradient, region: list) -> int | None:
        """Index of `variables = model.trainable_variables` when only the gradient and apply calls, both
        gone in the backward form, read it (inside a function, so nothing else can)."""
        if not isinstance(g.sources, cst.Name) or not self._defs or self._defs[-1][0] != "def":
            return None
        name = g.sources.value
        if _names(self._defs[-1][1]).count(name) != 3:  # assigned, differentiated, applied
            return None
        for i, stmt in enumerate(region[:g.statement]):
            assign = _single_assign(stmt)
            if (assign is not None and isinstance(assign.targets[0].target, cst.Name) and assign.targets[0].target.value == name
                    and _pure(assign.value)):
                return i
        return None

    # --- autograd form -------------------------------------------------------------------------------
    def _autograd(self, region: list, gradients: list[_Gradient], keep_graph: bool) -> list:
        replacements = {}
        for k, g in enumerate(gradients):
            sources = self._trainable(g.sources)
            single = self._single(sources)
            target = g.target
            if single and isinstance(target, cst.Name) and g.output_gradients is None:
                target = parse_template_expression("{t}.sum()", t=target)  # TF differentiates the sum of a non-scalar target
            args = [cst.Arg(target), cst.Arg(sources)]
            keyword = {}
            if g.output_gradients is not None:
                keyword["grad_outputs"] = g.output_gradients
            if k < len(gradients) - 1 or g.in_loop or keep_graph:
                keyword["retain_graph"] = cst.Name("True")
            if self._tape_depth > 0:
                keyword["create_graph"] = cst.Name("True")
            args += [cst.Arg(v, keyword=cst.Name(n), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
                     for n, v in keyword.items()]
            new: cst.BaseExpression = cst.Call(cst.parse_expression("torch.autograd.grad"), args)
            if single:
                new = cst.Subscript(new, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])
            replacements[id(g.call)] = new
        self.state.note("tape.gradient -> torch.autograd.grad; w.r.t. one tensor the target is summed as TensorFlow does "
                        "for a non-scalar target (a loss w.r.t. parameters must be a scalar)")
        self.state.need("import torch")
        touched = {g.statement for g in gradients}
        return [s.visit(_Replace(replacements)) if i in touched else s for i, s in enumerate(region)]

    def _single(self, sources) -> bool:
        if isinstance(sources, (cst.List, cst.Tuple, cst.ListComp, cst.BinaryOperation)):
            return False
        if isinstance(sources, cst.Call) and (_code(sources.func).endswith(".parameters") or _code(sources.func) == "list"):
            return False
        if isinstance(sources, cst.Name):
            if sources.value in self._lists:
                return False
            if sources.value in self._singles:
                return True
        raise _Problem(f"cannot tell whether `{_code(sources)}` is one tensor or a list of them")

    # --- optimizer.apply_gradients ---------------------------------------------------------------------
    def _apply_call(self, stmt):
        """(optimizer, grads, variables) of `opt.apply_gradients(zip(grads, variables))` / `opt.apply(grads, variables)`."""
        call = _single_expr(stmt)
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return None
        method, optimizer = call.func.attr.value, call.func.value
        args = [a for a in call.args if not (a.keyword and a.keyword.value == "name")]
        if (method == "apply_gradients" and len(args) == 1 and not args[0].star
                and (args[0].keyword is None or args[0].keyword.value == "grads_and_vars")):
            pairs = args[0].value
            if (isinstance(pairs, cst.Call) and isinstance(pairs.func, cst.Name) and pairs.func.value == "zip" and len(pairs.args) == 2
                    and not any(a.star or a.keyword for a in pairs.args)):
                return optimizer, pairs.args[0].value, pairs.args[1].value
            return None
        if method == "apply" and len(args) == 2 and not any(a.star or a.keyword for a in args) and "opt" in _code(optimizer).lower():
            return optimizer, args[0].value, args[1].value
        return None

    def _apply(self, stmt) -> list:
        """`opt.apply_gradients(zip(grads, variables))` -> gradients set on the parameters, then `opt.step()`."""
        apply = self._apply_call(stmt)
        if apply is None:
            call = _single_expr(stmt)
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "apply_gradients":
                return [with_todos(stmt, ["apply_gradients kept as is: only `apply_gradients(zip(grads, variables))` is translated"])]
            return [stmt]
        optimizer, grads, variables = apply
        if isinstance(grads, cst.Name) and grads.value in self._failed_grads:
            return [with_todos(stmt, [f"apply_gradients kept as is: `{grads.value}` comes from a GradientTape kept as is"])]
        variables = self._trainable(variables)
        param, grad = self._param_grad()
        loop = parse_template_statement(f"for {param}, {grad} in zip({{variables}}, {{grads}}):\n    {param}.grad = {grad}\n",
                                        variables=variables, grads=grads)
        step = parse_template_statement("{optimizer}.step()\n", optimizer=optimizer)
        self.state.note("optimizer.apply_gradients(zip(grads, variables)) -> param.grad = grad; optimizer.step()")
        return [_moved(loop, stmt), step]


class _TapeUses(cst.CSTTransformer):
    """Inside the tape body: `tape.watch(x)` -> `x.requires_grad_(True)`, `with tape.stop_recording():`
    -> `with torch.no_grad():`."""

    def __init__(self, names: list[str]):
        super().__init__()
        self.names, self.watched = set(names), set()

    def leave_SimpleStatementLine(self, original_node, updated_node):
        value = _single_expr(updated_node)
        if _method_call(value, self.names, "watch") and len(value.args) == 1 and not value.args[0].keyword and not value.args[0].star:
            watched = value.args[0].value
            items = [e.value for e in watched.elements] if isinstance(watched, (cst.List, cst.Tuple)) else [watched]
            if items and all(isinstance(w, (cst.Name, cst.Attribute, cst.Subscript)) for w in items):
                self.watched.update(w.value for w in items if isinstance(w, cst.Name))
                lines = [cst.SimpleStatementLine([cst.Expr(parse_template_expression("{x}.requires_grad_(True)", x=w))]) for w in items]
                lines[0] = _moved(lines[0], updated_node)
                return cst.FlattenSentinel(lines)
        return updated_node

    def leave_WithItem(self, original_node, updated_node):
        if _method_call(updated_node.item, self.names, "stop_recording") and not updated_node.item.args and updated_node.asname is None:
            return updated_node.with_changes(item=cst.parse_expression("torch.no_grad()"))
        return updated_node


class _FindGradients(cst.CSTVisitor):
    def __init__(self, names: list[str]):
        super().__init__()
        self.names, self.calls, self.problem, self._loops, self._inside = set(names), [], None, 0, 0

    def visit_For(self, node) -> None:
        self._loops += 1

    def leave_For(self, node) -> None:
        self._loops -= 1

    def visit_While(self, node) -> None:
        self._loops += 1

    def leave_While(self, node) -> None:
        self._loops -= 1

    def visit_Call(self, node: cst.Call) -> bool:
        if _method_call(node, self.names, "gradient"):
            if self._inside:
                self.problem = "a gradient of a gradient in one expression (higher order)"
            self.calls.append((node, self._loops > 0))
            self._inside += 1
            for arg in node.args:
                arg.visit(self)
            self._inside -= 1
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names and self.problem is None:
            self.problem = f"`{node.value}` used after its block other than by gradient() (jacobian, watch, ...)"

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False


class _Visit(cst.CSTVisitor):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def on_visit(self, node) -> bool:
        self.fn(node)
        return True


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, cst.BaseExpression]):
        super().__init__()
        self.replacements = replacements

    def leave_Call(self, original_node, updated_node):
        return self.replacements.get(id(original_node), updated_node)


TRANSFORM = TranslateTape

"""Keras Sequential and functional model definitions -> nn.Module classes, through `tf2torch convert`.

The model-building statements are evaluated statically (translate/static.py: literals and Keras
constructors only, the script never runs), the Keras model is rebuilt, and the model conversion
pipeline emits the class: same layer semantics, same parameter names as `tf2torch convert` gives
for the trained model, so its weights.safetensors loads strictly into the translated class.
"""
from __future__ import annotations

import libcst as cst

from ... import fragment as fr
from ...emit import emit_parts
from ...errors import Tf2TorchError
from ...names import Namespace, reserved, to_identifier
from ...program import build_program
from ..base import Transform, with_todos
from ..syntax import assigned_names, camel, free_uses, names_in_use, target_names, used_names
from ..state import ModelInfo
from ..static import Evaluator, NotStatic, Symbols, int_literals, literal

_LAZY = {"nn.Linear": "nn.LazyLinear", "nn.Conv1d": "nn.LazyConv1d", "nn.Conv2d": "nn.LazyConv2d", "nn.Conv3d": "nn.LazyConv3d",
         "nn.BatchNorm1d": "nn.LazyBatchNorm1d", "nn.BatchNorm2d": "nn.LazyBatchNorm2d", "nn.BatchNorm3d": "nn.LazyBatchNorm3d"}
_INPUT_SYMBOL = "__input_size__"


class _Failed(Exception):
    pass


# Keras regularizer arguments -> the Keras weight each one applies to (last path component)
_REGULARIZED = {"kernel_regularizer": ("kernel", "depthwise_kernel"), "bias_regularizer": ("bias",),
                "recurrent_regularizer": ("recurrent_kernel",), "depthwise_regularizer": ("depthwise_kernel",),
                "pointwise_regularizer": ("pointwise_kernel",), "embeddings_regularizer": ("embeddings",),
                "gamma_regularizer": ("gamma",), "beta_regularizer": ("beta",), "alpha_regularizer": ("alpha",)}


def _regularization(program):
    """Keras' weight regularizers as one expression (fit adds them to the loss), or what is unsupported.

    L1: l1 * sum(|w|), L2: l2 * sum(w ** 2) (no 1/2: keras/src/regularizers/regularizers.py). The
    penalty is taken on the torch parameters a Keras weight became: transposes, reshapes and
    row permutations do not change these sums.
    """
    terms = []
    for sm in program.submodules:
        config = sm.layer.config
        if config.get("activity_regularizer"):
            return None, f"{sm.layer.name}: activity_regularizer"
        for argument, weights in _REGULARIZED.items():
            spec = config.get(argument)
            if not spec:
                continue
            if not isinstance(spec, dict) or spec.get("class_name") not in ("L1", "L2", "L1L2"):
                name = spec.get("class_name") if isinstance(spec, dict) else spec
                return None, f"{sm.layer.name}: {argument}={name!r}"
            factors = spec.get("config", {})
            params = [n for n, p in sm.params.items() if p.source and p.source.split("/")[-1] in weights]
            if not params:
                return None, f"{sm.layer.name}: {argument} on a weight tf2torch cannot locate"
            for n in params:
                w = fr.Ref(f"self.{sm.attr}.{n}")
                if factors.get("l1"):
                    terms.append(fr.Const(float(f"{factors['l1']:.7g}")) * w.method("abs").method("sum"))
                if factors.get("l2"):
                    terms.append(fr.Const(float(f"{factors['l2']:.7g}")) * w.method("square").method("sum"))
    if not terms:
        return None, None
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total, None


def _add_method(class_src: str, penalty) -> str:
    import ast

    from ...emit import Renderer

    tree = ast.parse(class_src)
    doc = ast.Expr(ast.Constant("Penalty of the Keras weight regularizers, added to the loss by fit (Keras' model.losses)."))
    method = ast.FunctionDef("regularization_loss", ast.arguments(posonlyargs=[], args=[ast.arg("self")], kwonlyargs=[],
                             kw_defaults=[], defaults=[]), [doc, ast.Return(Renderer().expr(penalty))], [], None, type_params=[])
    tree.body[0].body.append(method)
    return ast.unparse(ast.fix_missing_locations(tree))


def _name_counters() -> dict:
    """Keras' automatic layer-name counters (keras/src/utils/naming.py), copied."""
    from keras.src.backend.common import global_state

    return dict(global_state.get_global_attribute("object_name_uids", default={}) or {})


def _restore_name_counters(saved: dict) -> None:
    import collections

    from keras.src.backend.common import global_state

    global_state.set_global_attribute("object_name_uids", collections.defaultdict(int, saved))


class TranslateModels(Transform):
    DESCRIPTION = "Keras Sequential/functional models -> nn.Module classes via the model converter"

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        if not any(w in tree.code for w in ("keras", "Sequential", "Model")):
            return tree  # nothing to rebuild (and no need to pay for Keras' session reset)
        _restore_name_counters({})  # layer names as a fresh run of the script creates them
        self.symbols = Symbols(avoid=int_literals(tree))
        # new classes avoid the script's names and those a generated file may use (inline helpers)
        self.class_names = Namespace(names_in_use(tree) | {"Module"} | reserved())
        self.bound = assigned_names(tree)
        self.function_models: dict[str, ModelInfo] = {}
        env = {}
        for stmt in tree.body:  # module-level constants assigned from literals
            self._constant(stmt, env)
        self.functions = {s.name.value: s for s in tree.body if isinstance(s, cst.FunctionDef)}
        self.evaluators: list[Evaluator] = []
        body = self._block(list(tree.body), env, local=set())
        body = self._propagate(body)
        return tree.with_changes(body=self._drop_unused_builders(body))

    def _drop_unused_builders(self, body: list) -> list:
        """Functions whose only use was to build layers of a converted model are gone with it."""
        interpreted = set().union(*(ev.used_functions for ev in self.evaluators)) if self.evaluators else set()
        if not interpreted:
            return body
        while True:
            used = set()
            for stmt in body:
                if isinstance(stmt, cst.FunctionDef):
                    used |= used_names(stmt.body) | used_names(stmt.params)
                else:
                    used |= used_names(stmt)
            dead = [s for s in body if isinstance(s, cst.FunctionDef) and s.name.value in interpreted and s.name.value not in used]
            if not dead:
                return body
            for s in dead:
                self.state.note(f"function {s.name.value}: only built layers of a converted model, removed")
            body = [s for s in body if not any(s is d for d in dead)]

    # ------------------------------------------------------------------------------------------
    def _constant(self, stmt, env) -> None:
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
            return
        assign = stmt.body[0]
        try:
            value = literal(assign.value)
        except NotStatic:
            for t in assign.targets:
                for n in target_names(t.target):
                    env.pop(n, None)
            return
        for t in assign.targets:
            names = target_names(t.target)
            if isinstance(t.target, cst.Name):
                env[names[0]] = value
            elif isinstance(value, (tuple, list)) and len(value) == len(names):
                env.update(zip(names, value))

    def _block(self, stmts: list, env: dict, local: set[str], function: str | None = None) -> list:
        """Rewrite one block of statements; `local` are names bound by the enclosing function."""
        free = self._free_candidates(local)
        ev = Evaluator(self.qualname, dict(env), self.symbols, free, self.functions)
        self.evaluators.append(ev)
        made: dict[int, set[str]] = {}  # statement index -> names it bound to Keras tensors/layers
        models = []  # (index, target or None for return, spec)
        pending_sequential: dict[str, tuple[int, list]] = {}  # var -> (index, [add statement indices])
        out = list(stmts)
        building: list = []  # statements that build Keras objects (for naming sizes after constants)
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, cst.FunctionDef):
                params = {p.name.value for p in stmt.params.params + stmt.params.kwonly_params + stmt.params.posonly_params}
                inner_local = params | assigned_names(stmt.body)
                if isinstance(stmt.body, cst.IndentedBlock):
                    names_before, converted_before = _name_counters(), len(self.state.classes)
                    new_body = self._block(list(stmt.body.body), ev.env, inner_local, function=stmt.name.value)
                    out[i] = stmt.with_changes(body=stmt.body.with_changes(body=new_body))
                    if len(self.state.classes) == converted_before:
                        # nothing converted: the layers made while reading the body exist only when it
                        # is called, so they must not shift the names of the layers made before that
                        _restore_name_counters(names_before)
                continue
            if isinstance(stmt, (cst.If, cst.For)) and self._interpret(ev, stmt, made, i):
                building.append(stmt)  # e.g. `for units in (64, 32): x = layers.Dense(units)(x)`
                continue
            if isinstance(stmt, (cst.If, cst.With, cst.For, cst.While, cst.Try)):
                out[i] = self._compound(stmt, ev.env, local, function)
                for n in assigned_names(stmt):
                    ev.env.pop(n, None)
                continue
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            small = stmt.body[0]
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):  # model.add(layer)
                call = small.value
                if (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add" and isinstance(call.func.value, cst.Name)
                        and call.func.value.value in pending_sequential and len(call.args) == 1):
                    try:
                        layer = ev.eval(call.args[0].value)
                        pending_sequential[call.func.value.value][1].append((i, layer))
                        building.append(stmt)
                    except NotStatic as exc:
                        out[i] = with_todos(stmt, [f"cannot rebuild this layer statically ({exc})"])
                        pending_sequential.pop(call.func.value.value)
                    continue
            if isinstance(small, cst.Return) and small.value is not None:
                try:
                    value = ev.eval(small.value)
                except NotStatic as exc:
                    out[i] = self._explain(stmt, small.value, exc)
                    continue
                if isinstance(value, tuple) and value and value[0] == "model":
                    models.append((i, None, value))
                    building.append(stmt)
                continue
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                for n in assigned_names(stmt):
                    ev.env.pop(n, None)
                continue
            target = small.targets[0].target
            names = target_names(target)
            try:
                value = ev.eval(small.value)
            except NotStatic as exc:
                out[i] = self._explain(stmt, small.value, exc)
                for n in names:
                    ev.env.pop(n, None)
                continue
            except Exception as exc:  # Keras refused the arguments: leave the code, say why
                out[i] = with_todos(stmt, [f"Keras rejects this definition: {' '.join(str(exc).split())[:200]}"])
                for n in names:
                    ev.env.pop(n, None)
                continue
            if isinstance(value, tuple) and value and value[0] == "model" and isinstance(target, cst.Name):
                _, cls, args, kwargs = value
                import keras

                if cls is keras.Sequential and not args and not kwargs.get("layers"):
                    pending_sequential[target.value] = (i, [])
                    continue
                models.append((i, target.value, value))
                building.append(stmt)
                continue
            if _is_keras_object(value):
                building.append(stmt)
            if isinstance(target, cst.Name):
                ev.env[target.value] = value
                if _is_keras_object(value):
                    made.setdefault(i, set()).add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (tuple, list)) and len(value) == len(names):
                for n, v in zip(names, value):
                    ev.env[n] = v
                    if _is_keras_object(v):
                        made.setdefault(i, set()).add(n)
        import keras

        for var, (i, adds) in pending_sequential.items():
            models.append((i, var, ("model", keras.Sequential, [[layer for _, layer in adds]], {}), [j for j, _ in adds]))
        named_sizes = _named_sizes(building, ev.env)
        removed: set[int] = set()
        failed = False
        for entry in models:
            i, var, spec = entry[:3]
            add_statements = entry[3] if len(entry) > 3 else []
            stmt = stmts[i]
            try:
                info, init_args = self._convert(spec, var, local, function, named_sizes)
            except _Failed as exc:
                out[i] = with_todos(out[i], [str(exc)])
                failed = True
                continue
            call = cst.Call(cst.Name(info.class_name), [cst.Arg(cst.Name(a)) for a in init_args])
            small = stmt.body[0]
            new_small = small.with_changes(value=call)
            out[i] = stmt.with_changes(body=[new_small])
            removed.update(add_statements)
            if var is not None:
                self.state.models[var] = info
            elif function:
                self.function_models[function] = info
            self.state.note(f"model {var or function or info.class_name}: Keras {spec[1].__name__} -> class {info.class_name}")
        if not failed:  # a model left as Keras code keeps the statements that build it
            removed |= self._dead_definitions(stmts, made, removed, models)
        return [s for j, s in enumerate(out) if j not in removed]

    def _explain(self, stmt, value, exc):
        """A model definition that cannot be rebuilt statically gets the reason, not a generic TODO."""
        if isinstance(value, cst.Call) and self.qualname(value) in ("keras.Sequential", "keras.Model"):
            return with_todos(stmt, [f"model kept as Keras: cannot rebuild it without running the script ({exc} is only known at run time)"])
        return stmt

    def _interpret(self, ev, stmt, made: dict[int, set[str]], index: int) -> bool:
        """Run a loop/if that builds model parts through the evaluator; True if it did."""
        scratch = Evaluator(self.qualname, dict(ev.env), self.symbols, ev.free, self.functions)
        names_before = _name_counters()
        try:
            scratch.exec_statement(stmt)
        except Exception:  # NotStatic, or Keras refusing: leave the statement to the other steps
            _restore_name_counters(names_before)
            return False
        assigned = assigned_names(stmt)
        if not any(_is_keras_object(scratch.env.get(n)) for n in assigned):
            return False
        ev.env.update(scratch.env)
        ev.used_functions |= scratch.used_functions
        made[index] = set(assigned)
        return True

    def _compound(self, stmt, env, local, function):
        def rewrite(block):
            if isinstance(block, cst.IndentedBlock):
                return block.with_changes(body=self._block(list(block.body), env, local, function))
            return block

        changes = {"body": rewrite(stmt.body)}
        if getattr(stmt, "orelse", None) is not None and hasattr(stmt.orelse, "body"):
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                changes["orelse"] = self._compound(orelse, env, local, function)
            else:
                changes["orelse"] = orelse.with_changes(body=rewrite(orelse.body))
        return stmt.with_changes(**changes)

    def _free_candidates(self, local: set[str]):
        # a name is a free size if nothing in the script binds it (snippet), or a function binds it
        # (parameter or local computed at run time): it becomes a constructor argument then
        return _AnyName(self.bound, local)

    def _dead_definitions(self, stmts, made: dict[int, set[str]], removed: set[int], models) -> set[int]:
        """Statements that only built Keras tensors/layers now inside a converted class."""
        model_lines = {m[0] for m in models}
        candidates = set(made) - model_lines
        used_elsewhere = set()
        for j, s in enumerate(stmts):
            if j not in candidates and j not in removed and j not in model_lines:
                used_elsewhere |= free_uses(s)
        return {i for i in candidates if made[i] == assigned_names(stmts[i]) and not (made[i] & used_elsewhere)}

    def _propagate(self, body: list) -> list:
        """`model = build_model()`: the variable holds the function's converted model."""
        if not self.function_models:
            return body
        functions = self.function_models

        class Find(cst.CSTVisitor):
            def __init__(self, state):
                self.state = state

            def visit_Assign(self, node: cst.Assign) -> None:
                if (len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call)
                        and isinstance(node.value.func, cst.Name) and node.value.func.value in functions):
                    self.state.models[node.targets[0].target.value] = functions[node.value.func.value]

        finder = Find(self.state)
        for stmt in body:
            stmt.visit(finder)
        return body

    # ------------------------------------------------------------------------------------------
    def _convert(self, spec, var, local: set[str], function, named_sizes: dict[int, str]) -> tuple[ModelInfo, list[str]]:
        import keras

        from ...frontend.keras3 import read_model

        _, cls, args, kwargs = spec
        name = kwargs.get("name")
        try:
            if cls is keras.Sequential:
                layers = list(args[0] if args else kwargs.get("layers", []))
                model = self._sequential(layers, name)
            else:
                inputs = args[0] if args else kwargs.get("inputs")
                outputs = args[1] if len(args) > 1 else kwargs.get("outputs")
                model = keras.Model(inputs, outputs, **({"name": name} if name else {}))
        except NotStatic as exc:
            raise _Failed(f"cannot rebuild this model statically ({exc})") from None
        except Exception as exc:
            raise _Failed(f"Keras cannot build this model statically: {' '.join(str(exc).split())[:200]}") from None
        raw = name or var or function or "Model"
        class_name = self.class_names.name(camel(raw), key=id(model))
        try:
            # training=True: Dropout & co. become modules active in train mode (the script trains it);
            # input_layout="keras": arrays keep Keras' layout where they enter, the model permutes once
            program = build_program(read_model(model), class_name, input_layout="keras", training=True)
        except Tf2TorchError as exc:
            raise _Failed(" ".join(str(exc).split())) from None
        used = self._write_back_symbols(program, named_sizes)
        init_args = sorted(n for n in used if n in local)
        program.init_args = init_args
        imports, helpers, class_src = emit_parts(program)
        penalty, unsupported = _regularization(program)
        if unsupported:
            raise _Failed(f"{unsupported}: not translated (the training loss would differ)")
        if penalty is not None:
            class_src = _add_method(class_src, penalty)
        if _INPUT_SYMBOL in class_src:
            raise _Failed("the input size is unknown and a layer needs it (no lazy torch equivalent): "
                          "give the model an Input(shape=...) or input_shape=")
        self.state.need(*imports)
        for src in helpers + [class_src]:
            if src not in self.state.classes:
                self.state.classes.append(src)
        info = ModelInfo(var or "", class_name, [tuple(b.layout.perm) for b in program.inputs],
                         [tuple(b.layout.perm) for b in program.outputs], _output_activation(model), model)
        return info, init_args

    def _sequential(self, layers: list, name):
        import keras

        first = layers[0] if layers else None
        shape = getattr(first, "_tf2torch_input_shape", None)
        items = list(layers)
        if isinstance(first, keras.KerasTensor):
            pass
        elif shape is not None:
            items.insert(0, keras.Input(tuple(shape)))
        elif first is not None:
            items.insert(0, _lazy_input(first, self.symbols))
        model = keras.Sequential(items, **({"name": name} if name else {}))
        return model

    def _write_back_symbols(self, program, named_sizes: dict[int, str]) -> set[str]:
        """Free names back in place of their symbol values; sizes named after the script's constants."""
        by_value = self.symbols.by_value
        used: set[str] = set()

        def sizes(ctor: fr.Call) -> fr.Call:  # in/out sizes (first two positional args) only
            args = list(ctor.args)
            for k in range(min(2, len(args))):
                if isinstance(args[k], fr.Const) and type(args[k].value) is int and args[k].value in named_sizes:
                    args[k] = fr.Ref(named_sizes[args[k].value])
            return fr.Call(ctor.func, tuple(args), ctor.kwargs)

        def leaf(e):
            if not isinstance(e, fr.Const):
                return e
            v = e.value
            if type(v) is int:
                if v in by_value:
                    used.add(by_value[v])
                    return fr.Ref(by_value[v])
                if v > 0 and any(v % s == 0 and v != s for s in by_value):
                    raise _Failed("a size is computed from free names (e.g. a Flatten of symbolic sizes): give them values")
            elif isinstance(v, tuple) and any(type(i) is int and i in by_value for i in v):
                return fr.TupleExpr(tuple(leaf(fr.Const(i)) for i in v))
            return e

        def sub(e):
            return fr.map_expr(e, leaf)

        for sm in program.submodules:
            sm.ctor = sizes(_lazy_ctor(sub(sm.ctor), self.symbols))
        program.statements = [(t, sub(v)) for t, v in program.statements]
        program.returns = [sub(r) for r in program.returns]
        used.discard(_INPUT_SYMBOL)
        return used


class _AnyName:
    """Membership test for free names: unbound in the script, or bound by the enclosing function."""

    def __init__(self, bound: set[str], local: set[str]):
        self.bound, self.local = bound, local

    def __contains__(self, name: str) -> bool:
        return name not in self.bound or name in self.local

    def __iter__(self):
        return iter(())


def _lazy_input(first, symbols: Symbols):
    """An Input for a Sequential without input shape: the input size becomes a lazy dimension."""
    import keras

    size = symbols.value(_INPUT_SYMBOL)
    rank = {"Dense": 1, "Conv1D": 2, "LSTM": 2, "GRU": 2, "SimpleRNN": 2, "Conv2D": 3, "DepthwiseConv2D": 3, "SeparableConv2D": 3,
            "Conv3D": 4, "BatchNormalization": 1}.get(type(first).__name__)
    if type(first).__name__ == "Embedding":
        return keras.Input((None,), dtype="int32")
    if rank is None:
        raise NotStatic(f"no input shape and {type(first).__name__} does not tell the input rank")
    return keras.Input((None,) * (rank - 1) + (size,))


def _lazy_ctor(ctor: fr.Call, symbols: Symbols) -> fr.Call:
    func = ctor.func
    path = func.path if isinstance(func, fr.Ref) else (
        f"{func.value.path}.{func.name}" if isinstance(func, fr.Attr) and isinstance(func.value, fr.Ref) else None)
    if _INPUT_SYMBOL not in symbols.by_name or path not in _LAZY or not ctor.args:
        return ctor
    first = ctor.args[0]
    if isinstance(first, fr.Ref) and first.path == _INPUT_SYMBOL:
        return fr.Call(fr.Ref(_LAZY[path]), ctor.args[1:], ctor.kwargs)
    return ctor


def _named_sizes(building: list, env: dict) -> dict[int, str]:
    """value -> constant name, for int constants the model code refers to, where unambiguous:
    one name per value, and the value itself is not written as a literal in that code."""
    used = set()
    literals = set()
    for stmt in building:
        used |= used_names(stmt)
        literals |= int_literals(cst.Module([stmt]))
    by_value: dict[int, list[str]] = {}
    for name in sorted(used):
        value = env.get(name)
        if type(value) is int and value > 1 and value not in literals:
            by_value.setdefault(value, []).append(name)
    return {v: names[0] for v, names in by_value.items() if len(names) == 1}


def _is_keras_object(value) -> bool:
    import keras

    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_keras_object(v) for v in value)
    return isinstance(value, (keras.KerasTensor, keras.layers.Layer))


def _output_activation(model) -> str | None:
    try:
        last = model.outputs[0]._keras_history.operation
    except (AttributeError, IndexError):
        return None
    cfg = last.get_config() if hasattr(last, "get_config") else {}
    if type(last).__name__ == "Softmax":
        return "softmax"
    act = cfg.get("activation")
    return act if isinstance(act, str) else None


TRANSFORM = TranslateModels

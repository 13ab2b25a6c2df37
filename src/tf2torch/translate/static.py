"""Static evaluation of model-building code: literals and Keras constructors only, never user code.

Keras model definitions in a script are rebuilt here with real Keras objects, so that the model
conversion pipeline (one source of truth for layer semantics and parameter names) can turn them
into nn.Module classes. Only these are evaluated: literals, constants assigned from literals,
calls of whitelisted Keras classes/factories with such arguments, and calls/operators on the
symbolic tensors they produce. Free names (snippets, function parameters) become *symbols*:
distinctive prime sizes whose occurrences are written back as the names in the generated code.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field

import libcst as cst

from .qualnames import is_tensorflow

_PRIMES = [p for p in range(101, 1000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]

_ACTIVATION_ALIASES = {  # functions passed as activation= that name a keras.activations function
    "tf.nn.relu": "relu", "tf.nn.relu6": "relu6", "tf.nn.sigmoid": "sigmoid", "tf.math.sigmoid": "sigmoid", "tf.sigmoid": "sigmoid",
    "tf.nn.tanh": "tanh", "tf.math.tanh": "tanh", "tf.tanh": "tanh", "tf.nn.softmax": "softmax", "tf.nn.elu": "elu",
    "tf.nn.selu": "selu", "tf.nn.softplus": "softplus", "tf.nn.softsign": "softsign", "tf.nn.swish": "swish", "tf.nn.silu": "silu",
    "tf.nn.gelu": "gelu", "tf.nn.leaky_relu": "leaky_relu", "tf.nn.log_softmax": "log_softmax", "tf.math.exp": "exponential",
    "tf.exp": "exponential",
}
_DTYPES = {f"tf.{d}": d for d in ("float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool", "string")}
_FACTORY_MODULES = ("keras.regularizers.", "keras.initializers.", "keras.constraints.")
_AUG = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
        cst.FloorDivideAssign: cst.FloorDivide, cst.DivideAssign: cst.Divide}
_BINOPS = {cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul, cst.Divide: operator.truediv,
           cst.FloorDivide: operator.floordiv, cst.Power: operator.pow, cst.Modulo: operator.mod}


class NotStatic(Exception):
    """The expression cannot be evaluated without running the script."""


@dataclass
class Symbols:
    """Free names standing for sizes: name <-> a distinctive prime used while building."""

    avoid: set[int] = field(default_factory=set)
    by_name: dict[str, int] = field(default_factory=dict)

    def value(self, name: str) -> int:
        if name not in self.by_name:
            taken = set(self.by_name.values()) | self.avoid
            self.by_name[name] = next(p for p in _PRIMES if p not in taken)
        return self.by_name[name]

    @property
    def by_value(self) -> dict[int, str]:
        return {v: k for k, v in self.by_name.items()}


def int_literals(module: cst.Module) -> set[int]:
    found: set[int] = set()

    class Collect(cst.CSTVisitor):
        def visit_Integer(self, node: cst.Integer) -> None:
            try:
                found.add(int(node.evaluated_value))
            except (TypeError, ValueError):
                pass

    module.visit(Collect())
    return found


def literal(node: cst.BaseExpression):
    """Python value of a pure literal expression, or raise NotStatic."""
    code = cst.Module([]).code_for_node(node)
    try:
        return ast.literal_eval(code)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise NotStatic(code) from None


class _Return(Exception):
    def __init__(self, value):
        self.value = value


@dataclass
class UserFunction:
    """A function of the script whose body builds model parts: interpreted, never executed."""

    node: cst.FunctionDef


_BUILTINS = {"range": range, "len": len, "min": min, "max": max, "int": int, "float": float, "abs": abs, "tuple": tuple,
             "list": list, "enumerate": enumerate, "zip": zip, "reversed": reversed, "round": round, "str": str}
_COMPARE = {cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt, cst.LessThanEqual: operator.le,
            cst.GreaterThan: operator.gt, cst.GreaterThanEqual: operator.ge, cst.In: lambda a, b: a in b,
            cst.NotIn: lambda a, b: a not in b, cst.Is: operator.is_, cst.IsNot: operator.is_not}
_MAX_STEPS = 20000  # interpreted statements per model definition: a bound, not a budget to tune
_MAX_DEPTH = 30


class Evaluator:
    """Evaluate expressions of one block; `qualname(node)` resolves imported names."""

    def __init__(self, qualname, env: dict, symbols: Symbols, free: set[str], functions: dict | None = None,
                 globals_: dict | None = None, depth: int = 0, steps: list | None = None):
        self.qualname = qualname
        self.env = env  # name -> value (constants, Keras objects, symbolic tensors)
        self.symbols = symbols
        self.free = free  # names that may become symbols (not assigned in a way we can follow)
        self.functions = functions or {}  # module-level function definitions, by name
        self.globals = globals_ if globals_ is not None else env
        self.depth = depth
        self.steps = steps if steps is not None else [0]
        self.used_functions: set[str] = set()

    # --- statements (only what model-building code needs) ---------------------------------------
    def exec_block(self, stmts) -> None:
        for stmt in stmts:
            self.exec_statement(stmt)

    def exec_statement(self, stmt) -> None:
        self.steps[0] += 1
        if self.steps[0] > _MAX_STEPS:
            raise NotStatic("too many interpreted statements")
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._exec_small(small)
            return
        if isinstance(stmt, cst.If):
            if self.eval(stmt.test):
                self.exec_block(stmt.body.body)
            elif stmt.orelse is not None:
                if isinstance(stmt.orelse, cst.If):
                    self.exec_statement(stmt.orelse)
                else:
                    self.exec_block(stmt.orelse.body.body)
            return
        if isinstance(stmt, cst.For) and stmt.orelse is None and stmt.asynchronous is None:
            for item in list(self.eval(stmt.iter))[:_MAX_STEPS]:
                self._assign(stmt.target, item)
                self.exec_block(stmt.body.body)
            return
        raise NotStatic(type(stmt).__name__)

    def _exec_small(self, small) -> None:
        if isinstance(small, cst.Assign):
            value = self.eval(small.value)
            for target in small.targets:
                self._assign(target.target, value)
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            op = _BINOPS.get(_AUG.get(type(small.operator)))
            if op is None:
                raise NotStatic("augmented assignment")
            self.env[small.target.value] = op(self.eval(small.target), self.eval(small.value))
        elif isinstance(small, cst.Return):
            raise _Return(None if small.value is None else self.eval(small.value))
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
            return  # docstring
        else:
            raise NotStatic(type(small).__name__)

    def _assign(self, target, value) -> None:
        if isinstance(target, cst.Name):
            self.env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = list(value)
            if len(values) != len(target.elements):
                raise NotStatic("unpacking")
            for el, v in zip(target.elements, values):
                self._assign(el.value, v)
        else:
            raise NotStatic("assignment target")

    def call_user(self, function: UserFunction, args, kwargs):
        if self.depth >= _MAX_DEPTH:
            raise NotStatic("recursion")
        params = function.node.params
        if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.star_kwarg is not None:
            raise NotStatic("*args/**kwargs parameters")
        names = [p.name.value for p in list(params.posonly_params) + list(params.params)]
        bound = dict(zip(names, args))
        if len(args) > len(names):
            raise NotStatic("too many arguments")
        for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            n = p.name.value
            if n in kwargs:
                bound[n] = kwargs.pop(n)
            elif n not in bound:
                if p.default is None:
                    raise NotStatic(f"missing argument {n}")
                bound[n] = self.eval(p.default)
        if kwargs:
            raise NotStatic("unknown keyword arguments")
        inner = Evaluator(self.qualname, {**self.globals, **bound}, self.symbols, set(), self.functions, self.globals,
                          self.depth + 1, self.steps)
        try:
            inner.exec_block(function.node.body.body)
        except _Return as ret:
            if isinstance(ret.value, tuple) and ret.value and ret.value[0] == "model":
                raise NotStatic("a function returning a model is converted where it is defined") from None
            self.used_functions |= inner.used_functions | {function.node.name.value}
            return ret.value
        self.used_functions |= inner.used_functions | {function.node.name.value}
        return None

    def eval(self, node):
        import keras

        if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.Imaginary)):
            return literal(node)
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.value]
            if node.value in self.env:
                return self.env[node.value]
            if node.value in self.functions:
                return UserFunction(self.functions[node.value])
            if node.value in _BUILTINS and self.qualname(node) in (None, f"builtins.{node.value}", node.value):
                return _BUILTINS[node.value]
            name = self.qualname(node)
            if name and name != node.value and is_tensorflow(name):
                return self.resolve(name)
            if node.value in self.free:
                return self.symbols.value(node.value)
            raise NotStatic(node.value)
        if isinstance(node, cst.Attribute):
            name = self.qualname(node)
            if name and is_tensorflow(name):
                return self.resolve(name)
            if node.attr.value in ("shape", "dtype", "ndim"):
                import keras

                value = self.eval(node.value)
                if isinstance(value, keras.KerasTensor):
                    return {"shape": tuple(value.shape), "dtype": str(value.dtype), "ndim": len(value.shape)}[node.attr.value]
            raise NotStatic(cst.Module([]).code_for_node(node))
        if isinstance(node, cst.Comparison):
            left = self.eval(node.left)
            for target in node.comparisons:
                right = self.eval(target.comparator)
                if not _COMPARE[type(target.operator)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, cst.BooleanOperation):
            left = self.eval(node.left)
            if isinstance(node.operator, cst.And):
                return left and self.eval(node.right)
            return left or self.eval(node.right)
        if isinstance(node, cst.IfExp):
            return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
        if isinstance(node, (cst.Tuple, cst.List)):
            values = []
            for el in node.elements:
                if isinstance(el, cst.StarredElement):
                    values.extend(self.eval(el.value))
                else:
                    values.append(self.eval(el.value))
            return tuple(values) if isinstance(node, cst.Tuple) else values
        if isinstance(node, cst.Dict):
            out = {}
            for el in node.elements:
                if not isinstance(el, cst.DictElement):
                    raise NotStatic("dict unpacking")
                out[self.eval(el.key)] = self.eval(el.value)
            return out
        if isinstance(node, cst.UnaryOperation):
            value = self.eval(node.expression)
            if isinstance(node.operator, cst.Minus):
                return -value
            if isinstance(node.operator, cst.Plus):
                return +value
            if isinstance(node.operator, cst.Not):
                return not value
            raise NotStatic("unary operator")
        if isinstance(node, cst.BinaryOperation):
            op = _BINOPS.get(type(node.operator))
            if op is None:
                raise NotStatic("operator")
            return op(self.eval(node.left), self.eval(node.right))
        if isinstance(node, cst.Subscript):
            value = self.eval(node.value)
            keys = tuple(self.slice_item(e.slice) for e in node.slice)
            key = keys[0] if len(keys) == 1 else keys
            if isinstance(value, keras.KerasTensor) or (isinstance(value, (tuple, list, dict)) and not isinstance(key, tuple)):
                return value[key]
            raise NotStatic("subscript")
        if isinstance(node, cst.Call):
            return self.call(node)
        raise NotStatic(type(node).__name__)

    def slice_item(self, item):
        if isinstance(item, cst.Index):
            return self.eval(item.value)
        if isinstance(item, cst.Slice):
            part = lambda v: None if v is None else self.eval(v)  # noqa: E731
            return slice(part(item.lower), part(item.upper), part(item.step))
        raise NotStatic("slice")

    def resolve(self, name: str):
        """A canonical qualified name -> the Keras object (or value) it denotes, if whitelisted."""
        import keras

        if name in _DTYPES:
            return _DTYPES[name]
        if name in _ACTIVATION_ALIASES:
            return _ACTIVATION_ALIASES[name]
        if name.startswith("keras.activations."):
            return name.rsplit(".", 1)[1]
        parts = name.split(".")
        if name.startswith("keras.layers.") and len(parts) == 3:
            obj = getattr(keras.layers, parts[2], None)
            if isinstance(obj, type):
                return obj
        if name in ("keras.Input", "keras.Sequential", "keras.Model"):
            return getattr(keras, parts[1])
        if name.startswith(_FACTORY_MODULES) and len(parts) == 3:
            obj = getattr(getattr(keras, parts[1]), parts[2], None)
            if obj is not None:
                return obj
        if name.startswith("keras.layers.") and len(parts) == 3 and parts[2][:1].islower():  # concatenate, add, ...
            obj = getattr(keras.layers, parts[2], None)
            if callable(obj):
                return _OpOnTensors(obj)
        if name.startswith("keras.ops.") and len(parts) == 3:
            obj = getattr(keras.ops, parts[2], None)
            if callable(obj):
                return _OpOnTensors(obj)
        raise NotStatic(name)

    def call(self, node: cst.Call):
        import keras

        func = self.eval(node.func)
        args, kwargs = [], {}
        for arg in node.args:
            if arg.star == "*":
                args.extend(self.eval(arg.value))
            elif arg.star == "**":
                kwargs.update(self.eval(arg.value))
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = self.eval(arg.value)
            else:
                args.append(self.eval(arg.value))
        if isinstance(func, UserFunction):
            return self.call_user(func, args, kwargs)
        if any(func is b for b in _BUILTINS.values()):
            return func(*args, **kwargs)
        if func in (keras.Sequential, keras.Model):
            return ("model", func, args, kwargs)  # built by the caller, which knows the statement
        if isinstance(func, type) and issubclass(func, keras.layers.Layer) and not issubclass(func, keras.Model):
            return make_layer(func, args, kwargs)
        if isinstance(func, keras.layers.Layer):  # calling a layer on symbolic tensors
            if not _all_tensors(args):
                raise NotStatic("layer called on something else than symbolic tensors")
            return func(*args, **kwargs)
        if isinstance(func, _OpOnTensors):
            if not any(_all_tensors([a]) for a in args):
                raise NotStatic("keras.ops on constants")
            return func.fn(*args, **kwargs)
        if func is keras.Input:
            return keras.Input(*args, **kwargs)
        if callable(func) and getattr(func, "__module__", "").startswith("keras"):
            return func(*args, **kwargs)  # regularizers, initializers, constraints
        raise NotStatic("call")


@dataclass
class _OpOnTensors:
    fn: object


def _all_tensors(values) -> bool:
    import keras

    def ok(v):
        if isinstance(v, (list, tuple)):
            return len(v) > 0 and all(ok(i) for i in v)
        return isinstance(v, keras.KerasTensor)

    return all(ok(v) for v in values)


_INPUT_KWARGS = ("input_shape", "input_dim", "batch_input_shape", "batch_size", "input_length")


def make_layer(cls, args, kwargs):
    """Instantiate a Keras layer from literal arguments; Keras 2 spellings accepted."""
    kwargs = dict(kwargs)
    shape = None
    if "batch_input_shape" in kwargs:
        shape = tuple(kwargs.pop("batch_input_shape"))[1:]
    if "input_shape" in kwargs:
        shape = tuple(kwargs.pop("input_shape"))
    if "input_dim" in kwargs:
        shape = (kwargs.pop("input_dim"),)
    kwargs.pop("batch_size", None)
    if cls.__name__ == "Embedding" and "input_length" in kwargs:
        length = kwargs.pop("input_length")
        shape = shape or (length,)
    if cls.__name__ == "LeakyReLU" and "alpha" in kwargs:  # Keras 2 spelling
        kwargs["negative_slope"] = kwargs.pop("alpha")
    try:
        layer = cls(*args, **kwargs)
    except Exception as exc:
        raise NotStatic(f"{cls.__name__}: {exc}") from None
    layer._tf2torch_input_shape = shape
    return layer

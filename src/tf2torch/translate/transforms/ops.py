"""`tf.*`, `tf.math/nn/random/image/linalg.*`, `keras.ops.*`, `keras.random.*`, `keras.activations.*` and
Keras 2 `keras.backend.*` function calls -> PyTorch, following translate/optable.py.

A call is matched by its qualified name (any import style), its arguments are bound to the TF/Keras
signature (positional or keyword), and the entry's rule writes the PyTorch expression. A call whose
arguments the rule cannot map exactly stays as it was under a TODO that says why. TF dtypes
(`tf.float32`, `"float32"` in dtype arguments) become torch dtypes.
"""
from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import ParentNodeProvider, QualifiedNameProvider, QualifiedNameSource

from .. import optable
from ..base import Transform
from ..qualnames import canonical, is_tensorflow

_DTYPES = {"float16", "half", "bfloat16", "float32", "float", "float64", "double", "int8", "int16", "int32",
           "int64", "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128"}
_TORCH_DTYPE = {"half": "float16", "float": "float32", "double": "float64"}
# Keras 2 backend functions (tf.keras.backend.mean, ...) have their own signatures; Keras 3 `keras.backend`
# keeps only configuration (epsilon, floatx); `qualnames.canonical` maps both to keras.ops.*
_BACKEND = re.compile(r"^(tensorflow\.python\.keras|tensorflow\.keras|tf_keras(\.src)?|keras(\.src|\.api)?)\.backend\.(\w+)$")
_KERAS_OPS_MODULES = ("numpy.", "nn.", "math.", "core.", "linalg.")
_RESIZE_METHODS = {"BILINEAR": "bilinear", "NEAREST_NEIGHBOR": "nearest", "BICUBIC": "bicubic", "AREA": "area",
                   "LANCZOS3": "lanczos3", "LANCZOS5": "lanczos5", "GAUSSIAN": "gaussian",
                   "MITCHELLCUBIC": "mitchellcubic"}


_REPEATING = (cst.FunctionDef, cst.Lambda, cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp,
              cst.GeneratorExp)


class TranslateOps(Transform):
    DESCRIPTION = "TensorFlow / Keras op calls -> torch"
    METADATA_DEPENDENCIES = (QualifiedNameProvider, ParentNodeProvider)

    def __init__(self, context):
        super().__init__(context)
        self._calls: list[str | None] = []  # qualified names of the calls being visited, outermost first
        self._dtype_nodes: dict[int, str] = {}  # dtype references to rewrite: id -> torch dtype name
        self._generators: set[str] = set()  # targets of `... = keras.random.SeedGenerator(...)`
        self._repeating = 0  # inside a function, loop or comprehension: a statement may run many times

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    # --- names ------------------------------------------------------------------------------------------

    def _imported(self, node: cst.CSTNode) -> list[str]:
        """Qualified names of `node` that come from an import or a builtin (a local variable that
        happens to be called `tf` is not TensorFlow)."""
        try:
            names = self.get_metadata(QualifiedNameProvider, node, set())
        except KeyError:  # a node made by this pass
            return []
        return sorted(q.name for q in names if q.source in (QualifiedNameSource.IMPORT, QualifiedNameSource.BUILTIN))

    def op_name(self, call: cst.Call) -> str | None:
        """The table name of a call: canonical qualified name, with Keras 2 backend functions kept apart."""
        raw = self._imported(call.func)
        for q in raw:
            m = _BACKEND.match(q)
            if m:
                return "keras.backend." + m.group(4)
        if not raw:
            return None
        name = canonical(raw[0])
        if name.startswith("tf.compat.v2."):
            name = "tf." + name[len("tf.compat.v2."):]
        if name.startswith("keras.ops.") and name not in optable.BY_NAME:
            rest = name[len("keras.ops."):]
            for module in _KERAS_OPS_MODULES:
                if rest.startswith(module) and "keras.ops." + rest[len(module):] in optable.BY_NAME:
                    return "keras.ops." + rest[len(module):]
        return name

    def _torch_dtype(self, node: cst.CSTNode) -> str | None:
        """'float32' when `node` names a dtype as TF accepts one (tf.float32, np.float32, float)."""
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            return _TORCH_DTYPE.get(value, value) if value in _DTYPES else None
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        for q in self._imported(node):
            if q == "builtins.float":  # tf.as_dtype(float) is float32 (torch's float is float64)
                return "float32"
            if q == "builtins.bool":
                return "bool"
            short = canonical(q)
            for prefix in ("tf.dtypes.", "tf.", "numpy."):
                if short.startswith(prefix) and short[len(prefix):] in _DTYPES:
                    dtype = short[len(prefix):]
                    if prefix == "numpy." and dtype in ("float", "int", "bool"):
                        return None  # deprecated numpy aliases of Python types
                    return _TORCH_DTYPE.get(dtype, dtype)
        return None

    def _dtype_arg(self, original: cst.BaseExpression, node: cst.BaseExpression) -> cst.BaseExpression:
        dtype = self._torch_dtype(original)
        if dtype is None:
            return node
        self.state.need("import torch")
        return cst.parse_expression(f"torch.{dtype}")

    def _literal(self, node: cst.BaseExpression):
        if isinstance(node, cst.Attribute):
            name = canonical(next(iter(self._imported(node)), ""))
            if name.startswith("tf.image.ResizeMethod."):
                return _RESIZE_METHODS.get(name.rsplit(".", 1)[1], optable.NOT_LITERAL)
        return optable._literal(node)

    # --- dtype references outside translated calls ------------------------------------------------------

    def _mark_dtype(self, node) -> None:
        if isinstance(node, cst.Name) and node.value in ("float", "bool"):
            return  # Python's float/bool are only dtypes as arguments
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return  # tf.float32.max and friends: see leave_Attribute
        dtype = self._torch_dtype(node) if not isinstance(node, cst.SimpleString) else None
        if dtype is None or not any(is_tensorflow(canonical(q)) for q in self._imported(node)):
            return
        if self._translatable_here():
            self._dtype_nodes[id(node)] = dtype

    def _translatable_here(self) -> bool:
        # inside a TF call that this step does not translate, a dtype stays TF's as well
        return all(name is None or not is_tensorflow(name) or name in optable.BY_NAME for name in self._calls)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._mark_dtype(node)
        return True

    def visit_Name(self, node: cst.Name) -> bool:
        self._mark_dtype(node)
        return True

    def leave_Attribute(self, original, updated):
        if "tensorflow.newaxis" in self._imported(original) and self._translatable_here():
            return cst.Name("None")  # x[:, tf.newaxis]
        if original.attr.value in ("min", "max") and isinstance(original.value, (cst.Name, cst.Attribute)):
            dtype = self._torch_dtype(original.value)
            if dtype is not None and id(original.value) not in self._dtype_nodes and self._translatable_here():
                # tf.float32.min = torch.finfo(torch.float32).min; integer dtypes: torch.iinfo
                info = "finfo" if dtype.startswith(("float", "bfloat", "complex")) else "iinfo"
                self.state.need("import torch")
                return cst.parse_expression(f"torch.{info}(torch.{dtype}).{original.attr.value}")
        return self._dtype_replacement(original, updated)

    def leave_Name(self, original, updated):
        return self._dtype_replacement(original, updated)

    def _dtype_replacement(self, original, updated):
        dtype = self._dtype_nodes.get(id(original))
        if dtype is None:
            return updated
        self.state.need("import torch")
        return cst.parse_expression(f"torch.{dtype}")

    # --- calls ------------------------------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _REPEATING):
            self._repeating += 1
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):
        if isinstance(original_node, _REPEATING):
            self._repeating -= 1
        return super().on_leave(original_node, updated_node)

    def visit_Assign(self, node: cst.Assign) -> bool:
        if isinstance(node.value, cst.Call) and self.op_name(node.value) == "keras.random.SeedGenerator":
            self._generators.update(self.code(t.target) for t in node.targets)
        return True

    def visit_Call(self, node: cst.Call) -> bool:
        self._calls.append(self.op_name(node))
        return True

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        name = self._calls.pop()
        entry = optable.BY_NAME.get(name) if name else None
        if entry is None:
            return updated
        parent = self.get_metadata(ParentNodeProvider, original, None)
        role = optable.role_in(parent, original) if parent is not None else "free"
        try:
            bound = optable.bind(entry, name, updated.args, original.args, self._dtype_arg, self._literal, parent, role)
            bound.generators = self._generators
            bound.runs_once = self._repeating == 0
            rule = entry.rule
            result = bound.build(rule) if isinstance(rule, str) else rule(bound)
            bound.finish()
        except optable.Untranslatable as why:
            self.todo(f"`{name}`: {why}; kept as is")
            return updated
        except Exception as exc:  # a bug in one rule must not cost the other calls their translation
            self.todo(f"`{name}`: internal error ({type(exc).__name__}: {exc}); kept as is")
            return updated
        self.state.need(*bound.imports)
        if bound.runtime:
            self.state.use(*bound.runtime)
        self.state.note(f"{name} -> PyTorch")
        return optable.parenthesize(result, parent, role)


TRANSFORM = TranslateOps

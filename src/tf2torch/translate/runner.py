"""Run the transformations over one script; never raises: problems become TODOs or an error value."""
from __future__ import annotations

import ast
import importlib
import io
import re
import sys
import tokenize
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.metadata import MetadataWrapper, QualifiedNameProvider

from .. import inline
from . import runtime as runtime_package
from .base import TODO_PREFIX, state_of
from .qualnames import is_tensorflow
from .transforms import ORDER


@dataclass
class Translation:
    source: str  # the translated script ("" if error)
    todos: list[tuple[int, str]] = field(default_factory=list)  # (line in output, why)
    notes: list[str] = field(default_factory=list)  # what was translated
    error: str | None = None  # "file:line:col: message" when the input could not be read/parsed

    @property
    def complete(self) -> bool:
        """No TODO and no TensorFlow/Keras import left."""
        return self.error is None and not self.todos and not _imports_tensorflow(self.source)


def translate_source(code: str, filename: str = "<string>") -> Translation:
    code = code.removeprefix("\ufeff")  # a UTF-8 byte order mark: Python reads such files, so do we
    try:  # Python's own parser gives the clearest message and position
        original = ast.parse(code, filename)
        _check_encoding_declaration(code)
    except SyntaxError as exc:
        return Translation("", error=f"{filename}:{exc.lineno or 1}:{exc.offset or 1}: invalid Python: {exc.msg}")
    except (ValueError, RecursionError, MemoryError, UnicodeError) as exc:  # NUL bytes, absurd nesting, surrogates
        return Translation("", error=f"{filename}:1:1: cannot parse: {type(exc).__name__}: {exc}")
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        return Translation("", error=f"{filename}:{exc.editor_line}:{exc.editor_column}: invalid Python: {exc.message}")
    except Exception as exc:  # e.g. recursion on absurd nesting
        return Translation("", error=f"{filename}:1:1: cannot parse: {type(exc).__name__}")
    context = CodemodContext(filename=filename)
    state = state_of(context)
    for name in ORDER:
        try:
            transform_cls = importlib.import_module(f"{__package__}.transforms.{name}").TRANSFORM
            module = transform_cls(context).transform_module(module)
        except Exception as exc:  # a bug of ours must not lose the user's code
            where = traceback.extract_tb(exc.__traceback__)[-1]
            state.todos.append(f"internal error in the {name} step ({type(exc).__name__}: {exc} at {Path(where.filename).name}:{where.lineno}); "
                               "that step was skipped")
    module = _finish_imports(module, state)
    source = module.code
    try:  # as the UTF-8 bytes that will be written: an encoding declaration counts
        compile(source.encode("utf-8"), filename, "exec")
    except (SyntaxError, ValueError, UnicodeError) as exc:  # never hand back invalid Python
        why = getattr(exc, "msg", None) or f"{type(exc).__name__}: {exc}"
        return Translation(code, [(0, f"internal error: the translation was not valid Python ({why}); input returned unchanged")],
                           list(state.notes))
    state.todos.extend(_shadowed(original, state, source))
    todos = [(i + 1, line.split(TODO_PREFIX, 1)[1].strip()) for i, line in enumerate(source.splitlines()) if TODO_PREFIX in line]
    todos += [(0, why) for why in state.todos]
    return Translation(source, todos, list(state.notes))


def _check_encoding_declaration(code: str) -> None:
    """A SyntaxError where Python would refuse the file for its `# coding:` line (unknown codec)."""
    tokenize.detect_encoding(io.BytesIO(code.encode("utf-8")).readline)


def _bound_names(tree: ast.AST) -> dict[str, int]:
    """Names the script binds other than by importing (name -> first line), and import aliases with
    the import they come from (name -> line), anywhere in the script."""
    found: dict[str, tuple[int, str | None]] = {}

    def add(name, node, origin=None):
        found.setdefault(name, (getattr(node, "lineno", 0), origin))

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            add(node.id, node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            add(node.name, node)
        elif isinstance(node, ast.arg):
            add(node.arg, node)
        elif isinstance(node, ast.Import):
            for a in node.names:
                add(a.asname or a.name.split(".")[0], node, f"import {a.name}" + (f" as {a.asname}" if a.asname else ""))
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                add(a.asname or a.name, node, f"from {'.' * node.level}{node.module or ''} import {a.name}"
                    + (f" as {a.asname}" if a.asname else ""))
    return found


def _shadowed(original: ast.AST, state, source: str) -> list[str]:
    """TODOs for names the translation adds (torch, F, nn, np, runtime helpers) that the script
    binds to something else: the translated code would call the script's object."""
    added: dict[str, str] = {}
    for line in state.imports:
        try:
            stmt = ast.parse(line).body[0]
        except SyntaxError:
            continue
        for a in getattr(stmt, "names", []):
            added[a.asname or a.name.split(".")[0]] = line
    for name in state.runtime:
        added[name] = "its runtime helper"
    user = _bound_names(original)
    todos = []
    for name, why in sorted(added.items()):
        if name in user:
            line, origin = user[name]
            if origin is not None and origin == why:  # the script's own `import torch`
                continue
            if (why == "its runtime helper" and origin is not None and " as " not in origin
                    and re.match(r"from\s+(tensorflow|keras|tf_keras)\b", origin)):
                continue  # `from keras.callbacks import EarlyStopping`: the helper stands for that very name
            todos.append(f"line {line} of the script binds `{name}`, which the translation uses for {why}: "
                         "rename it in the script")
    return todos


def _imports_tensorflow(source: str) -> bool:
    return bool(re.search(r"^\s*(import|from)\s+(tensorflow|keras|tf_keras)\b", source, re.M))


class _References(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    def __init__(self):
        self.tensorflow = False

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        for q in self.get_metadata(QualifiedNameProvider, node, set()):
            if is_tensorflow(q.name):
                self.tensorflow = True


def _is_tensorflow_import(stmt) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Import):
            return all(cst.Module([]).code_for_node(a.name).split(".")[0] in ("tensorflow", "keras", "tf_keras") for a in small.names)
        if isinstance(small, cst.ImportFrom) and small.module is not None:
            return cst.Module([]).code_for_node(small.module).split(".")[0] in ("tensorflow", "keras", "tf_keras")
    return False


def _is_import(stmt) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _finish_imports(module: cst.Module, state) -> cst.Module:
    """Drop TensorFlow imports nothing uses any more; add torch imports, runtime and model classes."""
    refs = _References()
    MetadataWrapper(module).visit(refs)
    body = list(module.body)
    if not refs.tensorflow:
        body = [s for s in body if not _is_tensorflow_import(s)]
    present = {cst.Module([]).code_for_node(s).strip() for s in body if _is_import(s)}
    wanted = [line for line in _ordered_imports(state.imports) if line not in present]
    insert_at = 0
    for i, stmt in enumerate(body):
        if _is_import(stmt) or (i == 0 and _is_docstring(stmt)):
            insert_at = i + 1
        elif insert_at or not _is_docstring(stmt):
            break
    additions = [cst.parse_statement(line + "\n") for line in wanted]
    extra = inline.sources(sorted(state.runtime), runtime_package) + list(state.classes)
    blocks = [cst.parse_module(src.strip() + "\n").body for src in extra]
    for block in blocks:
        block = list(block)
        block[0] = block[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        additions += block
    if blocks and insert_at < len(body):  # two blank lines after the inserted definitions, as PEP 8 wants
        kept = list(body[insert_at].leading_lines)
        while kept and kept[0].comment is None:
            kept.pop(0)
        body[insert_at] = body[insert_at].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *kept])
    return module.with_changes(body=body[:insert_at] + additions + body[insert_at:])


_THIRD_PARTY_ORDER = ["import numpy as np", "import torch", "import torch.nn.functional as F", "from torch import nn"]


def _ordered_imports(lines: set[str]) -> list[str]:
    """Standard library first (sorted), then numpy and torch in the usual order, then the rest."""
    def root(line: str) -> str:
        return line.split()[1].split(".")[0]

    stdlib = sorted(line for line in lines if root(line) in sys.stdlib_module_names)
    known = [line for line in _THIRD_PARTY_ORDER if line in lines]
    return stdlib + known + sorted(lines - set(stdlib) - set(known))


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))

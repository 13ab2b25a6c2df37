"""Base of every transformation: LibCST codemod with qualified names and TODO comments.

A transformation is one `Transform` subclass in its own module under transforms/. It matches on
canonical qualified names (`self.qualname(node)`), rewrites what it understands exactly, and calls
`self.todo(why)` for what it recognises but cannot translate: the comment lands above the statement
being visited, and the code stays as it was.
"""
from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.metadata import QualifiedNameProvider, QualifiedNameSource

from .qualnames import canonical
from .state import State

TODO_PREFIX = "# TODO(tf2torch): "

_STATEMENTS = (cst.SimpleStatementLine, cst.For, cst.While, cst.If, cst.With, cst.Try, cst.FunctionDef, cst.ClassDef)


def state_of(context: CodemodContext) -> State:
    return context.scratch.setdefault("tf2torch", State())


def todo_comment(why: str) -> cst.EmptyLine:
    text = " ".join(str(why).split())  # one line, whatever the reason says
    return cst.EmptyLine(comment=cst.Comment(TODO_PREFIX + text))


def with_todos(statement: cst.CSTNode, whys: list[str]) -> cst.CSTNode:
    existing = {line.comment.value for line in statement.leading_lines if line.comment}
    lines = [todo_comment(w) for w in whys if TODO_PREFIX + " ".join(w.split()) not in existing]
    return statement.with_changes(leading_lines=[*statement.leading_lines, *lines]) if lines else statement


class Transform(VisitorBasedCodemodCommand):
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)
    DESCRIPTION = "a tf2torch translation step"

    def __init__(self, context: CodemodContext):
        super().__init__(context)
        self._pending: list[list[str]] = []

    @property
    def state(self) -> State:
        return state_of(self.context)

    def qualname(self, node: cst.CSTNode) -> str | None:
        """Canonical qualified name of a Name/Attribute/Call's callee, or None."""
        if isinstance(node, cst.Call):
            node = node.func
        try:
            names = self.get_metadata(QualifiedNameProvider, node, set())
        except KeyError:  # node created by an earlier rewrite in this pass
            names = set()
        for q in sorted(names, key=lambda q: q.name):
            return canonical(q.name)
        return None

    def imported_qualname(self, node: cst.CSTNode) -> str | None:
        """Like qualname, but only for names that come from an import (not a local called `tf`)."""
        try:
            names = self.get_metadata(QualifiedNameProvider, node, set())
        except KeyError:
            names = set()
        for q in sorted(names, key=lambda q: q.name):
            if q.source == QualifiedNameSource.IMPORT:
                return canonical(q.name)
        return None

    def todo(self, why: str) -> None:
        """Put `# TODO(tf2torch): why` above the statement being visited."""
        if self._pending:
            self._pending[-1].append(why)
        else:
            self.state.todos.append(why)  # outside any statement: reported, not placed

    def code(self, node: cst.CSTNode) -> str:
        return cst.Module([]).code_for_node(node)

    # statement bookkeeping for todo()
    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _STATEMENTS):
            self._pending.append([])
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        if isinstance(original_node, _STATEMENTS):
            whys = self._pending.pop()
            if whys:
                if isinstance(result, cst.FlattenSentinel):
                    nodes = list(result.nodes)
                    nodes[0] = with_todos(nodes[0], whys)
                    return cst.FlattenSentinel(nodes)
                if isinstance(result, cst.RemovalSentinel):
                    self.state.todos.extend(whys)
                    return result
                return with_todos(result, whys)
        return result

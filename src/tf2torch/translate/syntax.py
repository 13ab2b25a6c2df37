"""Name bookkeeping on LibCST trees shared by the translation steps (what a statement binds, reads...)."""
from __future__ import annotations

import libcst as cst

from ..names import to_identifier


def names_in_use(module: cst.Module) -> set[str]:
    """Every name the script binds or reads (attribute names after a dot excluded)."""
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    module.visit(Collect())
    return names


def assigned_names(node: cst.CSTNode) -> set[str]:
    """Names bound anywhere inside `node` (assignments, loops, defs, imports, parameters)."""
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_AssignTarget(self, n) -> None:
            names.update(target_names(n.target))

        def visit_AnnAssign(self, n) -> None:
            names.update(target_names(n.target))

        def visit_AugAssign(self, n) -> None:
            names.update(target_names(n.target))

        def visit_For(self, n) -> None:
            names.update(target_names(n.target))

        def visit_FunctionDef(self, n) -> None:
            names.add(n.name.value)

        def visit_ClassDef(self, n) -> None:
            names.add(n.name.value)

        def visit_Param(self, n) -> None:
            names.add(n.name.value)

        def visit_ImportAlias(self, n) -> None:
            target = n.asname.name if n.asname else n.name
            names.add(cst.Module([]).code_for_node(target).split(".")[0])

        def visit_AsName(self, n) -> None:
            names.update(target_names(n.name))

    node.visit(Collect())
    return names


def target_names(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in target_names(el.value)]
    return []


def used_names(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

    node.visit(Collect())
    return names


def free_uses(stmt) -> set[str]:
    """Names a statement reads from the enclosing scope (a function's own locals excluded)."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return used_names(stmt) - (assigned_names(stmt.body) | assigned_names(stmt.params if isinstance(stmt, cst.FunctionDef) else stmt.body))
    return used_names(stmt)


def camel(name: str, fallback: str = "Model") -> str:
    """snake_case (or anything) -> a CamelCase class name."""
    base = to_identifier(name, fallback=fallback)
    return "".join(p[:1].upper() + p[1:] for p in base.split("_") if p) or fallback

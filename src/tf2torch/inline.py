"""Source of functions/classes copied verbatim into generated files (model helpers, training runtime).

A package of such code keeps one topic per module; each public top-level function or class may use
only the standard library, torch (and numpy for the training runtime) and, by bare name, other
entries of the same package. `sources()` returns what was asked for plus what it calls, once each.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from types import ModuleType


def available(package: ModuleType) -> dict[str, object]:
    """name -> function/class over every module of `package`, in a stable order."""
    found: dict[str, object] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__ and not name.startswith("_"):
                if name in found:
                    raise ValueError(f"{package.__name__}: {name!r} defined twice")
                found[name] = obj
    return found


def sources(names, package: ModuleType) -> list[str]:
    """Sources of `names` and of the entries they use, in the package's order."""
    entries = available(package)
    todo, needed = list(names), set()
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        if name not in entries:
            raise KeyError(f"{package.__name__}: unknown entry {name!r}")
        needed.add(name)
        tree = ast.parse(textwrap.dedent(inspect.getsource(entries[name])))
        todo += [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in entries]
    order = list(entries)
    return [textwrap.dedent(inspect.getsource(entries[n])).strip() for n in sorted(needed, key=order.index)]

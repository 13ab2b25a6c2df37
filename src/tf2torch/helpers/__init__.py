"""Runtime helpers copied verbatim into generated model.py files, only when used.

One module per topic. A helper is a top-level function (or nn.Module class) whose source depends
only on torch, math and other helpers (by bare name): emit.py copies its source, and the sources of
the helpers it calls. Names must be unique across modules. Comments say where a semantic comes from.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil


def available() -> dict[str, object]:
    """name -> function/class, over every module of this package, in a stable order."""
    found: dict[str, object] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__ and not name.startswith("_"):
                if name in found:
                    raise ValueError(f"helper {name!r} defined twice")
                found[name] = obj
    return found

"""The converter registry: Keras class -> converter function, filled by decorators.

Each module under tf2torch/converters/ is one layer family; importing the package registers all
of them (discovery is automatic, so adding a layer touches only its family module and its test).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

SPATIAL = "spatial"  # wants channels-first inputs (conv, pool, ...): pulls feature maps channels-first
FOLLOW = "follow"  # works in whatever layout it is given (element-wise, axis-remapping layers)
KERAS = "keras"  # needs the Keras layout (sequence layers, ...)


@dataclass(frozen=True)
class Entry:
    cls: type
    fn: Callable
    layout: str
    family: str
    note: str


_REGISTRY: dict[type, Entry] = {}
_loaded = False


def register(*classes: type, layout: str = FOLLOW, note: str = ""):
    """Register `fn` as the converter of each class in `classes` (real classes, not names)."""
    if layout not in (SPATIAL, FOLLOW, KERAS):
        raise ValueError(f"unknown layout policy {layout!r}")

    def decorate(fn):
        family = fn.__module__.rsplit(".", 1)[-1]
        for cls in classes:
            if not isinstance(cls, type):
                raise TypeError(f"register() takes classes, got {cls!r}")
            if cls in _REGISTRY:
                other = _REGISTRY[cls].fn
                raise ValueError(f"{cls.__name__} registered twice: {other.__module__}.{other.__name__} and {fn.__module__}.{fn.__name__}")
            _REGISTRY[cls] = Entry(cls, fn, layout, family, note)
        return fn

    return decorate


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    from . import converters

    for info in sorted(pkgutil.iter_modules(converters.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{converters.__name__}.{info.name}")
    _loaded = True


def lookup(cls: type) -> Entry | None:
    load_all()
    return _REGISTRY.get(cls)


def entries() -> list[Entry]:
    load_all()
    return sorted(_REGISTRY.values(), key=lambda e: (e.family, e.cls.__name__))


def support_table() -> str:
    """The Markdown support table of docs/support.md, generated from the registry."""
    rows = ["| family | Keras class | notes |", "|---|---|---|"]
    for e in entries():
        rows.append(f"| {e.family} | `{public_name(e.cls)}` | {e.note} |")
    return "\n".join(rows) + "\n"


def public_name(cls: type) -> str:
    module = cls.__module__
    if module.startswith("keras.src.layers") or module.startswith("keras.src.models"):
        import keras

        # the exported name, which may differ from the class name (GroupedQueryAttention is
        # exported as keras.layers.GroupQueryAttention)
        exported = [n for n, v in vars(keras.layers).items() if v is cls]
        return f"keras.layers.{cls.__name__ if cls.__name__ in exported or not exported else exported[0]}"
    if module.startswith("keras.src.ops"):
        return f"keras.ops.{cls.__name__}"
    return f"{module}.{cls.__qualname__}"

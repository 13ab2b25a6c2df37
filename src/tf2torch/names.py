"""One sanitiser for every name that reaches generated code.

Names come from model files (untrusted): they become valid, unique Python identifiers that
shadow no keyword, builtin, module alias, inline helper or reserved local of the generated file.
Original names may appear only in string literals and docstrings, through `quoted()`.
"""
from __future__ import annotations

import builtins
import functools
import keyword
import re
import unicodedata

MAX_LENGTH = 64  # identifiers longer than this are cut (a 10k-character layer name stays readable)

RESERVED = frozenset(
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
    | {"torch", "nn", "F", "math", "np", "self", "super", "forward", "training", "inputs", "outputs",
       "Module", "Tensor"}
)


@functools.lru_cache(maxsize=None)
def helper_names() -> frozenset[str]:
    """Names of the functions and classes emit.py may copy inline into a generated file."""
    from . import helpers, inline

    return frozenset(inline.available(helpers))


def reserved() -> frozenset[str]:
    """Every name a generated file may already use at module level (RESERVED and inline helpers)."""
    return RESERVED | helper_names()


def to_identifier(raw: str, fallback: str = "layer") -> str:
    """Map any string to a plausible ASCII snake_case identifier (not yet unique, maybe reserved)."""
    text = str(raw)
    try:
        text = unicodedata.normalize("NFKD", text)
    except (ValueError, TypeError):  # pragma: no cover - defensive
        pass
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return text[:MAX_LENGTH].rstrip("_") or fallback


def is_safe(name: str) -> bool:
    """A valid ASCII identifier that is no keyword, reserved name or inline helper, no dunder."""
    return (isinstance(name, str) and name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
            and not keyword.issoftkeyword(name) and name not in reserved() and not name.startswith("__"))


def class_identifier(model_name: str, default: str = "Model") -> str:
    """A CamelCase class name for a model name: safe (is_safe) whatever the model is called."""
    if re.fullmatch(r"(sequential|functional|model)(_\d+)?", str(model_name)):  # Keras' default names
        return default
    base = to_identifier(model_name, fallback=default)
    camel = "".join(p[:1].upper() + p[1:] for p in base.split("_") if p)
    if not camel or not camel[0].isalpha():
        camel = default + camel
    if not is_safe(camel):
        camel = f"Converted{camel}"
    return camel if is_safe(camel) else default


def quoted(raw, limit: int = 200) -> str:
    """`raw` as a Python string literal safe in any docstring or comment: printable, no newline,
    no NUL, no quote that could close the text around it; cut after `limit` characters."""
    text = str(raw)
    cut = len(text) > limit
    text = repr(text[:limit])  # escapes backslashes, quotes, every non-printable: NUL, surrogates, U+2028...
    return text + ("..." if cut else "")


class Namespace:
    """Hands out unique identifiers; the same key always gets the same name."""

    def __init__(self, reserved: frozenset[str] | set[str] | None = None):
        self._reserved = set(reserved if reserved is not None else RESERVED | helper_names())
        self._used: set[str] = set()
        self._by_key: dict[object, str] = {}

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def name(self, raw: str, key: object = None, fallback: str = "layer") -> str:
        if key is not None and key in self._by_key:
            return self._by_key[key]
        base = to_identifier(raw, fallback)
        if base in self._reserved or base.startswith("__"):
            base = f"{base.strip('_') or fallback}_"
        candidate, i = base, 1
        while candidate in self._used or candidate in self._reserved or not candidate.isidentifier() or keyword.iskeyword(candidate):
            candidate = f"{base}_{i}"
            i += 1
        self._used.add(candidate)
        if key is not None:
            self._by_key[key] = candidate
        return candidate

"""One sanitiser for every name that reaches generated code.

Names come from model files (untrusted): they become valid, unique Python identifiers that
shadow no keyword, builtin, module alias or reserved local of the generated file.
"""
from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

RESERVED = frozenset(
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
    | {"torch", "nn", "F", "math", "self", "super", "forward", "training", "inputs", "outputs"}
)


def to_identifier(raw: str, fallback: str = "layer") -> str:
    """Map any string to a plausible snake_case identifier (not yet unique)."""
    text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^0-9a-zA-Z_]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return text


class Namespace:
    """Hands out unique identifiers; the same key always gets the same name."""

    def __init__(self, reserved: frozenset[str] | set[str] = RESERVED):
        self._reserved = set(reserved)
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
        while candidate in self._used or candidate in self._reserved:
            candidate = f"{base}_{i}"
            i += 1
        self._used.add(candidate)
        if key is not None:
            self._by_key[key] = candidate
        return candidate

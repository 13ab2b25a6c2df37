"""Errors are values with kinds: every problem found is collected, then reported together."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unsupported:
    """One thing tf2torch cannot convert (yet), with where it is and what to do about it."""

    kind: str  # "layer", "config", "op", "input", "unsafe"
    where: str  # Keras layer name (or file)
    why: str
    hint: str = ""

    def __str__(self) -> str:
        # names come from files: a newline or a terminal escape in one must not forge output lines
        where = self.where if self.where.isprintable() and len(self.where) <= 200 else ascii(self.where[:200])
        text = f"{where}: {self.why}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class Tf2TorchError(Exception):
    """Base class of every error the CLI reports as one line (exit 1)."""


class UnsupportedError(Tf2TorchError):
    """Raised by a converter for one node; collected by the pipeline."""

    def __init__(self, why: str, hint: str = "", kind: str = "config"):
        super().__init__(why)
        self.why, self.hint, self.kind = why, hint, kind


class ConversionError(Tf2TorchError):
    """The model cannot be converted: lists every problem, not just the first."""

    def __init__(self, problems: list[Unsupported]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) prevent conversion:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class InputError(Tf2TorchError):
    """The user's input (path, file, model object) is not usable."""


class VerificationError(Tf2TorchError):
    """The converted module does not reproduce Keras within tolerance."""

    def __init__(self, message: str, conversion=None):
        super().__init__(message)
        self.conversion = conversion

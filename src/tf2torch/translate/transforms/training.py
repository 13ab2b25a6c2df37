"""Placeholder: this transformation is being written."""
from __future__ import annotations

from ..base import Transform


class Nothing(Transform):
    DESCRIPTION = "not written yet"


TRANSFORM = Nothing

"""Last step: mark every remaining TensorFlow/Keras reference with a TODO (never dropped, never guessed)."""
from __future__ import annotations

import libcst as cst

from ..base import Transform
from ..qualnames import is_tensorflow


class MarkLeftovers(Transform):
    DESCRIPTION = "TODO on TensorFlow/Keras code no transformation translated"

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    def _mark(self, node) -> bool:
        name = self.qualname(node)
        if name and is_tensorflow(name):
            self.todo(f"no PyTorch translation for `{self.code(node)}` ({name}): kept as is")
            return False  # the outermost reference is enough
        return True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._mark(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._mark(node)


TRANSFORM = MarkLeftovers

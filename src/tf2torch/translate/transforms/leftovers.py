"""Last step: mark every remaining TensorFlow/Keras reference with a TODO (never dropped, never guessed)."""
from __future__ import annotations

import libcst as cst

from ..base import _STATEMENTS, TODO_PREFIX, Transform
from ..qualnames import is_tensorflow


# keras.Model methods and attributes that a torch nn.Module does not have (or has with another meaning)
KERAS_MODEL_API = frozenset({
    "compile", "fit", "evaluate", "predict", "predict_on_batch", "train_on_batch", "test_on_batch", "summary",
    "save", "save_weights", "load_weights", "get_weights", "set_weights", "get_layer", "layers", "trainable_variables",
    "trainable_weights", "non_trainable_weights", "weights", "variables", "optimizer", "loss", "metrics", "history",
    "count_params", "to_json", "export", "input_shape", "output_shape", "inputs", "outputs", "build", "call",
    "make_train_function", "stop_training", "compute_loss", "reset_states",
})


class MarkLeftovers(Transform):
    DESCRIPTION = "TODO on TensorFlow/Keras code no transformation translated"

    def __init__(self, context):
        super().__init__(context)
        self._explained: list[bool] = []
        self._assigned: set[tuple[str, str]] = set()  # (variable, attribute) the script assigns itself

    def visit_Module(self, node: cst.Module) -> None:
        class Assigned(cst.CSTVisitor):
            def __init__(self, found):
                self.found = found

            def visit_AssignTarget(self, target: cst.AssignTarget) -> None:
                t = target.target
                if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name):
                    self.found.add((t.value.value, t.attr.value))

        node.visit(Assigned(self._assigned))

    def visit_Import(self, node) -> bool:
        return False

    def visit_ImportFrom(self, node) -> bool:
        return False

    def on_visit(self, node) -> bool:
        if isinstance(node, _STATEMENTS):  # a step already explained this statement: no generic TODO
            self._explained.append(any(line.comment and TODO_PREFIX in line.comment.value for line in node.leading_lines))
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):
        if isinstance(original_node, _STATEMENTS):
            self._explained.pop()
        return super().on_leave(original_node, updated_node)

    def _mark(self, node) -> bool:
        name = self.imported_qualname(node)
        if name and is_tensorflow(name):
            if self._explained and self._explained[-1]:
                return False
            self.todo(f"no PyTorch translation for `{self.code(node)}` ({name}): kept as is")
            return False  # the outermost reference is enough
        return True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if (isinstance(node.value, cst.Name) and node.value.value in self.state.models and node.attr.value in KERAS_MODEL_API
                and (node.value.value, node.attr.value) not in self._assigned):
            self.todo(f"`{self.code(node)}` is Keras Model API; `{node.value.value}` is now a torch nn.Module")
            return False
        return self._mark(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._mark(node)


TRANSFORM = MarkLeftovers

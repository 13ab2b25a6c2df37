"""Last step: mark every remaining TensorFlow/Keras reference with a TODO (never dropped, never guessed)."""
from __future__ import annotations

import libcst as cst

from ..base import Transform
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
        if isinstance(node.value, cst.Name) and node.value.value in self.state.models and node.attr.value in KERAS_MODEL_API:
            self.todo(f"`{self.code(node)}` is Keras Model API; `{node.value.value}` is now a torch nn.Module")
            return False
        return self._mark(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._mark(node)


TRANSFORM = MarkLeftovers

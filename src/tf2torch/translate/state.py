"""What the transformations of one translation share: TODOs, notes, imports and runtime to add,
and what is known about the script's models."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelInfo:
    """A model variable of the script, as the training transformations need to know it."""

    variable: str  # name the script binds the model to
    class_name: str  # generated nn.Module class
    input_permutations: list[tuple[int, ...]] = field(default_factory=list)  # torch = keras.transpose(perm)
    output_permutations: list[tuple[int, ...]] = field(default_factory=list)
    output_activation: str | None = None  # Keras activation of the (single) output: "softmax", "sigmoid", ...
    keras_source: object = None  # the Keras model rebuilt statically (for parity checks), if any


@dataclass
class State:
    todos: list[str] = field(default_factory=list)  # why, in order of appearance (lines come from the output)
    notes: list[str] = field(default_factory=list)  # what was translated, one line each
    imports: set[str] = field(default_factory=set)  # import lines to add, e.g. "import torch"
    runtime: set[str] = field(default_factory=set)  # names from translate.runtime to emit inline
    classes: list[str] = field(default_factory=list)  # generated class sources, emitted after the runtime
    models: dict[str, ModelInfo] = field(default_factory=dict)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def use(self, *names: str) -> None:
        """Ask for runtime entries (functions/classes of tf2torch.translate.runtime) to be emitted."""
        self.runtime.update(names)

    def need(self, *import_lines: str) -> None:
        self.imports.update(import_lines)

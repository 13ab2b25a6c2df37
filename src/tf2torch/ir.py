"""The graph IR shared by every front-end (Keras 3, Keras 2 files) and the converters.

A Graph is a list of Nodes in topological order. A Node is one call of one Keras operation
(a layer called twice gives two nodes sharing one Layer). Tensors carry the Keras shape and dtype;
how each tensor is laid out in torch is decided later (see layout.py), never here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TensorInfo:
    id: int
    shape: tuple  # Keras shape, batch first; None for unknown dims
    dtype: str  # numpy dtype name: "float32", "int32", ...
    producer: int | None = None  # node index, None for graph inputs
    name: str = ""  # Keras name for graph inputs/outputs
    value_range: tuple[float, float] | None = None  # hint for verification inputs (ids...)
    padding: float | None = None  # hint: the value that pads sequences (a Keras mask reads it)

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class TensorRef:
    """Placeholder for a graph tensor inside a node's call arguments."""

    id: int


@dataclass
class Layer:
    """One Keras operation object: its class (a Keras 3 class), config and weights."""

    name: str
    cls: type
    config: dict[str, Any]
    # (path relative to the layer, value): an array, or a function returning one (front-ends pass the
    # Keras variable's .numpy, so no copy of the model's weights is held while converting)
    weights: list[tuple[str, Any]] = field(default_factory=list)
    origin: str = "keras3"  # "keras3" or "keras2": which semantics the file was written with

    def weight(self, name: str) -> np.ndarray:
        """Find a weight by its trailing path components ("kernel", "forward_lstm/bias")."""
        parts = name.split("/")
        found = [v for path, v in self.weights if path.split("/")[-len(parts):] == parts]
        if len(found) != 1:
            have = ", ".join(p for p, _ in self.weights) or "none"
            raise KeyError(f"layer {self.name!r}: weight {name!r} not found exactly once (has: {have})")
        return np.asarray(found[0]() if callable(found[0]) else found[0])

    def has_weight(self, name: str) -> bool:
        parts = name.split("/")
        return any(path.split("/")[-len(parts):] == parts for path, _ in self.weights)


def is_mask_argument(name: str) -> bool:
    """A Keras call parameter that takes a mask: `mask`, or `<argument>_mask` (query_mask...)."""
    return name == "mask" or name.endswith("_mask")


@dataclass
class Node:
    index: int
    layer: Layer
    inputs: list[int]  # tensor ids, in the order they appear in (args, kwargs)
    outputs: list[int]
    args: tuple = ()  # call args with TensorRef placeholders (constants kept as values)
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Keras masks the layer may read without them being call arguments (`_keras_mask` of its input
    # tensors, read by MultiHeadAttention, Multiply, ... or auto-filled as `mask=` at run time):
    # input tensor id -> id of its mask tensor (bool, the input's shape without the feature axis)
    masks: dict[int, int] = field(default_factory=dict)

    def mask_arguments(self) -> dict[str, TensorRef]:
        """The masks passed to the call as arguments (`mask=`, `query_mask=`...) that are graph tensors."""
        return {k: v for k, v in self.kwargs.items() if is_mask_argument(k) and isinstance(v, TensorRef)}


@dataclass
class Graph:
    name: str
    tensors: dict[int, TensorInfo]
    nodes: list[Node]
    inputs: list[int]
    outputs: list[int]
    source: Any = None  # the live Keras model, used only by the verifier

    def consumers(self, tensor_id: int) -> list[Node]:
        return [n for n in self.nodes if tensor_id in n.inputs]

    def layers(self) -> list[Layer]:
        seen, out = set(), []
        for node in self.nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                out.append(node.layer)
        return out

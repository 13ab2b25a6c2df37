"""What a converter sees of the graph: its node, the inputs' shapes and layouts, the weights."""
from __future__ import annotations

import inspect
from functools import cached_property
from typing import Any

import numpy as np

from . import fragment as fr
from .errors import UnsupportedError
from .ir import Graph, Node, TensorInfo, TensorRef, is_mask_argument
from .layout import Layout, compose_to, inverse
from .registry import FOLLOW, SPATIAL, lookup


class LayoutPlanner:
    """Decides which tensors should be channels-first: those a spatial layer reads downstream."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._memo: dict[int, bool] = {}
        self._consumers: dict[int, list[Node]] = {}
        for node in graph.nodes:
            for t in node.inputs:
                self._consumers.setdefault(t, []).append(node)

    def consumers(self, tensor_id: int) -> list[Node]:
        return self._consumers.get(tensor_id, [])

    def wants_channels_first(self, tensor_id: int) -> bool:
        if tensor_id in self._memo:
            return self._memo[tensor_id]
        self._memo[tensor_id] = False  # cycles cannot happen, but stay safe
        result = False
        if self.graph.tensors[tensor_id].rank >= 3:
            for node in self.consumers(tensor_id):
                entry = lookup(node.layer.cls)
                policy = entry.layout if entry else FOLLOW
                if policy == SPATIAL or (policy == FOLLOW and any(self.wants_channels_first(o) for o in node.outputs)):
                    result = True
                    break
        self._memo[tensor_id] = result
        return result

    def preferred(self, tensor_id: int) -> Layout:
        rank = self.graph.tensors[tensor_id].rank
        return Layout.channels_first(rank) if self.wants_channels_first(tensor_id) else Layout.keras(rank)


def convert_layout(expr: fr.Expr, src: Layout, dst: Layout) -> fr.Expr:
    """Expression turning `expr` (in layout src) into layout dst: the only place permutes are made."""
    if src == dst:
        return expr
    if src.flat is not None:
        # back to Keras feature order: unflatten to the torch feature map, permute to Keras, flatten
        order = tuple(i + 1 for i in inverse(src.flat.perm))
        expr = expr.method("unflatten", 1, src.flat.torch_shape).method("permute", 0, *order).method("flatten", 1)
        src = Layout.keras(src.rank)
        if src == dst:
            return expr
    if dst.flat is not None:
        raise ValueError("cannot produce a flattened layout on demand")
    dims = compose_to(src, dst)
    moved = [i for i, d in enumerate(dims) if i != d]
    if len(moved) == 2:  # a single swap reads better as transpose
        return expr.method("transpose", *moved)
    return expr.method("permute", *dims)


class NodeContext:
    def __init__(self, graph: Graph, node: Node, in_layouts: list[Layout], planner: LayoutPlanner, training: bool = False):
        self.graph = graph
        # False: the module reproduces Keras' inference (tf2torch convert); True: it will be trained
        # (tf2torch translate), so layers that act only in training must act in torch's train mode
        self.training = training
        self.node = node
        self.layer = node.layer
        self.config: dict[str, Any] = node.layer.config
        self.in_layouts = in_layouts
        self._planner = planner
        self.mask_handled = False  # set by mask()/input_mask()/ignore_mask(); program.py checks it

    # --- identity ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def origin(self) -> str:
        return self.layer.origin

    # --- tensors ----------------------------------------------------------------------------
    @cached_property
    def inputs(self) -> list[TensorInfo]:
        return [self.graph.tensors[t] for t in self.node.inputs]

    @cached_property
    def outputs(self) -> list[TensorInfo]:
        return [self.graph.tensors[t] for t in self.node.outputs]

    def in_shape(self, i: int = 0) -> tuple:
        return self.inputs[i].shape

    def out_shape(self, i: int = 0) -> tuple:
        return self.outputs[i].shape

    def in_rank(self, i: int = 0) -> int:
        return self.inputs[i].rank

    def input(self, i: int = 0, layout: Layout | None = None) -> fr.Expr:
        """Input i, converted to `layout` if given (a permute is inserted only if needed)."""
        expr = fr.Input(i)
        return expr if layout is None else convert_layout(expr, self.in_layouts[i], layout)

    def input_channels_first(self, i: int = 0) -> fr.Expr:
        return self.input(i, Layout.channels_first(self.in_rank(i)))

    def input_keras(self, i: int = 0) -> fr.Expr:
        return self.input(i, Layout.keras(self.in_rank(i)))

    def input_unflattened(self, i: int = 0) -> tuple[fr.Expr, Layout]:
        """Input i in its own layout, unless it is a reordered flat tensor (then Keras order)."""
        layout = self.in_layouts[i]
        if layout.flat is None:
            return fr.Input(i), layout
        keras = Layout.keras(layout.rank)
        return convert_layout(fr.Input(i), layout, keras), keras

    def wants_channels_first(self, out_index: int = 0) -> bool:
        return self._planner.wants_channels_first(self.node.outputs[out_index])

    def hint_value_range(self, i: int, low: float, high: float) -> None:
        """Tell verification which values input i may take (e.g. ids below an Embedding's input_dim).

        Only graph inputs use it; the narrowest range wins when several consumers hint.
        """
        info = self.inputs[i]
        if info.value_range is None:
            info.value_range = (low, high)
        else:
            info.value_range = (max(info.value_range[0], low), min(info.value_range[1], high))

    def hint_padding(self, i: int, value: float) -> None:
        """Tell verification that input i's sequences are padded with `value` (a Keras mask reads it),
        so that it feeds pre- and post-padded rows. Only graph inputs use it."""
        self.inputs[i].padding = value

    # --- Keras masks ------------------------------------------------------------------------
    def input_mask(self, i: int = 0) -> fr.Expr | None:
        """The Keras mask carried by input i (`_keras_mask`, see ir.Node.masks), bool in Keras layout
        (batch, time, ...), or None. Reading it tells tf2torch that this converter honours masks."""
        self.mask_handled = True
        mask = self.node.masks.get(self.node.inputs[i]) if i < len(self.node.inputs) else None
        return None if mask is None else fr.GraphTensor(mask)

    def mask(self, argument: str = "mask", i: int = 0) -> fr.Expr | None:
        """The mask Keras' `call` receives as `argument`: the one passed explicitly if any, else the
        Keras mask of input i (what Layer.__call__ fills in, keras/src/layers/layer.py step 6)."""
        self.mask_handled = True
        given = self.call_argument(argument)
        if isinstance(given, TensorRef):
            return fr.GraphTensor(given.id)
        if given is not None:
            raise self.unsupported(f"a {argument}= that is not one tensor of the graph is not supported")
        if argument == "mask" and self._tensor_arguments() > 1:  # Keras fills mask= in only for one tensor argument
            return None
        return self.input_mask(i)

    def _tensor_arguments(self) -> int:
        def has_tensor(value) -> bool:
            if isinstance(value, TensorRef):
                return True
            if isinstance(value, (list, tuple)):
                return any(has_tensor(v) for v in value)
            if isinstance(value, dict):
                return any(has_tensor(v) for v in value.values())
            return False

        named = [v for k, v in self.node.kwargs.items() if not is_mask_argument(k)]
        return sum(has_tensor(v) for v in list(self.node.args) + named)

    # --- call arguments ---------------------------------------------------------------------
    def call_arguments(self) -> dict[str, Any]:
        """The Keras call's arguments by parameter name, positional ones included (tensors as
        TensorRef placeholders); only those the call was given."""
        try:
            signature = inspect.signature(self.layer.cls.call)
            bound = signature.bind(None, *self.node.args, **self.node.kwargs)
        except (TypeError, ValueError):  # a call Keras' signature does not describe (**kwargs...)
            return dict(self.node.kwargs)
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(arguments)), None)  # self
        for name, param in signature.parameters.items():
            if param.kind is inspect.Parameter.VAR_KEYWORD and name in arguments:
                arguments.update(arguments.pop(name))
        return arguments

    def call_argument(self, name: str, default=None):
        return self.call_arguments().get(name, default)

    def ignore_mask(self) -> None:
        """Declare that Keras itself does not let the mask change this layer's values here
        (e.g. BatchNormalization at inference); say why in a comment at the call."""
        self.mask_handled = True

    def has_mask(self) -> bool:
        """Whether Keras may hand this node a mask (explicit *mask argument or masked input)."""
        return bool(self.node.mask_arguments()) or bool(self.node.masks)

    # --- weights ----------------------------------------------------------------------------
    def weight(self, name: str) -> np.ndarray:
        return self.layer.weight(name)

    def has_weight(self, name: str) -> bool:
        return self.layer.has_weight(name)

    # --- failure ----------------------------------------------------------------------------
    def unsupported(self, why: str, hint: str = "") -> UnsupportedError:
        return UnsupportedError(why, hint)

    def get(self, key: str, default=None):
        return self.config.get(key, default)

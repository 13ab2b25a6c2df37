"""Wrappers: TimeDistributed around any supported layer, converted by that layer's own converter.

keras/src/layers/rnn/time_distributed.py (Keras 3.15.1) calls the wrapped layer on each time step
`inputs[:, i]` (a Python loop, or vectorized_map when the time axis is unknown) and stacks the
results on axis 1; its weights are the wrapped layer's (paths "td/dense/kernel"). Here the time
axis is folded into the batch, `(N, T, ...) -> (N*T, ...)`, the wrapped layer's converter runs on
a one-node graph that sees that folded tensor, and its result is unfolded again. Layers that act on
each position of the last axis alone (Dense, activations) are converted on the unfolded input
directly: `nn.Linear` already maps over every leading axis.

Masks (TimeDistributed.call): the wrapped layer gets `mask[:, i]` only if its own `call` takes a
`mask` argument (`_call_has_mask_arg`); any other layer ignores the mask, and so does this.
"""
from __future__ import annotations

import inspect

import keras

from .. import fragment as fr
from ..context import LayoutPlanner, NodeContext, convert_layout
from ..errors import UnsupportedError
from ..ir import Graph, Layer, Node, TensorInfo, TensorRef
from ..layout import Layout
from ..registry import KERAS, lookup, register

# Layers that compute each position of the last axis from that position alone: applying them to
# (N, T, ...) is applying them to every time step, with no fold (Dense on a rank-3 input is
# keras' own TimeDistributed(Dense) equivalent, keras/src/layers/core/dense.py).
_PER_POSITION = (keras.layers.Dense, keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU,
                 keras.layers.ELU, keras.layers.Dropout)



def inner_class_and_config(ctx) -> tuple[type, dict]:
    """The wrapped layer's Keras 3 class and config (from the serialised `layer` entry)."""
    spec = ctx.get("layer")
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ctx.unsupported("TimeDistributed without a serialised inner layer")
    try:
        cls = type(keras.layers.deserialize(spec))
    except Exception:  # a Keras 2 spec without "module": the class by its public name
        cls = getattr(keras.layers, str(spec.get("class_name")), None)
        if not isinstance(cls, type):
            raise ctx.unsupported(f"wrapped layer {spec.get('class_name')!r} is not a Keras layer")
    return cls, dict(spec["config"])


def takes_mask(cls: type) -> bool:
    """Keras' Layer._call_has_mask_arg: whether the wrapped layer's call receives the mask."""
    try:
        return "mask" in inspect.signature(cls.call).parameters
    except (TypeError, ValueError):
        return False


@register(keras.layers.TimeDistributed, layout=KERAS,
          note="any supported layer: time folded into the batch (N*T, ...) and the layer's own conversion; "
               "Dense and activations on the unfolded input (nn.Linear maps over leading axes); "
               "the mask reaches the wrapped layer only if its call takes one (as in Keras)")
def convert_time_distributed(ctx) -> fr.Fragment:
    cls, config = inner_class_and_config(ctx)
    entry = lookup(cls)
    if entry is None:
        hint = ("wrap each layer in its own TimeDistributed" if issubclass(cls, keras.Model)
                else "see docs/support.md for supported layers")
        raise ctx.unsupported(f"TimeDistributed({cls.__name__}): {cls.__name__} is not supported", hint)
    if len(ctx.outputs) != 1 or ctx.in_rank(0) < 3:
        raise ctx.unsupported("TimeDistributed expects one (batch, time, ...) input and one output")
    layer = Layer(ctx.name, cls, config, ctx.layer.weights, ctx.origin)  # modules keep the wrapper's name

    mask = None
    if takes_mask(cls):
        mask = ctx.mask()
    else:
        ctx.ignore_mask()  # Keras does not pass the mask to a layer whose call takes none

    if cls is keras.layers.Flatten and config.get("data_format", "channels_last") != "channels_first" and mask is None:
        # each step flattened in Keras order: the features of every (batch, time) position
        return fr.Fragment([ctx.input_keras(0).method("flatten", 2)], [Layout.keras(3)],
                           description="TimeDistributed(Flatten): x.flatten(2)")
    kwargs = {k: v for k, v in ctx.node.kwargs.items() if k == "training" and isinstance(v, bool)}
    if issubclass(cls, _PER_POSITION) and mask is None:
        return _run_inner(ctx, entry, layer, ctx.in_shape(0), ctx.in_layouts[0], ctx.out_shape(0), kwargs, None,
                          fold=False)
    return _run_inner(ctx, entry, layer, ctx.in_shape(0), ctx.in_layouts[0], ctx.out_shape(0), kwargs, mask,
                      fold=True)


def _run_inner(ctx, entry, layer: Layer, in_shape: tuple, in_layout: Layout, out_shape: tuple, kwargs: dict,
               mask: fr.Expr | None, fold: bool) -> fr.Fragment:
    """The wrapped layer's fragment on a one-node graph, re-embedded in the wrapper's node."""
    steps: list = []
    if fold:
        x, in_layout = _time_second(ctx, in_layout)
        inner_in_shape = (None,) + tuple(in_shape[2:])
        inner_out_shape = (None,) + tuple(out_shape[2:])
        inner_in_layout = Layout((0,) + tuple(p - 1 for p in in_layout.perm[2:]))
        folded: fr.Expr = x.method("flatten", 0, 1)
    else:
        x, inner_in_shape, inner_out_shape, inner_in_layout = fr.Input(0), in_shape, out_shape, in_layout
        folded = x

    tensors = {0: TensorInfo(0, inner_in_shape, ctx.inputs[0].dtype),
               1: TensorInfo(1, inner_out_shape, ctx.outputs[0].dtype, producer=0)}
    masks = {}
    if mask is not None:
        mask_shape = ctx.graph.tensors[mask.id].shape if isinstance(mask, fr.GraphTensor) else (None, None)
        tensors[2] = TensorInfo(2, (None,) + tuple(mask_shape[2:]), "bool")
        masks = {0: 2}
    node = Node(0, layer, [0], [1], (TensorRef(0),), kwargs, masks)
    graph = Graph(ctx.name, tensors, [node], [0], [1], source=ctx.graph.source)
    inner = NodeContext(graph, node, [inner_in_layout], LayoutPlanner(graph), ctx.training)
    try:
        frag = entry.fn(inner)
    except UnsupportedError as exc:
        raise ctx.unsupported(f"TimeDistributed({layer.cls.__name__}): {exc.why}", exc.hint) from None
    if mask is not None and not inner.mask_handled:
        raise ctx.unsupported(f"TimeDistributed({layer.cls.__name__}): Keras passes it the mask, "
                              "which its converter ignores", "remove the mask, or open an issue with the model")
    info = tensors[0]  # hints the wrapped converter gave (ids below input_dim, padding value)
    if info.value_range is not None:
        ctx.hint_value_range(0, *info.value_range)
    if info.padding is not None:
        ctx.hint_padding(0, info.padding)

    uses = _count_inputs(frag)
    if fold and uses > 1:  # fold once, into a variable, when the wrapped conversion reads it twice
        steps.append((fr.Local("folded"), folded))
        folded = fr.Local("folded")
    folded_mask = None if mask is None else mask.method("flatten", 0, 1)

    def leaf(e):
        if isinstance(e, fr.Input):
            return folded
        if isinstance(e, fr.GraphTensor):
            if e.id != 2 or folded_mask is None:
                raise AssertionError(f"wrapped converter read graph tensor {e.id}")
            return folded_mask
        return e

    for target, expr in frag.steps:
        steps.append((target, fr.map_expr(expr, leaf)))
    y = fr.map_expr(frag.outputs[0], leaf)
    out_layout = frag.out_layouts[0]
    description = f"TimeDistributed: {frag.description}" if frag.description else ""
    if fold:
        if out_layout.flat is not None or out_layout.perm[0] != 0:  # a flat feature order, batch moved
            keras_layout = Layout.keras(out_layout.rank)
            y, out_layout = convert_layout(y, out_layout, keras_layout), keras_layout
        y = y.method("unflatten", 0, (-1, _time_size(ctx)))
        out_layout = Layout((0, 1) + tuple(p + 1 for p in out_layout.perm[1:]))
    return fr.Fragment([y], [out_layout], modules=frag.modules, buffers=frag.buffers, steps=steps,
                       description=description, warnings=frag.warnings)


def _time_second(ctx, layout: Layout) -> tuple[fr.Expr, Layout]:
    """Input 0 with batch and time as its first two torch dims (any order of the others)."""
    if layout.flat is None and layout.perm[:2] == (0, 1):
        return fr.Input(0), layout
    keras_layout = Layout.keras(ctx.in_rank(0))
    return ctx.input(0, keras_layout), keras_layout


def _time_size(ctx) -> fr.Expr | int:
    """T for unflatten: static when Keras knows it, else read from the input at run time."""
    steps = ctx.in_shape(0)[1]
    if steps is not None:
        return int(steps)
    return fr.Input(0).attr("shape")[ctx.in_layouts[0].torch_axis(1)]


def _count_inputs(frag: fr.Fragment) -> int:
    count = 0

    def leaf(e):
        nonlocal count
        if isinstance(e, fr.Input):
            count += 1
        return e

    for _, expr in frag.steps:
        fr.map_expr(expr, leaf)
    for out in frag.outputs:
        fr.map_expr(out, leaf)
    return count

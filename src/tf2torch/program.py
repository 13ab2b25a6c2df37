"""Assemble converter fragments into a Program: named submodules, forward statements, outputs.

This is where Keras names become identifiers (through one Namespace), where layouts at the model
boundary are decided, and where every unsupported node is collected before failing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch.nn

from . import fragment as fr
from .context import LayoutPlanner, NodeContext, convert_layout
from .errors import ConversionError, InputError, Unsupported, UnsupportedError
from .ir import Graph, Layer
from .layout import Layout
from .names import Namespace, is_safe, reserved
from .registry import lookup


@dataclass
class Submodule:
    attr: str
    ctor: fr.Call
    params: dict[str, fr.Param]
    layer: Layer


@dataclass
class BufferDef:
    attr: str
    buffer: fr.Buffer
    layer: Layer


@dataclass
class BoundaryTensor:
    name: str  # Keras name
    arg: str  # identifier in generated code (inputs only)
    keras_shape: tuple
    dtype: str
    layout: Layout
    value_range: tuple | None = None
    padding: float | None = None


@dataclass
class Program:
    class_name: str
    model_name: str
    submodules: list[Submodule] = field(default_factory=list)
    buffers: list[BufferDef] = field(default_factory=list)
    inputs: list[BoundaryTensor] = field(default_factory=list)
    outputs: list[BoundaryTensor] = field(default_factory=list)
    statements: list[tuple[object, fr.Expr]] = field(default_factory=list)
    returns: list[fr.Expr] = field(default_factory=list)
    layer_records: list[dict] = field(default_factory=list)
    init_args: list[str] = field(default_factory=list)  # __init__ parameters (translated scripts only)
    warnings: list[str] = field(default_factory=list)


_MODULE_ATTRS = frozenset(n for n in dir(torch.nn.Module) if not n.startswith("__"))


class _Substitute:
    """Replace a fragment's Input/SelfAttr/Local placeholders by concrete references."""

    def __init__(self, inputs: list[fr.Expr], attrs: dict[str, str], locals_: dict[str, str], tensors=None):
        self.inputs, self.attrs, self.locals = inputs, attrs, locals_
        self.tensors = tensors  # GraphTensor id -> expression in Keras layout

    def __call__(self, e):
        return fr.map_expr(e, self._leaf)

    def _leaf(self, e):
        if isinstance(e, fr.Input):
            return self.inputs[e.index]
        if isinstance(e, fr.GraphTensor):
            return self.tensors(e.id)
        if isinstance(e, fr.SelfAttr):
            return fr.Ref(f"self.{self.attrs[e.key]}")
        if isinstance(e, fr.Local):
            return fr.Ref(self.locals[e.key])
        return e


def _locals_in(target) -> list[fr.Local]:
    if isinstance(target, fr.Local):
        return [target]
    if isinstance(target, (tuple, list)):
        return [l for t in target for l in _locals_in(t)]
    return []


def _bind_target(target, locals_: dict[str, str]):
    if isinstance(target, fr.Local):
        return locals_[target.key]
    if target is None:
        return "_"
    return tuple(_bind_target(t, locals_) for t in target)


def build_program(graph: Graph, class_name: str, input_layout: str = "torch", training: bool = False) -> Program:
    planner = LayoutPlanner(graph)
    prog = Program(class_name=class_name, model_name=graph.name)
    if not is_safe(class_name):  # `class None`, or a class that hides torch, a builtin or an inline helper
        raise InputError(f"class name {class_name!r} is not a valid Python identifier or is a name the generated "
                         "file needs (keyword, builtin, torch, nn, F, math, an inline helper); choose another")
    taken = reserved() | {class_name}  # inline helpers included: a local must not hide one forward calls
    attrs = Namespace(taken | _MODULE_ATTRS)
    local_names = Namespace(taken)
    problems: list[Unsupported] = []
    by_message: dict[str, list[str]] = {}  # warning -> the layers it concerns

    # liveness: index of the last node reading each tensor (graph outputs live to the end)
    end = len(graph.nodes)
    last_use: dict[int, int] = {}
    for node in graph.nodes:
        for t in list(node.inputs) + list(node.masks.values()):
            last_use[t] = node.index
    for t in graph.outputs:
        last_use[t] = end

    masks = _mask_tensors(graph)
    expr_of: dict[int, fr.Expr] = {}
    layout_of: dict[int, Layout] = {}
    bound: dict[str, set[int]] = {}  # variable -> tensors it currently holds

    # ---- inputs ---------------------------------------------------------------------------
    single = len(graph.inputs) == 1
    for t in graph.inputs:
        info = graph.tensors[t]
        arg = local_names.name("x" if single else info.name, fallback="input")
        wanted = planner.preferred(t)
        boundary = wanted if input_layout == "torch" else Layout.keras(info.rank)
        prog.inputs.append(BoundaryTensor(info.name, arg, info.shape, info.dtype, boundary, info.value_range))
        expr_of[t], layout_of[t] = fr.Ref(arg), boundary
        bound.setdefault(arg, set()).add(t)
        if boundary != wanted:
            prog.statements.append((arg, convert_layout(fr.Ref(arg), boundary, wanted)))
            layout_of[t] = wanted
        elif wanted.is_channels_first and info.rank in (4, 5) and (info.shape[-1] or 0) > 1:
            # same values, channels-last memory: oneDNN/cuDNN convolutions run 1.5-4x faster on it
            # (measured on the zoo at batch 8, CPU); every conv after it keeps that memory format.
            # Not for one channel: such a tensor is both contiguous and channels-last, and torch
            # 2.13's CPU convolution then wrote garbage for a (1, 5) kernel, stride (1, 2), on 5x5
            memory = "channels_last" if info.rank == 4 else "channels_last_3d"
            prog.statements.append((arg, fr.Ref(arg).method("contiguous", memory_format=fr.torch.attr(memory))))

    chain = "x"
    local_names.reserve(chain)
    arg_names = {b.arg for b in prog.inputs}
    # names of side chains, reused once their tensor is dead: a tensor held by a name nobody
    # rebinds lives until forward returns (MobileNetV2 at batch 8 kept every branch's activations,
    # and ran 1.6x slower for it)
    side_chains = [v for v in ("y", "z") if v not in arg_names]
    for v in side_chains:
        local_names.reserve(v)

    def free(var: str, at: int) -> bool:
        return all(last_use.get(t, -1) <= at for t in bound.get(var, ()))

    # ---- nodes ----------------------------------------------------------------------------
    for node in graph.nodes:
        layer = node.layer
        entry = lookup(layer.cls)
        record = {"name": layer.name, "class": layer.cls.__name__}
        if entry is None:
            problems.append(Unsupported("layer", layer.name, f"{layer.cls.__name__} is not supported",
                                        "see docs/support.md for supported layers; open an issue with the layer config"))
            _placeholder(graph, node, expr_of, layout_of)
            continue
        if any(t not in expr_of for t in list(node.inputs) + list(node.masks.values())):
            _placeholder(graph, node, expr_of, layout_of)
            continue
        ctx = NodeContext(graph, node, [layout_of[t] for t in node.inputs], planner, training)
        try:
            frag = entry.fn(ctx)
        except UnsupportedError as exc:
            problems.append(Unsupported(exc.kind, layer.name, f"{layer.cls.__name__}: {exc.why}", exc.hint))
            _placeholder(graph, node, expr_of, layout_of)
            continue
        except Exception as exc:  # a configuration the converter did not foresee: one line, not a traceback
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            problems.append(Unsupported("layer", layer.name, f"{layer.cls.__name__}: the converter cannot read this "
                                        f"configuration ({type(exc).__name__}: {detail})",
                                        "a tf2torch bug: please report it with the layer config"))
            _placeholder(graph, node, expr_of, layout_of)
            continue
        if ctx.has_mask() and not ctx.mask_handled:  # never drop a mask Keras would apply
            problems.append(Unsupported("layer", layer.name, f"{layer.cls.__name__}: Keras applies a mask "
                                        "(Embedding(mask_zero=True) or Masking upstream) that this converter ignores",
                                        "remove the mask, or open an issue with the model"))
            _placeholder(graph, node, expr_of, layout_of)
            continue
        if len(frag.outputs) != len(node.outputs) or len(frag.out_layouts) != len(node.outputs):
            raise AssertionError(f"converter {entry.fn.__name__} returned {len(frag.outputs)} outputs for {len(node.outputs)}")
        if problems:  # keep going only to find more problems
            for t, layout in zip(node.outputs, frag.out_layouts):
                expr_of[t], layout_of[t] = fr.Ref("_"), layout
            continue

        attr_names: dict[str, str] = {}
        for key, module in frag.modules.items():
            fresh = (id(layer), key) not in attrs._by_key
            attr_names[key] = attrs.name(layer.name if not key else f"{layer.name}_{key}", key=(id(layer), key))
            if fresh:
                prog.submodules.append(Submodule(attr_names[key], module.ctor, module.params, layer))
        for key, buf in frag.buffers.items():
            fresh = (id(layer), "buffer", key) not in attrs._by_key
            attr_names[key] = attrs.name(layer.name if not key else f"{layer.name}_{key}", key=(id(layer), "buffer", key))
            if fresh:
                prog.buffers.append(BufferDef(attr_names[key], buf, layer))

        local_map = {}
        for target, _ in frag.steps:
            for loc in _locals_in(target):
                local_map.setdefault(loc.key, local_names.name(loc.key, fallback="tmp"))
        def keras_tensor(t):
            return convert_layout(expr_of[t], layout_of[t], Layout.keras(graph.tensors[t].rank))

        sub = _Substitute([expr_of[t] for t in node.inputs], attr_names, local_map, keras_tensor)
        for target, expr in frag.steps:
            prog.statements.append((_bind_target(target, local_map), sub(expr)))

        first_input_var = None
        if node.inputs and isinstance(expr_of[node.inputs[0]], fr.Ref) and "." not in expr_of[node.inputs[0]].path:
            first_input_var = expr_of[node.inputs[0]].path
        record["expressions"] = []
        for i, (t, out, layout) in enumerate(zip(node.outputs, frag.outputs, frag.out_layouts)):
            value = sub(out)
            record["expressions"].append(value)
            layout_of[t] = layout
            if isinstance(value, fr.Ref) and "." not in value.path:  # pure alias (Dropout, Identity...)
                expr_of[t] = value
                bound.setdefault(value.path, set()).add(t)
                continue
            # the main chain reads like hand-written code: `x = self.layer(x)`; branches and side
            # outputs keep their layer's name
            spare = [v for v in side_chains if free(v, node.index)] if i == 0 else []
            if t in masks:
                var = local_names.name("mask")  # a Keras mask keeps its own name
            elif i == 0 and first_input_var == chain and free(chain, node.index):
                var = chain
                bound[var] = set()
            elif i == 0 and free(chain, node.index) and (single or chain not in arg_names):
                var = chain
                bound[var] = set()
            elif spare:  # a branch (residual, inception): `y = self.conv(x)`, then `y = self.bn(y)`...
                var = first_input_var if first_input_var in spare else spare[0]
                bound[var] = set()
            else:
                raw = layer.name if len(node.outputs) == 1 else f"{layer.name}_{i}"
                var = local_names.name(raw, fallback="out")
            prog.statements.append((var, value))
            expr_of[t] = fr.Ref(var)
            bound.setdefault(var, set()).add(t)

        record["modules"] = [attr_names[k] for k in frag.modules]
        record["description"] = frag.description
        prog.layer_records.append(record)
        for w in frag.warnings:
            by_message.setdefault(w, []).append(layer.name)

    if problems:
        raise ConversionError(problems)
    for message, names in by_message.items():  # one line per message: InceptionV3 has 94 BN(scale=False)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        prog.warnings.append(f"{shown}: {message}")
    for boundary, t in zip(prog.inputs, graph.inputs):  # hints set by converters (ids...)
        boundary.value_range = graph.tensors[t].value_range
        boundary.padding = graph.tensors[t].padding

    # ---- outputs --------------------------------------------------------------------------
    for t in graph.outputs:
        info = graph.tensors[t]
        layout = layout_of[t]
        keep = input_layout == "torch" and (layout.is_keras or layout.is_channels_first)
        target = layout if keep else Layout.keras(info.rank)
        prog.returns.append(convert_layout(expr_of[t], layout, target))
        prog.outputs.append(BoundaryTensor(info.name, "", info.shape, info.dtype, target))
    prog.statements = _live_statements(prog.statements, prog.returns)
    return prog


def _mask_tensors(graph: Graph) -> set[int]:
    """Tensors that are Keras masks (named `mask` in forward): those given to layers as masks and
    the bool tensors they are computed from (`x != 0`, Keras' merges combining masks...)."""
    found: set[int] = set()
    for node in graph.nodes:
        found |= set(node.masks.values())
        found |= {v.id for v in node.mask_arguments().values()}
    for node in reversed(graph.nodes):
        if any(t in found for t in node.outputs):
            found |= {t for t in node.inputs if graph.tensors[t].dtype == "bool"}
    return {t for t in found if graph.tensors[t].producer is not None}


def _names(expr) -> set[str]:
    found: set[str] = set()

    def leaf(e):
        if isinstance(e, fr.Ref):
            found.add(e.path.split(".", 1)[0])
        return e

    fr.map_expr(expr, leaf)
    return found


def _targets(target) -> set[str]:
    if isinstance(target, str):
        return {target} - {"_"}
    return set().union(*(_targets(t) for t in target)) if target else set()


def _live_statements(statements: list, returns: list) -> list:
    """Drop statements whose result nobody reads (generated expressions have no side effects):
    a mask computed for a layer that does not let it change its values (BatchNormalization at
    inference), a state output nobody uses."""
    live = set().union(*(_names(r) for r in returns)) if returns else set()
    kept = []
    for target, expr in reversed(statements):
        assigned = _targets(target)
        if not assigned & live:
            continue
        live = (live - assigned) | _names(expr)
        kept.append((target, expr))
    return kept[::-1]


def _placeholder(graph: Graph, node, expr_of, layout_of) -> None:
    for t in node.outputs:
        expr_of[t] = fr.Ref("_")
        layout_of[t] = Layout.keras(graph.tensors[t].rank)

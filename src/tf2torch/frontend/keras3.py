"""Front-end: a live Keras 3 model (Functional or built Sequential) -> Graph."""
from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf
from keras.src.models.functional import Functional
from keras.src.ops.operation import Operation

from ..errors import ConversionError, InputError, Unsupported
from ..ir import Graph, Layer, Node, TensorInfo, TensorRef


def _functional(model) -> Functional:
    if isinstance(model, keras.Sequential):
        inner = getattr(model, "_functional", None)
        if inner is None:
            raise InputError(f"Sequential model {model.name!r} is not built: give it an Input (or input_shape) first")
        return inner
    if isinstance(model, Functional):
        return model
    raise ConversionError([Unsupported(
        "model", model.name, f"subclassed model {type(model).__name__} has no graph to read",
        "rebuild it with the functional API, or use `tf2torch translate` on its source")])


def layer_config(op: Operation) -> dict:
    if isinstance(op, keras.layers.Layer):
        return op.get_config()
    # keras.ops operations keep their arguments as attributes
    return {k: v for k, v in vars(op).items() if not k.startswith("_")}


def _relative(path: str, layer_name: str) -> str:
    parts = path.split("/")
    if layer_name in parts:
        parts = parts[parts.index(layer_name) + 1:]
    return "/".join(parts) or path


class _Reader:
    def __init__(self):
        self.tensors: dict[int, TensorInfo] = {}
        self.nodes: list[Node] = []
        self.layers: dict[int, Layer] = {}

    def new_tensor(self, kt, producer=None, name="") -> int:
        tid = len(self.tensors)
        self.tensors[tid] = TensorInfo(tid, tuple(kt.shape), str(kt.dtype), producer, name)
        return tid

    def layer(self, op: Operation) -> Layer:
        if id(op) not in self.layers:
            weights = [(_relative(w.path, op.name), w.numpy) for w in getattr(op, "weights", [])]
            self.layers[id(op)] = Layer(op.name, type(op), layer_config(op), weights, "keras3")
        return self.layers[id(op)]

    def read(self, fn: Functional, mapping: dict[int, int]) -> None:
        """Append fn's nodes; `mapping` maps id(KerasTensor) of fn's inputs to tensor ids."""
        for depth in sorted(fn._nodes_by_depth, reverse=True):
            for knode in fn._nodes_by_depth[depth]:
                if isinstance(knode.operation, keras.layers.InputLayer):
                    continue
                if knode.outputs and all(id(kt) in mapping for kt in knode.outputs):
                    continue  # already read as the producer of a mask
                self.add(knode, mapping)

    def add(self, knode, mapping: dict[int, int]) -> None:
        op = knode.operation
        inputs: list[int] = []
        tensors: list = []

        def sub(value):
            if isinstance(value, keras.KerasTensor):
                inputs.append(self.ensure(value, mapping))
                tensors.append(value)
                return TensorRef(inputs[-1])
            if isinstance(value, (list, tuple)):
                return type(value)(sub(v) for v in value)
            if isinstance(value, dict):
                return {k: sub(v) for k, v in value.items()}
            return value

        args = sub(tuple(knode.arguments.args))
        kwargs = sub(dict(knode.arguments.kwargs))
        if isinstance(op, Functional) or isinstance(op, keras.Sequential):
            inner = _functional(op)
            inner_mapping = {id(kt): t for kt, t in zip(inner.inputs, inputs)}
            self.read(inner, inner_mapping)
            for kt_outer, kt_inner in zip(knode.outputs, inner.outputs):
                mapping[id(kt_outer)] = inner_mapping[id(kt_inner)]
            return
        masks = {}
        if reads_masks(op):
            for kt, t in zip(tensors, inputs):
                mask = getattr(kt, "_keras_mask", None)
                if isinstance(mask, keras.KerasTensor):
                    masks[t] = self.ensure(mask, mapping)
        outputs = [self.new_tensor(kt, producer=len(self.nodes)) for kt in knode.outputs]
        for kt, t in zip(knode.outputs, outputs):
            mapping[id(kt)] = t
        self.nodes.append(Node(len(self.nodes), self.layer(op), inputs, outputs, args, kwargs, masks))

    def ensure(self, kt, mapping: dict[int, int]) -> int:
        """The tensor id of `kt`, reading the operations that compute it if they are not read yet
        (a Keras mask computed while building the model but consumed only at run time)."""
        if id(kt) not in mapping:
            op, node_index, _ = kt._keras_history
            self.add(op._inbound_nodes[node_index], mapping)
        return mapping[id(kt)]


# Layers whose values depend on the Keras mask of their inputs: a `mask`/`<argument>_mask` call
# parameter (filled in by Layer.__call__, keras/src/layers/layer.py step 6), or merges that read
# `_keras_mask` themselves (keras/src/layers/merging/base_merge.py, multiply.py)
_MASKED_MERGES = (keras.layers.Multiply, keras.layers.Maximum, keras.layers.Minimum)


def reads_masks(op) -> bool:
    if isinstance(op, _MASKED_MERGES):
        return True
    try:
        params = inspect.signature(type(op).call).parameters
    except (TypeError, ValueError):
        return False
    return any(p == "mask" or p.endswith("_mask") for p in params)


def read_model(model) -> Graph:
    fn = _functional(model)
    reader = _Reader()
    mapping: dict[int, int] = {}
    inputs = []
    for kt in fn.inputs:
        name = kt._keras_history.operation.name
        t = reader.new_tensor(kt, name=name)
        mapping[id(kt)] = t
        inputs.append(t)
    reader.read(fn, mapping)
    return assemble(model, reader.tensors, reader.nodes, inputs, [mapping[id(kt)] for kt in fn.outputs])


def assemble(model, tensors: dict, nodes: list, inputs: list[int], outputs: list[int]) -> Graph:
    """The Graph, its outputs named after Keras' output names, else their producing layers."""
    for t, name in zip(outputs, getattr(model, "output_names", None) or []):
        tensors[t].name = tensors[t].name or name
    for i, t in enumerate(outputs):
        info = tensors[t]
        if not info.name:
            info.name = nodes[info.producer].layer.name if info.producer is not None else f"output_{i}"
    return Graph(model.name, tensors, nodes, inputs, outputs, source=model)


def reference(model):
    """Keras' own outputs, as numpy, for a list of numpy inputs (inference mode)."""

    compiled = None

    def run(arrays):
        nonlocal compiled
        args = arrays if len(arrays) > 1 else arrays[0]
        try:
            out = model(args, training=False) if compiled is None else compiled(args)
        except tf.errors.OpError:
            # Some ops have no TensorFlow CPU kernel (e.g. dilated Conv2DTranspose): XLA has one.
            if compiled is not None:
                raise
            compiled = tf.function(lambda a: model(a, training=False), jit_compile=True)
            out = compiled(args)
        out = out if isinstance(out, (list, tuple)) else [out]
        return [np.asarray(keras.ops.convert_to_numpy(o)) for o in out]

    return run

"""Front-end: a live legacy Keras 2 model (package `tf_keras`, Functional or built Sequential) -> Graph.

Every IR Layer gets the Keras 3 class of the same name, so the one converter registry serves both
front-ends; `Layer.origin = "keras2"` tells converters where semantics differ (hard_sigmoid...).
Configs are normalised to Keras 3 conventions here, once, so converters never see Keras 2 spellings.

The node API read here is tf_keras/src/engine/node.py (`node.layer`, `node.call_args`,
`node.call_kwargs`, `node.outputs`, `node.is_input`) and functional.py (`_nodes_by_depth`, walked
from the deepest depth like `Functional._run_internal_graph`).
"""
from __future__ import annotations

import inspect

import keras
import numpy as np
import tensorflow as tf
import tf_keras
from keras.src.ops import nn as knn
from keras.src.ops import numpy as knp
from tf_keras.src.engine.functional import Functional
from tf_keras.src.engine.keras_tensor import KerasTensor

from ..errors import ConversionError, InputError, Unsupported
from ..ir import Graph, Layer, Node, TensorInfo, TensorRef
from . import keras3


class TFOpLambda:
    """Keras 2 stand-in for a TensorFlow function called on Keras tensors (`x + 1`, `tf.concat`).

    No Keras 3 class exists; converters may register on this class (config["function"] names the
    TF function, e.g. "__operators__.add", "math.multiply"; the node's args/kwargs hold the call).
    """


class SlicingOpLambda(TFOpLambda):
    """Keras 2 stand-in for `tensor[...]` on Keras tensors (config["function"] == "__operators__.getitem")."""


_STAND_INS: dict[str, type] = {"TFOpLambda": TFOpLambda, "SlicingOpLambda": SlicingOpLambda}

# Keras 2 config keys that mean nothing at inference in Keras 3 (tf_keras/src/layers/...):
# input shapes given to the first layer, Embedding.input_length (only used for output shape
# inference), the RNN kernel `implementation` switch (same numbers).
_DROPPED_KEYS = ("batch_input_shape", "input_length", "implementation")
# Keras 2 arguments about training or initialisation only, dropped when Keras 3 lacks them
# (SpatialDropout2D has no `trainable`, SeparableConv2D no `kernel_initializer`...).
_TRAINING_ONLY = frozenset({"trainable", "rng_type", "kernel_initializer", "kernel_regularizer", "kernel_constraint"})
_RENAMED_KEYS = {
    # tf_keras/src/layers/activation/leaky_relu.py: `alpha` (default 0.3) is Keras 3's `negative_slope`
    "LeakyReLU": {"alpha": "negative_slope"},
}
_AXIS_LISTS = ("BatchNormalization", "LayerNormalization")  # built tf_keras layers store axis as [3]
_NESTED_LAYER_KEYS = ("layer", "backward_layer", "cell")  # wrappers (TimeDistributed, Bidirectional, RNN)


# ----------------------------------------------------------------------------------------------
# TF functions called on Keras tensors (Keras 2 TFOpLambda / SlicingOpLambda layers) that are
# exactly a keras.ops operation: the node becomes that op's node, with the op's call arguments.
# function name (config["function"]) -> (Keras 3 op class, TF parameters holding the op's call
# arguments in order, op attributes from the bound TF arguments, arithmetic?). Arithmetic ops are
# mapped only on float tensors: TF and Keras 3 promote integer operands differently (truediv).
# ----------------------------------------------------------------------------------------------
def _reduction(b):
    axis = b.get("axis")
    return {"axis": list(axis) if isinstance(axis, (list, tuple)) else axis, "keepdims": bool(b.get("keepdims"))}


_BINARY = {"__operators__.add": knp.Add, "math.add": knp.Add, "math.subtract": knp.Subtract, "math.multiply": knp.Multiply,
           "math.truediv": knp.TrueDivide, "math.divide": knp.TrueDivide, "math.maximum": knp.Maximum,
           "math.minimum": knp.Minimum}
_UNARY = {"math.negative": (knp.Negative, "x"), "nn.relu": (knn.Relu, "features"), "nn.relu6": (knn.Relu6, "features"),
          "math.sigmoid": (knn.Sigmoid, "x"), "math.tanh": (knp.Tanh, "x"), "math.exp": (knp.Exp, "x"),
          "math.abs": (knp.Absolute, "x"), "math.sqrt": (knp.Sqrt, "x"), "math.square": (knp.Square, "x"),
          "math.log": (knp.Log, "x")}
_TF_OPS = {
    **{name: (cls, ("x", "y"), None, True) for name, cls in _BINARY.items()},
    **{name: (cls, (arg,), None, True) for name, (cls, arg) in _UNARY.items()},
    # tf.nn.softmax: axis=None means the last axis (tensorflow/python/ops/nn_ops.py softmax_v2)
    "nn.softmax": (knn.Softmax, ("logits",), lambda b: {"axis": -1 if b.get("axis") is None else b["axis"]}, True),
    "math.reduce_mean": (knp.Mean, ("input_tensor",), _reduction, True),
    "math.reduce_sum": (knp.Sum, ("input_tensor",), _reduction, True),
    "math.reduce_max": (knp.Max, ("input_tensor",), _reduction, False),
    "math.reduce_min": (knp.Min, ("input_tensor",), _reduction, False),
    "concat": (knp.Concatenate, ("values",), lambda b: {"axis": b["axis"]}, False),
    "reshape": (knp.Reshape, ("tensor",), lambda b: {"newshape": tuple(b["shape"])}, False),
    "transpose": (knp.Transpose, ("a",), lambda b: {"axes": b.get("perm")}, False),
    "compat.v1.transpose": (knp.Transpose, ("a",), lambda b: {"axes": b.get("perm")}, False),
    "expand_dims": (knp.ExpandDims, ("input",), lambda b: {"axis": b["axis"]}, False),
    "__operators__.getitem": (knp.GetItem, ("tensor", "slice_spec"), None, False),
}


def _refs(value) -> list[TensorRef]:
    if isinstance(value, TensorRef):
        return [value]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _refs(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    return []


def _slices(key):
    """tf_keras stores slices in a getitem key as {'start', 'stop', 'step'} dicts (tf_op_layer.py)."""
    if isinstance(key, dict) and set(key) == {"start", "stop", "step"}:
        return slice(key["start"], key["stop"], key["step"])
    if isinstance(key, (list, tuple)):
        return tuple(_slices(k) for k in key)
    return key


def keras3_op(op, args: tuple, kwargs: dict, tensors: dict[int, TensorInfo]):
    """(Keras 3 op class, config, args, kwargs) for a TF-op layer call, or None to keep it as is."""
    entry = _TF_OPS.get(op.get_config().get("function"))
    if entry is None:
        return None
    cls, params, attrs, arithmetic = entry
    try:
        bound = inspect.signature(op.function).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return None
    if bound.get("conjugate") or bound.get("var") is not None or any(_refs(v) for k, v in bound.items() if k not in params):
        return None  # conjugate transpose, sliced assignment, tensor-valued attributes (dynamic shapes...)
    call = tuple(_slices(bound[p]) if p == "slice_spec" else bound.get(p) for p in params)
    if arithmetic and not all(tensors[r.id].dtype.startswith(("float", "bfloat")) for r in _refs(call)):
        return None
    try:
        operation = cls(**(attrs(bound) if attrs else {}))
    except Exception:  # arguments Keras 3 refuses
        return None
    return cls, keras3.layer_config(operation), call, {}


def _functional(model) -> Functional:
    if isinstance(model, Functional):  # Sequential subclasses Functional
        if not getattr(model, "_is_graph_network", False):
            if isinstance(model, tf_keras.Sequential):
                raise InputError(f"Sequential model {model.name!r} is not built: give it an Input (or input_shape) first")
            raise ConversionError([Unsupported("model", model.name, "model has no graph to read", "")])
        return model
    raise ConversionError([Unsupported(
        "model", model.name, f"subclassed model {type(model).__name__} has no graph to read",
        "rebuild it with the functional API, or use `tf2torch translate` on its source")])


def keras3_class(layer) -> type:
    """The Keras 3 class a tf_keras layer maps to (same name), or a stand-in without converter."""
    name = type(layer).__name__
    builtin = type(layer).__module__.startswith("tf_keras.")
    cls = getattr(keras.layers, name, None) if builtin else None
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return cls
    if name not in _STAND_INS:  # Keras-2-only (ThresholdedReLU, LocallyConnected2D...) or custom
        _STAND_INS[name] = type(name, (), {"__module__": __name__, "__doc__": f"Keras 2 {name}: no Keras 3 class"})
    return _STAND_INS[name]


def _plain(value):
    """tf_keras config values as plain Python (ListWrapper -> list, numpy scalars -> float)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list) or type(value).__name__ == "ListWrapper":
        return [_plain(v) for v in value]
    return value


def _simple(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, (tuple, list)) and all(_simple(v) for v in value)


def normalise_config(class_name: str, config: dict, live=None, where: str = "") -> tuple[dict, list[Unsupported]]:
    """A Keras 2 layer config in Keras 3 conventions; `live` (the tf_keras layer) fills missing keys."""
    problems: list[Unsupported] = []
    config = _plain(dict(config))
    for old, new in _RENAMED_KEYS.get(class_name, {}).items():
        if old in config:
            config[new] = config.pop(old)
    for key in _DROPPED_KEYS:
        config.pop(key, None)
    if config.pop("time_major", False):  # tf_keras/src/layers/rnn/base_rnn.py: (T, N, F) inputs
        problems.append(Unsupported("config", where, f"{class_name}: time_major=True is not supported",
                                    "rebuild the layer batch-major (time_major=False, Keras 3 has no time_major)"))
    if class_name in _AXIS_LISTS and isinstance(config.get("axis"), list) and len(config["axis"]) == 1:
        config["axis"] = config["axis"][0]
    for key in _NESTED_LAYER_KEYS:
        nested = config.get(key)
        if isinstance(nested, dict) and isinstance(nested.get("config"), dict) and "class_name" in nested:
            sub = getattr(live, key, None) if live is not None else None
            sub = sub if sub is not None and type(sub).__name__ == nested["class_name"] else None
            inner, more = normalise_config(nested["class_name"], nested["config"], sub, where)
            config[key] = {**nested, "config": inner}
            problems += more
    if isinstance(config.get("cells"), list):  # StackedRNNCells
        cells = []
        for c in config["cells"]:
            if isinstance(c, dict) and isinstance(c.get("config"), dict) and "class_name" in c:
                inner, more = normalise_config(c["class_name"], c["config"], None, where)
                c, problems = {**c, "config": inner}, problems + more
            cells.append(c)
        config["cells"] = cells
    cls = getattr(keras.layers, class_name, None)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        _to_keras3_arguments(cls, config, live)
    return config, problems


def _init_parameters(cls: type) -> list[inspect.Parameter]:
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())
    except (TypeError, ValueError):
        return []
    if any(p.kind == p.VAR_KEYWORD for p in params):  # **kwargs go to keras.layers.Layer.__init__
        params += list(inspect.signature(keras.layers.Layer.__init__).parameters.values())
    return [p for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _neutral(key: str, value) -> bool:
    """A Keras 2 argument Keras 3 lacks, with a value that changes nothing at inference."""
    return key in _TRAINING_ONLY or value is None or value is False or (key == "groups" and value == 1)


def _to_keras3_arguments(cls: type, config: dict, live) -> None:
    """Fill the Keras 3 arguments a Keras 2 config lacks (data_format of SpatialDropout2D, renorm...)
    from the live tf_keras attribute of that name when it is a plain value, else Keras 3's default;
    drop Keras 2 arguments Keras 3 does not take when they are neutral (noise_shape=None, groups=1)."""
    params = _init_parameters(cls)
    if not params:
        return
    accepted = {p.name for p in params}
    for key in [k for k in config if k not in accepted and _neutral(k, config[k])]:
        del config[key]
    for p in params:
        if p.name in config:
            continue
        try:
            value = _plain(getattr(live, p.name)) if live is not None else p.empty
        except Exception:  # missing attribute, or a property that needs a built layer
            value = p.empty
        if value is not p.empty and _simple(value):
            config[p.name] = value
        elif p.default is not p.empty:
            config[p.name] = p.default


def _relative(name: str, layer_name: str) -> str:
    """'bidirectional/forward_lstm/lstm_cell/kernel:0' -> 'forward_lstm/lstm_cell/kernel'."""
    name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    parts = name.split("/")
    if layer_name in parts[:-1]:
        parts = parts[parts.index(layer_name) + 1:]
    return "/".join(parts)


def _weight_path(op, w) -> str:
    """Weight path relative to the layer, as Keras 3 spells it.

    tf_keras names a wrapped layer's variables in the wrapper's scope ('time_distributed/kernel:0')
    where Keras 3 keeps the inner layer's name ('time_distributed/dense/kernel'): add it back.
    """
    path = _relative(w.name, op.name)
    inner = getattr(op, "layer", None)
    if isinstance(inner, tf_keras.layers.Layer) and any(v is w for v in inner.weights):
        if path.split("/")[0] != inner.name:
            path = f"{inner.name}/{path}"
    return path


def _shape(kt) -> tuple:
    shape = kt.shape
    if shape.rank is None:
        raise InputError(f"tensor {kt.name!r} has unknown rank: give the model inputs a full shape")
    return tuple(shape.as_list())


class _Reader:
    def __init__(self):
        self.tensors: dict[int, TensorInfo] = {}
        self.nodes: list[Node] = []
        self.layers: dict[int, Layer] = {}
        self.problems: list[Unsupported] = []
        self.mask_of: dict[int, int | None] = {}  # tensor id -> id of its Keras mask tensor (see masks())

    def new_tensor(self, kt, producer=None, name="") -> int:
        tid = len(self.tensors)
        self.tensors[tid] = TensorInfo(tid, _shape(kt), tf.as_dtype(kt.dtype).name, producer, name)
        return tid

    def layer(self, op) -> Layer:
        if id(op) not in self.layers:
            cls = keras3_class(op)
            config, problems = normalise_config(type(op).__name__, op.get_config(), op, op.name)
            self.problems += problems
            weights = [(_weight_path(op, w), w.numpy) for w in op.weights]
            self.layers[id(op)] = Layer(op.name, cls, config, weights, "keras2")
        return self.layers[id(op)]

    def read(self, fn: Functional, mapping: dict[int, int]) -> None:
        """Append fn's nodes; `mapping` maps id(KerasTensor) of fn's inputs to tensor ids."""
        # within a depth, nodes in the model's layer order (traversal order, functional.py
        # _map_graph_network), so the generated forward reads in the order the model was written
        order = {id(layer): i for i, layer in enumerate(fn.layers)}
        for depth in sorted(fn._nodes_by_depth, reverse=True):
            for knode in sorted(fn._nodes_by_depth[depth], key=lambda n: order.get(id(n.layer), len(order))):
                if knode.is_input:
                    continue
                op = knode.layer
                inputs: list[int] = []

                def sub(value):
                    if isinstance(value, KerasTensor):
                        inputs.append(mapping[id(value)])
                        return TensorRef(inputs[-1])
                    if isinstance(value, (list, tuple)):
                        return type(value)(sub(v) for v in value)
                    if isinstance(value, dict):
                        return {k: sub(v) for k, v in value.items()}
                    if isinstance(value, (tf.Tensor, tf.Variable)):  # constants captured by TF-op layers
                        return np.asarray(value)
                    return value

                args = sub(tuple(knode.call_args))
                kwargs = sub(dict(knode.call_kwargs))
                outs = tf.nest.flatten(knode.outputs)
                if isinstance(op, Functional):  # nested model: inline its nodes
                    inner = _functional(op)
                    inner_mapping = {id(kt): t for kt, t in zip(inner.inputs, inputs)}
                    self.read(inner, inner_mapping)
                    for kt_outer, kt_inner in zip(outs, inner.outputs):
                        mapping[id(kt_outer)] = inner_mapping[id(kt_inner)]
                    continue
                layer = None
                if issubclass(keras3_class(op), TFOpLambda):
                    mapped = keras3_op(op, args, kwargs, self.tensors)
                    if mapped is not None:  # one Layer per call: TF-op layers hold no weights
                        cls, config, args, kwargs = mapped
                        layer = Layer(op.name, cls, config, [], "keras2")
                        inputs = [r.id for r in _refs((args, kwargs))]  # converters count them in this order
                node_masks = self.masks_read(op, knode, mapping) if layer is None else {}
                outputs = [self.new_tensor(kt, producer=len(self.nodes)) for kt in outs]
                for kt, t in zip(outs, outputs):
                    mapping[id(kt)] = t
                node = Node(len(self.nodes), layer or self.layer(op), inputs, outputs, args, kwargs, node_masks)
                self.nodes.append(node)
                self.propagate_masks(op, knode, node, outs)

    # ---- Keras masks ----------------------------------------------------------------------
    # tf_keras computes masks inside each layer's __call__ (base_layer.py _set_mask_metadata) and
    # keeps no record of how: the graph below rebuilds them as nodes, like Keras 3 records them.
    # Only the masks this code can rebuild exactly are followed: Embedding(mask_zero=True) and
    # Masking make one; layers that pass their input's mask on unchanged keep it; a mask made any
    # other way is marked unknown (-1), and a layer that would read an unknown mask is refused.
    def masks_read(self, op, knode, mapping) -> dict[int, int]:
        if not _reads_masks(op):
            return {}
        found = {}
        for kt in knode.keras_inputs:
            t = mapping[id(kt)]
            mask = self.mask_of.get(t)
            if mask == -1:
                self.problems.append(Unsupported(
                    "layer", op.name, f"{type(op).__name__} reads a Keras mask that tf2torch cannot rebuild for a "
                    "Keras 2 file (only masks from Embedding(mask_zero=True) or Masking, passed on unchanged)",
                    "load the model with Keras 3 and save it as .keras, or remove the mask"))
            elif mask is not None:
                found[t] = mask
        return found

    def propagate_masks(self, op, knode, node, outs) -> None:
        first = self.mask_of.get(node.inputs[0]) if node.inputs else None
        for kt, t in zip(outs, node.outputs):
            if getattr(kt, "_keras_mask", None) is None:
                continue
            if isinstance(op, tf_keras.layers.Embedding) and op.mask_zero:
                self.mask_of[t] = self.op_node(f"{op.name}_mask", knp.NotEqual(), (TensorRef(node.inputs[0]), 0),
                                               [node.inputs[0]], (None,) + tuple(kt.shape[1:-1]))
            elif isinstance(op, tf_keras.layers.Masking):
                kept = self.op_node(f"{op.name}_kept", knp.NotEqual(), (TensorRef(node.inputs[0]), float(op.mask_value)),
                                    [node.inputs[0]], self.tensors[node.inputs[0]].shape)
                self.mask_of[t] = self.op_node(f"{op.name}_mask", knp.Any(axis=-1), (TensorRef(kept),), [kept],
                                               self.tensors[node.inputs[0]].shape[:-1])
            elif first not in (None, -1) and len(knode.keras_inputs) == 1 and _passes_mask_on(op):
                self.mask_of[t] = first
            elif _ands_masks(op, kt):  # merge.py _Merge.compute_mask / Concatenate on the last axis: AND
                masks = [self.mask_of.get(i) for i in node.inputs]
                known = list(dict.fromkeys(m for m in masks if m is not None))
                if -1 in known or not known:
                    self.mask_of[t] = -1
                    continue
                result = known[0]
                for other in known[1:]:
                    result = self.op_node(f"{op.name}_mask", knp.LogicalAnd(), (TensorRef(result), TensorRef(other)),
                                          [result, other], self.tensors[result].shape)
                self.mask_of[t] = result
            else:
                self.mask_of[t] = -1

    def op_node(self, name: str, op, args: tuple, inputs: list[int], shape: tuple) -> int:
        """Append a Keras 3 op node computing a bool mask; returns its tensor id."""
        tid = len(self.tensors)
        self.tensors[tid] = TensorInfo(tid, tuple(shape), "bool", len(self.nodes))
        layer = Layer(name, type(op), keras3.layer_config(op), [], "keras2")
        self.nodes.append(Node(len(self.nodes), layer, inputs, [tid], args, {}))
        return tid


def _reads_masks(op) -> bool:
    """tf_keras layers whose values depend on their inputs' masks: a `mask` call argument
    (base_layer.py fills it in), or MultiHeadAttention, which reads `query._keras_mask` itself."""
    if isinstance(op, tf_keras.layers.MultiHeadAttention):
        return True
    try:
        return "mask" in inspect.signature(op.call).parameters
    except (TypeError, ValueError):
        return False


def _passes_mask_on(op) -> bool:
    """The layer's output mask is its input mask: the base compute_mask of a layer that supports
    masking (Dense, Dropout, Activation...), or a recurrent layer returning sequences."""
    if isinstance(op, (tf_keras.layers.RNN, tf_keras.layers.Bidirectional)):
        return bool(getattr(op, "return_sequences", False)) and not getattr(op, "return_state", False)
    base = tf_keras.layers.Layer.compute_mask
    return getattr(type(op).compute_mask, "__code__", None) is getattr(base, "__code__", None) and op.supports_masking


def _ands_masks(op, output) -> bool:
    merges = (tf_keras.layers.Add, tf_keras.layers.Subtract, tf_keras.layers.Multiply, tf_keras.layers.Average,
              tf_keras.layers.Maximum, tf_keras.layers.Minimum)
    if isinstance(op, tf_keras.layers.Concatenate):
        return op.axis in (-1, len(output.shape) - 1)
    return isinstance(op, merges)


def read_model(model) -> Graph:
    fn = _functional(model)
    reader = _Reader()
    mapping: dict[int, int] = {}
    inputs = []
    for kt in fn.inputs:
        t = reader.new_tensor(kt, name=kt._keras_history.layer.name)
        mapping[id(kt)] = t
        inputs.append(t)
    reader.read(fn, mapping)
    if reader.problems:
        raise ConversionError(reader.problems)
    return keras3.assemble(model, reader.tensors, reader.nodes, inputs, [mapping[id(kt)] for kt in fn.outputs])


def reference(model):
    """tf_keras' own outputs, as numpy, for a list of numpy inputs (inference mode)."""

    def run(arrays):
        out = model(arrays if len(arrays) > 1 else arrays[0], training=False)
        return [np.asarray(o) for o in tf.nest.flatten(out)]

    return run

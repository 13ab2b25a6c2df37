"""Inference-only graph rewrite: fold BatchNormalization into the layer that feeds it.

BatchNormalization at inference is y = (x - mean) * gamma / sqrt(variance + epsilon) + beta
(keras/src/layers/normalization/batch_normalization.py, the same in tf_keras), an affine map per
channel. When x comes straight from a convolution or Dense without activation, the map folds into
that layer's kernel (scaled along its output channels) and bias: one layer less per pair, which
is what the ONNX route's optimiser does too. The result computes the same function (verification
checks it against the unfolded Keras model) but cannot be trained like the Keras model, so this
runs only when asked (`convert(..., fold_batch_norm=True)`, `--fold-batchnorm`).

The pass works on the IR, in Keras terms (Keras kernels, Keras channel axis), before any
converter runs: converters see a convolution with a bias and know nothing of it.
"""
from __future__ import annotations

from collections import Counter

import keras
import numpy as np

from .ir import Graph, Layer

# Keras layers whose kernel's last axis is the output channel (Dense: (in, out); ConvND: (k..., in, out));
# depthwise kernels (k..., in, multiplier) give output channel c * multiplier + m.
_PLAIN = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.Dense)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)


def fold_batch_norm(graph: Graph) -> list[str]:
    """Fold every foldable BatchNormalization of `graph` in place; the names of those folded."""
    layer_uses = Counter(id(node.layer) for node in graph.nodes)
    consumers: dict[int, int] = Counter(t for node in graph.nodes for t in node.inputs)
    outputs = set(graph.outputs)
    by_index = {node.index: node for node in graph.nodes}
    removed, folded = set(), []
    for node in graph.nodes:
        layer = node.layer
        if not issubclass(layer.cls, keras.layers.BatchNormalization) or len(node.inputs) != 1 or any(
                v is not None for v in node.kwargs.values()):  # a mask or a training flag
            continue
        source = graph.tensors[node.inputs[0]]
        producer = by_index.get(source.producer) if source.producer is not None else None
        if producer is None or not _foldable(graph, producer, node, layer_uses, consumers, outputs):
            continue
        producer.layer = _folded_layer(producer.layer, layer)
        producer.outputs = list(node.outputs)
        graph.tensors[node.outputs[0]].producer = producer.index
        removed.add(node.index)
        folded.append(layer.name)
    if removed:
        graph.nodes = [n for n in graph.nodes if n.index not in removed]
        renumber = {n.index: i for i, n in enumerate(graph.nodes)}
        for n in graph.nodes:
            n.index = renumber[n.index]
        for t in graph.tensors.values():
            if t.producer is not None:
                t.producer = renumber.get(t.producer)
    return folded


def _foldable(graph: Graph, producer, bn, layer_uses, consumers, outputs) -> bool:
    layer, norm = producer.layer, bn.layer
    if not issubclass(layer.cls, _PLAIN + _DEPTHWISE) or issubclass(layer.cls, _TRANSPOSED):
        return False
    if layer_uses[id(layer)] != 1 or layer_uses[id(norm)] != 1 or len(producer.outputs) != 1:
        return False  # a shared layer's weights serve other calls too
    if consumers[producer.outputs[0]] != 1 or producer.outputs[0] in outputs:
        return False  # the un-normalised tensor is needed elsewhere
    if (layer.config.get("activation") or "linear") != "linear":
        return False  # the normalisation applies after the activation
    if layer.config.get("data_format", "channels_last") != "channels_last":
        return False
    rank = graph.tensors[bn.outputs[0]].rank
    axis = norm.config.get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if not isinstance(axis, int) or axis % rank != rank - 1:
        return False
    if not (layer.has_weight("kernel") or layer.has_weight("depthwise_kernel")):
        return False
    return True


def _folded_layer(layer: Layer, norm: Layer) -> Layer:
    eps = float(norm.config.get("epsilon", 1e-3))
    mean = norm.weight("moving_mean").astype(np.float64)
    variance = norm.weight("moving_variance").astype(np.float64)
    gamma = norm.weight("gamma").astype(np.float64) if norm.config.get("scale", True) else 1.0
    beta = norm.weight("beta").astype(np.float64) if norm.config.get("center", True) else 0.0
    scale = gamma / np.sqrt(variance + eps)
    kernel_name = "kernel" if layer.has_weight("kernel") else "depthwise_kernel"
    kernel = layer.weight(kernel_name)
    dtype = kernel.dtype
    if issubclass(layer.cls, _DEPTHWISE):  # (k..., in, multiplier): output channel c * multiplier + m
        factor = scale.reshape(kernel.shape[-2], kernel.shape[-1])
    else:
        factor = scale
    new_kernel = (kernel.astype(np.float64) * factor).astype(dtype)
    bias = layer.weight("bias").astype(np.float64) if layer.config.get("use_bias", True) else 0.0
    new_bias = ((bias - mean) * scale + beta).astype(dtype)
    weights = [(kernel_name, new_kernel), ("bias", new_bias)]
    return Layer(layer.name, layer.cls, {**layer.config, "use_bias": True}, weights, layer.origin)

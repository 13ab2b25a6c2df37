"""Attention layers: MultiHeadAttention, GroupQueryAttention, Attention (Luong), AdditiveAttention.

Semantics from Keras 3.15.1, keras/src/layers/attention/ (see tf2torch/helpers/attention.py for the
runtime side):
- MultiHeadAttention.call(query, value, key=None, ..., attention_mask, return_attention_scores,
  training, use_causal_mask): the query mask is the query's Keras mask (`call` reads
  `_keras_mask` itself), value_mask/key_mask are filled in by Layer.__call__ from the value's and
  key's Keras masks (keras/src/layers/layer.py step 6; key_mask only when a key is passed);
  `_compute_attention_mask` ANDs them with attention_mask, the causal mask and the sliding window.
- Which softmax runs depends on dropout and return_attention_scores (the helper follows Keras):
  a query with nothing to attend to attends uniformly (fused path) or to nothing (explicit path).
- GroupedQueryAttention: the same with key/value heads repeated (`ops.repeat`, axis=2), query_mask
  taken from the call argument Layer.__call__ fills in.
- Attention/AdditiveAttention.call(inputs=[query, value, key?], mask=[query_mask, value_mask]):
  masked scores get -1e9 added, outputs of masked queries are zeroed.
Kernels are EinsumDense kernels (features, heads, head_dim) and (heads, head_dim, *output_shape):
reshaped and transposed into nn.Linear weights.
"""
from __future__ import annotations

import math

import keras

from .. import fragment as fr
from ..fragment import Reshape, Transpose
from ..ir import TensorRef
from ..layout import Layout
from ..registry import KERAS, register

_T = Transpose((1, 0))


def index_of(ctx, ref) -> int:
    if not isinstance(ref, TensorRef):
        raise ctx.unsupported(f"expected a tensor of the graph, got {ref!r}")
    return ctx.node.inputs.index(ref.id)


def tensor(ctx, ref) -> fr.Expr:
    """A call argument that is a tensor, in the Keras layout."""
    return ctx.input_keras(index_of(ctx, ref))


def _check_training(ctx, args: dict, dropout: float) -> None:
    if args.get("training") is True and dropout > 0 and not ctx.training:
        raise ctx.unsupported("called with training=True: attention dropout is random", "call the layer in inference mode")


def _linear(source: str, features: int, heads: int, head_dim: int, use_bias: bool) -> dict:
    """An EinsumDense projection (features, heads, head_dim) + bias (heads, head_dim) as Linear params."""
    params = {"weight": fr.from_keras(f"{source}/kernel", Reshape((features, heads * head_dim)), _T)}
    if use_bias:
        params["bias"] = fr.from_keras(f"{source}/bias", Reshape((heads * head_dim,)))
    return params


def _multi_head(ctx, *, heads: int, kv_heads: int | None, key_dim: int, value_dim: int, output_shape: tuple,
                query_mask_argument: bool) -> fr.Fragment:
    """MultiHeadAttention and GroupedQueryAttention: one inline MultiHeadAttention module."""
    args = ctx.call_arguments()
    use_bias = bool(ctx.get("use_bias", True))
    gate = bool(ctx.get("use_gate", False))
    dropout = float(ctx.get("dropout", 0.0) or 0.0)
    window = ctx.get("sliding_window")
    _check_training(ctx, args, dropout)
    if ctx.origin == "keras2" and ctx.has_mask():
        raise ctx.unsupported("tf.keras 2 masks attention logits by adding -1e9 (Keras 3 replaces them), "
                              "which differs on fully masked rows: masked Keras 2 attention is not supported",
                              "load the model with Keras 3 and save it as .keras")
    qi, vi = index_of(ctx, args["query"]), index_of(ctx, args["value"])
    key = args.get("key")
    ki = index_of(ctx, key) if key is not None else None
    for i in (qi, vi) + (() if ki is None else (ki,)):
        if ctx.in_rank(i) != 3:
            raise ctx.unsupported(f"inputs of rank {ctx.in_rank(i)}: only (batch, time, features) inputs are supported",
                                  "reshape to (batch, time, features) around the layer")
    axes = ctx.get("attention_axes")
    # _build_attention: axes of the projected (batch, time, heads, dim) tensor, negative ones counted from
    # its rank - 1; for (batch, time, features) inputs only the time axis, the default, is valid
    if axes is not None and tuple(int(a) if int(a) >= 0 else 3 + int(a) for a in axes) != (1,):
        raise ctx.unsupported(f"attention_axes={tuple(axes)} is not supported", "attend over the time axis (the default)")

    query, value = tensor(ctx, args["query"]), tensor(ctx, args["value"])
    q_features, v_features = int(ctx.in_shape(qi)[-1]), int(ctx.in_shape(vi)[-1])
    k_features = int(ctx.in_shape(ki)[-1]) if ki is not None else v_features
    call_args = [query, value] + ([tensor(ctx, key)] if key is not None else [])

    # masks (Keras layout (batch, time), bool); reading them marks them handled
    masks: dict = {}
    if query_mask_argument:  # GroupedQueryAttention: the query_mask argument Layer.__call__ fills in
        masks["query_mask"] = ctx.mask("query_mask", qi)
    else:  # MultiHeadAttention.call: query_mask = backend.get_keras_mask(query), whatever was passed
        masks["query_mask"] = ctx.input_mask(qi)
    masks["value_mask"] = ctx.mask("value_mask", vi)
    # no key: Layer.__call__ has no key tensor to take a mask from (an explicit key_mask still counts)
    masks["key_mask"] = ctx.mask("key_mask", ki) if ki is not None or args.get("key_mask") is not None else None
    if _same(masks["key_mask"], masks["value_mask"]):
        masks["key_mask"] = None  # the AND of a mask with itself
    attention_mask = args.get("attention_mask")
    if attention_mask is not None:
        if ctx.in_rank(index_of(ctx, attention_mask)) != 3:
            raise ctx.unsupported("attention_mask must be (batch, query time, key time)")
        masks["attention_mask"] = tensor(ctx, attention_mask)
    kwargs = {k: v for k, v in masks.items() if v is not None}
    causal = bool(args.get("use_causal_mask", False))
    scores = bool(args.get("return_attention_scores", False))
    if causal:
        kwargs["use_causal_mask"] = True
    if scores:
        kwargs["return_attention_scores"] = True

    ctor_kwargs: dict = dict(num_heads=heads, key_dim=key_dim, value_dim=value_dim, query_features=q_features,
                             key_features=k_features, value_features=v_features, output_shape=output_shape)
    if kv_heads is not None and kv_heads != heads:
        ctor_kwargs["num_key_value_heads"] = kv_heads
    if not use_bias:
        ctor_kwargs["bias"] = False
    if gate:
        ctor_kwargs["gate"] = True
    if dropout:
        ctor_kwargs["dropout"] = dropout
    if window is not None:
        ctor_kwargs["sliding_window"] = int(window)
    kv = kv_heads or heads
    out_size = math.prod(output_shape)
    params = {}
    for name, p in (("query", _linear("query", q_features, heads, key_dim, use_bias)),
                    ("key", _linear("key", k_features, kv, key_dim, use_bias)),
                    ("value", _linear("value", v_features, kv, value_dim, use_bias))):
        params.update({f"{name}.{k}": v for k, v in p.items()})
    if gate:
        params.update({f"gate.{k}": v for k, v in _linear("gate", q_features, heads, value_dim, use_bias).items()})
    params["output.weight"] = fr.from_keras("attention_output/kernel", Reshape((heads * value_dim, out_size)), _T)
    if use_bias:
        params["output.bias"] = fr.from_keras("attention_output/bias", Reshape((out_size,)))
    module = fr.TorchModule(fr.Helper("MultiHeadAttention")(**ctor_kwargs), params)

    call = fr.SelfAttr()(*call_args, **kwargs)
    out_layout = Layout.keras(len(ctx.out_shape(0)))
    what = "F.scaled_dot_product_attention" if not (scores or dropout) else "explicit softmax (Keras' scores path)"
    if not scores:
        return fr.Fragment([call], [out_layout], modules={"": module}, description=f"nn.Linear projections, {what}")
    out, weights = fr.Local("attention"), fr.Local("scores")
    return fr.Fragment([out, weights], [out_layout, Layout.keras(4)], modules={"": module}, steps=[((out, weights), call)],
                       description=f"nn.Linear projections, {what}, and the attention scores")


def _same(a, b) -> bool:
    return isinstance(a, fr.GraphTensor) and isinstance(b, fr.GraphTensor) and a.id == b.id


@register(keras.layers.MultiHeadAttention, layout=KERAS,
          note="inline module: 4 nn.Linear + F.scaled_dot_product_attention; Keras masks (query/value/key), "
               "attention_mask, causal, sliding_window, use_gate, return_attention_scores; fully masked rows as Keras; "
               "(batch, time, features) inputs only")
def convert_multi_head_attention(ctx) -> fr.Fragment:
    heads, key_dim = int(ctx.get("num_heads")), int(ctx.get("key_dim"))
    value_dim = int(ctx.get("value_dim") or key_dim)
    output_shape = ctx.get("output_shape")
    if output_shape in (None, (), []):
        args = ctx.call_arguments()
        output_shape = (int(ctx.in_shape(index_of(ctx, args["query"]))[-1]),)
    elif isinstance(output_shape, int):
        output_shape = (output_shape,)
    output_shape = tuple(int(d) for d in output_shape)
    return _multi_head(ctx, heads=heads, kv_heads=None, key_dim=key_dim, value_dim=value_dim,
                       output_shape=output_shape, query_mask_argument=False)


@register(keras.layers.GroupQueryAttention, layout=KERAS,
          note="the inline MultiHeadAttention module with key/value heads repeated; masks as MultiHeadAttention")
def convert_group_query_attention(ctx) -> fr.Fragment:
    head_dim = int(ctx.get("head_dim"))
    args = ctx.call_arguments()
    features = int(ctx.in_shape(index_of(ctx, args["query"]))[-1])
    return _multi_head(ctx, heads=int(ctx.get("num_query_heads")), kv_heads=int(ctx.get("num_key_value_heads")),
                       key_dim=head_dim, value_dim=head_dim, output_shape=(features,), query_mask_argument=True)


# ----------------------------------------------------------------------------------------------
def _score_attention(ctx, helper: str, ctor_args: tuple, ctor_kwargs: dict, params: dict) -> fr.Fragment:
    """Attention and AdditiveAttention: call(inputs=[query, value, key?], mask=[query_mask, value_mask])."""
    args = ctx.call_arguments()
    dropout = float(ctx.get("dropout", 0.0) or 0.0)
    _check_training(ctx, args, dropout)
    if ctx.training and dropout:
        raise ctx.unsupported("dropout on the attention weights in training is not supported",
                              "set dropout=0 or add it by hand to the generated module")
    inputs = args["inputs"]
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        raise ctx.unsupported("expected inputs=[query, value] or [query, value, key]")
    for ref in inputs:
        if ctx.in_rank(index_of(ctx, ref)) != 3:
            raise ctx.unsupported("only (batch, time, features) inputs are supported")
    call_args = [tensor(ctx, ref) for ref in inputs]
    given = args.get("mask")
    if given is not None:  # an explicit mask=[query_mask, value_mask(, key_mask)]
        ctx.ignore_mask()
        given = list(given) if isinstance(given, (list, tuple)) else None
        if given is None or not all(m is None or isinstance(m, TensorRef) for m in given):
            raise ctx.unsupported("mask= must be a list of graph tensors or None")
        query_mask = None if given[0] is None else fr.GraphTensor(given[0].id)
        value_mask = None if len(given) < 2 or given[1] is None else fr.GraphTensor(given[1].id)
    else:  # Layer.__call__ fills mask with the inputs' Keras masks; the key's is never read
        query_mask = ctx.input_mask(index_of(ctx, inputs[0]))
        value_mask = ctx.input_mask(index_of(ctx, inputs[1]))
    kwargs: dict = {}
    if query_mask is not None:
        kwargs["query_mask"] = query_mask
    if value_mask is not None:
        kwargs["value_mask"] = value_mask
    if args.get("use_causal_mask", False):
        kwargs["use_causal_mask"] = True
    scores = bool(args.get("return_attention_scores", False))
    if scores:
        kwargs["return_attention_scores"] = True
    module = fr.TorchModule(fr.Helper(helper)(*ctor_args, **ctor_kwargs), params)
    call = fr.SelfAttr()(*call_args, **kwargs)
    if not scores:
        return fr.Fragment([call], [Layout.keras(3)], modules={"": module})
    out, weights = fr.Local("attention"), fr.Local("scores")
    return fr.Fragment([out, weights], [Layout.keras(3), Layout.keras(3)], modules={"": module},
                       steps=[((out, weights), call)])


@register(keras.layers.Attention, layout=KERAS,
          note="inline LuongAttention module: 'dot' and 'concat' scores, use_scale, masks, causal, scores output")
def convert_attention(ctx) -> fr.Fragment:
    use_scale, mode = bool(ctx.get("use_scale", False)), ctx.get("score_mode", "dot")
    if mode not in ("dot", "concat"):
        raise ctx.unsupported(f"score_mode={mode!r} is not supported")
    kwargs: dict = {}
    params = {}
    if use_scale:
        kwargs["use_scale"] = True
        params["scale"] = fr.from_keras("scale")
    if mode == "concat":
        kwargs["score_mode"] = "concat"
        params["concat_score_weight"] = fr.from_keras("concat_score_weight")
    return _score_attention(ctx, "LuongAttention", (), kwargs, params)


@register(keras.layers.AdditiveAttention, layout=KERAS,
          note="inline BahdanauAttention module: use_scale, masks, causal, scores output")
def convert_additive_attention(ctx) -> fr.Fragment:
    use_scale = bool(ctx.get("use_scale", True))
    args = ctx.call_arguments()
    features = int(ctx.in_shape(index_of(ctx, args["inputs"][0]))[-1])
    params = {"scale": fr.from_keras("scale")} if use_scale else {}
    return _score_attention(ctx, "BahdanauAttention", (features,), {} if use_scale else {"use_scale": False}, params)

"""Attention layers of keras.layers, and EinsumDense (Keras 3.15.1).

Sources: keras/src/layers/attention/multi_head_attention.py, grouped_query_attention.py,
attention.py, additive_attention.py; keras/src/layers/activations/softmax.py;
keras/src/backend/tensorflow/nn.py (`dot_product_attention`, `_apply_masks`);
keras/src/layers/core/einsum_dense.py. Masks are bool, True = may attend, as in Keras.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


def keras_attention_mask(query, value, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
                         use_causal_mask: bool = False, sliding_window=None):
    """keras.layers.MultiHeadAttention's `_compute_attention_mask`: the AND of every mask given.

    query_mask (B, T) -> (B, T, 1); value_mask and key_mask (B, S) -> (B, 1, S); causal (1, T, S)
    lower triangular (query i sees keys j <= i); sliding_window keeps |i - j| < window;
    attention_mask (B, T, S) as given. Returns None when there is no mask at all.
    """
    masks = []
    if query_mask is not None:
        masks.append(query_mask[:, :, None])
    for mask in (value_mask, key_mask):
        if mask is not None:
            masks.append(mask[:, None, :])
    i = torch.arange(query.shape[1], device=query.device)[:, None]
    j = torch.arange(value.shape[1], device=query.device)[None, :]
    if use_causal_mask:
        masks.append((j <= i)[None])
    if sliding_window is not None:
        masks.append(((i - j).abs() < sliding_window)[None])
    if attention_mask is not None:
        masks.append(attention_mask.bool())
    if not masks:
        return None
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined & mask
    return combined


class MultiHeadAttention(nn.Module):
    """keras.layers.MultiHeadAttention (and GroupedQueryAttention): four nn.Linear projections.

    Not nn.MultiheadAttention: it needs key_dim * num_heads == embed_dim, value_dim == key_dim and
    an output as wide as the query, takes its masks inverted (True = blocked) and masks with -inf,
    so a fully masked row gives NaN where Keras gives numbers. Keras' EinsumDense kernels
    (features, heads, head_dim) are these Linear weights with heads and head_dim flattened.

    Keras takes one of two paths (MultiHeadAttention._compute_attention), and so does this module:
    - the fused path (ops.dot_product_attention), when there is no dropout and the scores are not
      returned: masked logits become -0.7 * 3.38953e38, a finite number, so a query that may
      attend to nothing attends uniformly to every key. Here: F.scaled_dot_product_attention with
      that number as an additive mask (a bool mask would give NaN or 0 for such rows).
    - the explicit path (dropout > 0 or return_attention_scores): keras.layers.Softmax sets masked
      logits to -1e9 and zeroes masked probabilities afterwards, so such a query attends to nothing.
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int, query_features: int, key_features: int,
                 value_features: int, output_shape, num_key_value_heads=None, bias: bool = True, gate: bool = False,
                 dropout: float = 0.0, sliding_window=None):
        super().__init__()
        self.num_heads = num_heads
        self.num_key_value_heads = num_key_value_heads or num_heads
        self.scale = 1.0 / math.sqrt(key_dim)
        self.dropout = dropout
        self.sliding_window = sliding_window
        self.output_shape = tuple(output_shape)
        self.query = nn.Linear(query_features, num_heads * key_dim, bias=bias)
        self.key = nn.Linear(key_features, self.num_key_value_heads * key_dim, bias=bias)
        self.value = nn.Linear(value_features, self.num_key_value_heads * value_dim, bias=bias)
        self.gate = nn.Linear(query_features, num_heads * value_dim, bias=bias) if gate else None
        self.output = nn.Linear(num_heads * value_dim, math.prod(self.output_shape), bias=bias)

    def forward(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
                use_causal_mask: bool = False, return_attention_scores: bool = False):
        if key is None:
            key = value
        causal_only = use_causal_mask and self.sliding_window is None and all(
            m is None for m in (query_mask, value_mask, key_mask, attention_mask))
        mask = None if causal_only else keras_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, self.sliding_window)
        if mask is not None:
            mask = mask[:, None]  # (B, 1, T, S): the same for every head
        # (B, T, features) -> (B, heads, T, head_dim)
        q = self.query(query).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
        k = self.key(key).unflatten(-1, (self.num_key_value_heads, -1)).transpose(1, 2)
        v = self.value(value).unflatten(-1, (self.num_key_value_heads, -1)).transpose(1, 2)
        if self.num_key_value_heads != self.num_heads:  # grouped query attention: ops.repeat on the heads
            k = k.repeat_interleave(self.num_heads // self.num_key_value_heads, dim=1)
            v = v.repeat_interleave(self.num_heads // self.num_key_value_heads, dim=1)
        scores = None
        if return_attention_scores or self.dropout > 0:
            if causal_only:
                mask = keras_attention_mask(query, value, use_causal_mask=True)[:, None]
            scores = (q * self.scale) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores.masked_fill(~mask, -1e9)
            scores = scores.softmax(dim=-1)
            if mask is not None:
                scores = scores.masked_fill(~mask, 0.0)
            out = F.dropout(scores, self.dropout, self.training) @ v
        else:
            bias = None
            if mask is not None:
                bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill(~mask, -0.7 * 3.38953e38)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, is_causal=causal_only, scale=self.scale)
        out = out.transpose(1, 2).flatten(2)  # (B, T, heads * value_dim)
        if self.gate is not None:
            out = out * torch.sigmoid(self.gate(query))
        out = self.output(out)
        if len(self.output_shape) > 1:
            out = out.unflatten(-1, self.output_shape)
        return (out, scores) if return_attention_scores else out


def apply_attention_scores(scores, value, query_mask=None, value_mask=None, use_causal_mask: bool = False):
    """The end of keras.layers.Attention / AdditiveAttention (`_apply_scores` and `call`).

    Keras subtracts 1e9 from masked scores (it does not replace them), softmaxes, and zeroes the
    output rows of masked queries; the attention weights returned are not zeroed.
    """
    allowed = None if value_mask is None else value_mask[:, None, :]
    if use_causal_mask:
        i = torch.arange(scores.shape[-2], device=scores.device)[:, None]
        causal = (torch.arange(scores.shape[-1], device=scores.device)[None, :] <= i)[None]
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        scores = torch.where(allowed, scores, scores - 1e9)
    weights = scores.softmax(dim=-1)
    out = weights @ value
    if query_mask is not None:
        out = out.masked_fill(~query_mask[:, :, None], 0.0)
    return out, weights


class LuongAttention(nn.Module):
    """keras.layers.Attention: dot-product (Luong) or 'concat' scores, no projections.

    score_mode='dot': query @ key^T, times the scalar `scale` if use_scale. score_mode='concat':
    concat_score_weight * sum(tanh(scale * (query + key))) over the features.
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot"):
        super().__init__()
        self.score_mode = score_mode
        self.scale = nn.Parameter(torch.ones(())) if use_scale else None
        self.concat_score_weight = nn.Parameter(torch.ones(())) if score_mode == "concat" else None

    def forward(self, query, value, key=None, query_mask=None, value_mask=None, use_causal_mask: bool = False,
                return_attention_scores: bool = False):
        if key is None:
            key = value
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)
            if self.scale is not None:
                scores = scores * self.scale
        else:
            pairs = query[:, :, None, :] + key[:, None, :, :]  # (B, T, S, features)
            if self.scale is not None:
                pairs = self.scale * pairs
            scores = self.concat_score_weight * torch.tanh(pairs).sum(dim=-1)
        out, weights = apply_attention_scores(scores, value, query_mask, value_mask, use_causal_mask)
        return (out, weights) if return_attention_scores else out


class BahdanauAttention(nn.Module):
    """keras.layers.AdditiveAttention: scores = sum(scale * tanh(query + key)) over the features.

    `scale` has one factor per feature (use_scale=True, the default); no projections.
    """

    def __init__(self, features: int, use_scale: bool = True):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(features)) if use_scale else None

    def forward(self, query, value, key=None, query_mask=None, value_mask=None, use_causal_mask: bool = False,
                return_attention_scores: bool = False):
        if key is None:
            key = value
        pairs = torch.tanh(query[:, :, None, :] + key[:, None, :, :])  # (B, T, S, features)
        if self.scale is not None:
            pairs = self.scale * pairs
        scores = pairs.sum(dim=-1)
        out, weights = apply_attention_scores(scores, value, query_mask, value_mask, use_causal_mask)
        return (out, weights) if return_attention_scores else out


class EinsumDense(nn.Module):
    """keras.layers.EinsumDense: torch.einsum(equation, x, kernel) + bias, the kernel as Keras stores it.

    The bias has Keras' shape: it covers the output axes from the first biased one to the last,
    with 1 where an axis is not biased, and broadcasts against the output as is.
    """

    def __init__(self, equation: str, kernel_shape, bias_shape=None):
        super().__init__()
        self.equation = equation
        self.kernel = nn.Parameter(torch.zeros(kernel_shape))
        self.bias = nn.Parameter(torch.zeros(bias_shape)) if bias_shape is not None else None

    def forward(self, x):
        y = torch.einsum(self.equation, x, self.kernel)
        return y if self.bias is None else y + self.bias

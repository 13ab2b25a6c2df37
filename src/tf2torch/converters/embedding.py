"""Embedding: nn.Embedding with the Keras table copied as is.

Semantics from keras/src/layers/core/embedding.py (Keras 3.15.1):
- `embeddings` is (input_dim, output_dim), the same layout as nn.Embedding.weight (no transpose);
- `call` casts ids that are not int32/int64 to int32 (truncation toward zero, like `.long()`);
- `compute_mask` is `ops.not_equal(ids, 0)` when mask_zero=True: the front-end records that mask as
  its own NotEqual node, which reaches the layers Keras gives it to (RNNs, attention,
  GlobalAveragePooling1D, ...), so the generated code has `mask = x != 0` and passes it on.
  mask_zero is never `padding_idx`: padding_idx zeroes row 0, Keras keeps and trains it.
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import nn
from ..layout import Layout
from ..registry import register

_TORCH_INDEX_DTYPES = ("int32", "int64")  # nn.Embedding takes IntTensor or LongTensor ids


@register(keras.layers.Embedding, note="table copied as is; mask_zero gives an explicit `ids != 0` mask")
def convert_embedding(ctx) -> fr.Fragment:
    if not ctx.has_weight("embeddings") or ctx.has_weight("lora_embeddings_a"):
        raise ctx.unsupported("quantized or LoRA embeddings are not supported",
                              "merge LoRA / dequantize the table into a plain Embedding before converting")
    input_dim, output_dim = (int(d) for d in ctx.weight("embeddings").shape)
    if ctx.get("mask_zero", False):
        ctx.hint_padding(0, 0)  # verification feeds pre- and post-padded id sequences
    ctx.hint_value_range(0, 0, input_dim)  # verification feeds valid ids only
    ids, layout = ctx.input_unflattened(0)
    if ctx.inputs[0].dtype not in _TORCH_INDEX_DTYPES:  # Keras casts to int32: truncation toward zero
        ids = ids.method("long")
    ctor = nn.attr("Embedding")(input_dim, output_dim)
    params = {"weight": fr.from_keras("embeddings")}
    # the looked-up vectors follow the ids' layout, the feature axis comes last
    out_layout = Layout(layout.perm + (layout.rank,))
    return fr.Fragment([fr.SelfAttr()(ids)], [out_layout], modules={"": fr.TorchModule(ctor, params)})


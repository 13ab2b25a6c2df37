"""EinsumDense: nn.Linear when the equation is a dense layer on the last axis, torch.einsum otherwise.

Semantics from keras/src/layers/core/einsum_dense.py (Keras 3.15.1): `call` is
`activation(einsum(equation, x, kernel) + bias)`; the kernel's axes follow the weight spec of the
equation; the bias covers the output spec from its first biased axis to the end, with 1 for the
axes that are not biased (`_analyze_split_string`), so it broadcasts against the output as is.
Equations are "[X],[Y]->[Z]", "...[X],[Y]->...[Z]" or "[X]...,[Y]->[Z]...", which torch.einsum
reads unchanged.
"""
from __future__ import annotations

import math

import keras

from .. import fragment as fr
from ..fragment import Reshape, Transpose, nn
from ..layout import Layout
from ..registry import KERAS, register
from .activations import activation


def parse(equation: str) -> tuple[str, str, str]:
    """(input spec, kernel spec, output spec) with the ellipsis kept as '...'."""
    lhs, out = equation.replace(" ", "").split("->")
    x_spec, w_spec = lhs.split(",")
    return x_spec, w_spec, out


def as_linear(x_spec: str, w_spec: str, out_spec: str, bias_axes: str | None):
    """The new output letters if the equation is x[..., c] @ kernel[c, new...] -> out[..., new...]
    with the kept letters in place (and the bias, if any, over exactly the new letters); else None."""
    if x_spec.endswith("...") or x_spec.startswith("...") != out_spec.startswith("..."):
        return None
    x, out = x_spec.replace("...", ""), out_spec.replace("...", "")
    if not x or len(set(x)) != len(x) or len(set(w_spec)) != len(w_spec):
        return None
    kept, c = x[:-1], x[-1]
    new = out[len(kept):]
    if out[:len(kept)] != kept or not new or c in out or set(w_spec) != set(new) | {c} or len(w_spec) != len(new) + 1:
        return None
    if any(letter in w_spec for letter in kept):
        return None
    if bias_axes is not None and set(bias_axes) != set(new):
        return None
    return new


@register(keras.layers.EinsumDense, layout=KERAS,
          note="nn.Linear when the equation is a dense layer on the last axis (more output axes unflattened); "
               "else an inline EinsumDense module (torch.einsum, the kernel as Keras stores it); bias_axes, activation")
def convert_einsum_dense(ctx) -> fr.Fragment:
    unknown = [path for path, _ in ctx.layer.weights if path.split("/")[-1] not in ("kernel", "bias")]
    if unknown or not ctx.has_weight("kernel"):
        raise ctx.unsupported(f"quantized or LoRA EinsumDense is not supported (weights: {unknown})",
                              "merge LoRA / dequantize the kernel before converting")
    equation = str(ctx.get("equation"))
    bias_axes = ctx.get("bias_axes") or None
    x_spec, w_spec, out_spec = parse(equation)
    kernel_shape = tuple(int(d) for d in ctx.weight("kernel").shape)
    has_bias = bias_axes is not None and ctx.has_weight("bias")
    x = ctx.input_keras(0)
    out_layout = Layout.keras(len(ctx.out_shape(0)))

    new = as_linear(x_spec, w_spec, out_spec, bias_axes if has_bias else None)
    if new is not None:
        c = x_spec.replace("...", "")[-1]
        new_dims = tuple(kernel_shape[w_spec.index(letter)] for letter in new)
        n_in, n_out = kernel_shape[w_spec.index(c)], math.prod(new_dims)
        order = tuple(w_spec.index(letter) for letter in new) + (w_spec.index(c),)
        transforms = ((Transpose(order),) if order != tuple(range(len(order))) else ()) + (Reshape((n_out, n_in)),)
        params = {"weight": fr.from_keras("kernel", *transforms)}
        if has_bias:  # the bias spans exactly the new axes, in output order
            params["bias"] = fr.from_keras("bias", Reshape((n_out,)))
        ctor = nn.attr("Linear")(n_in, n_out, **({} if has_bias else {"bias": False}))
        y = fr.SelfAttr()(x)
        if len(new_dims) > 1:
            y = y.method("unflatten", -1, new_dims)
        description = f"nn.Linear for {equation!r}"
    else:
        params = {"kernel": fr.from_keras("kernel")}
        kwargs = {}
        if has_bias:
            params["bias"] = fr.from_keras("bias")
            kwargs["bias_shape"] = tuple(int(d) for d in ctx.weight("bias").shape)
        ctor = fr.Helper("EinsumDense")(equation, kernel_shape, **kwargs)
        y = fr.SelfAttr()(x)
        description = f"torch.einsum({equation!r}, x, kernel)"
    y = activation(ctx, y, ctx.get("activation"), -1)
    return fr.Fragment([y], [out_layout], modules={"": fr.TorchModule(ctor, params)}, description=description)


"""Convolutional recurrent layers: ConvLSTM1D/2D/3D as the inline ConvLSTM helper (helpers/conv_recurrent.py).

torch has no convolutional LSTM: the helper holds two torch convolutions and loops over time.
Semantics from Keras 3.15.1:
- keras/src/layers/rnn/conv_lstm.py (ConvLSTMCell): kernel (k..., in, 4F) and recurrent_kernel
  (k..., F, 4F) split along the last axis into gates i, f, c, o; one bias (4F,) added to the input
  convolution only; the input convolution has the layer's strides, padding and dilation, the
  recurrent one is always padding='same', stride 1, no dilation. Spatial dims must be static.
- keras/src/layers/rnn/rnn.py and backend/tensorflow/rnn.py: `go_backwards` reads the input (and
  the mask) reversed and returns outputs in processing order; `return_sequences=False` returns the
  last output; `return_state` returns `[output, h, c]`; a masked step keeps the states and repeats
  the previous output (zeros with `zero_output_for_mask`); dropouts act only in training.
Tensors stay channels-first: the sequence is (N, T, F, *spatial), the states (N, F, *spatial).
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import F, nn
from ..ir import TensorRef
from ..layout import Layout
from ..registry import KERAS, register
from ._padding import as_tuple, simplify, static_same_pads, torch_pad_arg
from .activations import activation_name
from .conv import _TORCH_CONV, check_channels_last, conv_kwargs, kernel_to_torch

# Keras activation -> torch module: the helper applies activations as modules
_ACTIVATIONS = {
    None: "Identity", "linear": "Identity", "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "ReLU", "relu6": "ReLU6",
    "elu": "ELU", "selu": "SELU", "celu": "CELU", "softplus": "Softplus", "softsign": "Softsign", "silu": "SiLU",
    "swish": "SiLU", "gelu": "GELU", "mish": "Mish", "hard_silu": "Hardswish", "hard_swish": "Hardswish",
    "hard_tanh": "Hardtanh", "log_sigmoid": "LogSigmoid", "tanh_shrink": "Tanhshrink",
}


def activation_module(ctx, key: str) -> fr.Expr:
    value = ctx.get(key)
    if isinstance(value, dict) and isinstance(value.get("config"), dict):
        raise ctx.unsupported(f"{key}= a layer object is not supported here", "use a keras.activations name")
    name = activation_name(value)
    if name == "hard_sigmoid" and ctx.origin != "keras2":  # Keras 3: relu6(x + 3) / 6 = nn.Hardsigmoid
        return nn.attr("Hardsigmoid")()
    if name not in _ACTIVATIONS:
        raise ctx.unsupported(f"{key}={name!r} is not supported in a ConvLSTM",
                              "use tanh, sigmoid, relu, hard_sigmoid (Keras 3) or another torch.nn activation")
    return nn.attr(_ACTIVATIONS[name])()


def conv_padding(pads: list[tuple[int, int]], stride: tuple) -> tuple[object, tuple | None]:
    """(the conv's padding argument, an F.pad argument for the input or None) reproducing `pads`."""
    if all(b == a for b, a in pads):
        return simplify(tuple(b for b, _ in pads)), None
    if all(s == 1 for s in stride):  # torch's 'same' puts the odd pixel after, as TF does
        return "same", None
    return 0, torch_pad_arg(pads)


@register(keras.layers.ConvLSTM1D, keras.layers.ConvLSTM2D, keras.layers.ConvLSTM3D, layout=KERAS,
          note="inline ConvLSTM module (input and recurrent convolutions, time loop); valid/same (TF asymmetric "
               "padding), strides, dilation, go_backwards, return_sequences/state, initial_state, masks; "
               "no stateful, no channels_first")
def convert_conv_lstm(ctx) -> fr.Fragment:
    check_channels_last(ctx)
    if ctx.get("stateful", False):
        raise ctx.unsupported("stateful=True carries each batch's final state into the next call; "
                              "the generated module is stateless",
                              "convert the same model built with stateful=False and pass the states "
                              "between calls yourself (initial_state)")
    if (ctx.training or ctx.call_argument("training") is True) and (ctx.get("dropout", 0) or ctx.get("recurrent_dropout", 0)):
        raise ctx.unsupported("called with training=True: dropout masks are random", "call the layer in inference mode")
    rank = ctx.in_rank(0)
    n = rank - 3
    spatial = tuple(ctx.in_shape(0)[2:-1])
    kernel = as_tuple(ctx.get("kernel_size"), n)
    stride = as_tuple(ctx.get("strides", 1), n)
    dilation = as_tuple(ctx.get("dilation_rate", 1), n)
    weights = ctx.weight("kernel")  # (k..., in, 4F)
    in_ch, filters = int(weights.shape[-2]), int(weights.shape[-1]) // 4
    use_bias = bool(ctx.get("use_bias", True))

    padding = str(ctx.get("padding", "valid")).lower()
    if padding == "valid":
        input_padding, input_pad = 0, None
    elif padding == "same":
        if any(s is None for s in spatial):
            raise ctx.unsupported("'same' padding needs static spatial dims")
        input_padding, input_pad = conv_padding(static_same_pads(spatial, kernel, stride, dilation), stride)
    else:
        raise ctx.unsupported(f"padding={padding!r} is not supported")
    # the recurrent convolution: Keras' ConvLSTMCell.recurrent_conv, 'same', stride 1, no dilation
    recurrent_padding, _ = conv_padding(static_same_pads((None,) * n, kernel, (1,) * n, (1,) * n), (1,) * n)

    conv = nn.attr(_TORCH_CONV[n])
    input_conv = conv(in_ch, 4 * filters, **conv_kwargs(kernel, stride, input_padding, dilation, bias=use_bias))
    recurrent_conv = conv(filters, 4 * filters, **conv_kwargs(kernel, (1,) * n, recurrent_padding, (1,) * n, bias=False))
    helper_kwargs = {"zero_output_for_mask": True} if ctx.get("zero_output_for_mask", False) else {}
    ctor = fr.Helper("ConvLSTM")(input_conv, recurrent_conv, activation_module(ctx, "activation"),
                                 activation_module(ctx, "recurrent_activation"), **helper_kwargs)
    params = {"input_conv.weight": fr.from_keras("kernel", kernel_to_torch(n)),
              "recurrent_conv.weight": fr.from_keras("recurrent_kernel", kernel_to_torch(n))}
    if use_bias:
        params["input_conv.bias"] = fr.from_keras("bias")

    # (N, T, C, *spatial): time second, channels-first at each step
    sequence_layout = Layout((0, 1, rank - 1) + tuple(range(2, rank - 1)))
    x = ctx.input(0, sequence_layout)
    if input_pad is not None:  # TF's 'same' at stride > 1 pads the odd pixel after: F.pad pads the last dims
        x = F.attr("pad")(x, input_pad)
    mask = ctx.mask()  # the mask given to the call or the input's Keras mask, bool (N, T[, *spatial])
    backwards = bool(ctx.get("go_backwards", False))
    if backwards:  # outputs stay in processing (reversed) order, like Keras
        x = x.method("flip", 1)
        mask = None if mask is None else mask.method("flip", 1)
    args: list = [x]
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = mask
    state = initial_state(ctx, n)
    if state is not None:
        kwargs["initial_state"] = state
    call = fr.SelfAttr()(*args, **kwargs)

    sequences = bool(ctx.get("return_sequences", False))
    states = bool(ctx.get("return_state", False))
    state_layout = Layout.channels_first(n + 2)
    seq, h, c = fr.Local("seq"), fr.Local("h"), fr.Local("c")
    if sequences and not states:
        steps, outputs, layouts = [], [call[0]], [sequence_layout]
    elif not states:
        steps, outputs, layouts = [], [call[0][:, -1]], [state_layout]
    else:
        steps = [((seq, (h, c)), call)]
        outputs = [seq if sequences else seq[:, -1], h, c]
        layouts = [sequence_layout if sequences else state_layout, state_layout, state_layout]
    what = "sequence" if sequences else "last output"
    return fr.Fragment(outputs, layouts, modules={"": fr.TorchModule(ctor, params)}, steps=steps,
                       description=f"ConvLSTM (inline module), {what}" + (" and final states" if states else ""))


def initial_state(ctx, n: int) -> fr.Expr | None:
    """Keras initial_state=[h0, c0] (each (N, *spatial, F)) as the helper's channels-first (h0, c0)."""
    given = ctx.call_argument("initial_state")
    if given is None:
        return None
    given = list(given) if isinstance(given, (list, tuple)) else [given]
    if len(given) != 2 or not all(isinstance(s, TensorRef) for s in given):
        raise ctx.unsupported("initial_state must be 2 tensors of the graph ([h, c])")
    return fr.TupleExpr(tuple(ctx.input(ctx.node.inputs.index(s.id), Layout.channels_first(n + 2)) for s in given))

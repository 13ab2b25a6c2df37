"""Recurrent layers: LSTM, GRU (reset_after=True) and SimpleRNN as nn.LSTM / nn.GRU / nn.RNN.

Sequences stay batch-major (N, T, F) (`batch_first=True`). Semantics from Keras 3.15.1:
- keras/src/layers/rnn/rnn.py: `return_sequences=False` returns the last output, which for these
  cells is the final hidden state (torch's h_n[-1]); `return_state` returns `[output, *states]`
  (LSTM states `[h, c]`); `go_backwards` reads the input reversed and returns the output sequence
  in processing order, not flipped back (also backend/tensorflow/rnn.py); `dropout` and
  `recurrent_dropout` act only in training, so they are identity here.
- keras/src/layers/rnn/lstm.py: kernel (in, 4U), recurrent_kernel (U, 4U), one bias (4U,), gates
  i, f, c, o = torch's i, f, g, o: weight_ih = kernel.T, weight_hh = recurrent_kernel.T,
  bias_ih = bias, bias_hh = 0.
- keras/src/layers/rnn/gru.py: gates z, r, h (torch: r, z, n); with reset_after=True the bias is
  (2, 3U) = [input bias, recurrent bias] and `hh = tanh(x W_h + b_ih + r * (h U_h + b_hh))`,
  torch's `n`; reset_after=False applies r before the matmul, which torch cannot express.
- keras/src/layers/rnn/simple_rnn.py: kernel (in, U), recurrent_kernel (U, U), bias (U,).
Weights live under the cell ("lstm_cell/kernel"); ctx.weight matches trailing path components.
"""
from __future__ import annotations

import keras
import numpy as np

from .. import fragment as fr
from ..fragment import Take, Transpose, nn
from ..ir import TensorRef
from ..layout import Layout
from ..registry import KERAS, register
from .activations import activation_name

_T = Transpose((1, 0))


@register(keras.layers.LSTM, layout=KERAS, note="nn.LSTM; tanh/sigmoid only; no masks, no stateful")
def convert_lstm(ctx) -> fr.Fragment:
    check_common(ctx)
    check_activations(ctx, "tanh", "sigmoid")
    units = int(ctx.get("units"))
    params = {"weight_ih_l0": fr.from_keras("kernel", _T), "weight_hh_l0": fr.from_keras("recurrent_kernel", _T)}
    if ctx.get("use_bias", True):
        params["bias_ih_l0"] = fr.from_keras("bias")
        params["bias_hh_l0"] = fr.constant(np.zeros(4 * units, np.float32))  # Keras has one bias
    return recurrent_fragment(ctx, "LSTM", units, params, n_states=2)


@register(keras.layers.GRU, layout=KERAS, note="nn.GRU; reset_after=True, tanh/sigmoid only; no masks, no stateful")
def convert_gru(ctx) -> fr.Fragment:
    check_common(ctx)
    check_activations(ctx, "tanh", "sigmoid")
    if not ctx.get("reset_after", True):
        raise ctx.unsupported("GRU(reset_after=False) applies the reset gate before the recurrent matmul, "
                              "which nn.GRU cannot express; custom cells are not supported yet",
                              "retrain with reset_after=True (the Keras 3 default)")
    units = int(ctx.get("units"))
    gates = np.concatenate([np.arange(units, 2 * units), np.arange(units), np.arange(2 * units, 3 * units)])  # z,r,h -> r,z,n
    params = {"weight_ih_l0": fr.from_keras("kernel", Take(gates, 1), _T),
              "weight_hh_l0": fr.from_keras("recurrent_kernel", Take(gates, 1), _T)}
    if ctx.get("use_bias", True):
        params["bias_ih_l0"] = fr.from_keras("bias", Take(np.asarray(0), 0), Take(gates, 0))  # bias[0]: input bias
        params["bias_hh_l0"] = fr.from_keras("bias", Take(np.asarray(1), 0), Take(gates, 0))  # bias[1]: recurrent bias
    return recurrent_fragment(ctx, "GRU", units, params, n_states=1)


@register(keras.layers.SimpleRNN, layout=KERAS, note="nn.RNN; tanh or relu only; no masks, no stateful")
def convert_simple_rnn(ctx) -> fr.Fragment:
    check_common(ctx)
    name = activation_name(ctx.get("activation"))
    if name not in ("tanh", "relu"):
        raise ctx.unsupported(f"SimpleRNN activation {name!r} is not supported (nn.RNN has tanh and relu)",
                              "custom cells are not supported yet")
    units = int(ctx.get("units"))
    params = {"weight_ih_l0": fr.from_keras("kernel", _T), "weight_hh_l0": fr.from_keras("recurrent_kernel", _T)}
    if ctx.get("use_bias", True):
        params["bias_ih_l0"] = fr.from_keras("bias")
        params["bias_hh_l0"] = fr.constant(np.zeros(units, np.float32))
    extra = {"nonlinearity": "relu"} if name == "relu" else {}
    return recurrent_fragment(ctx, "RNN", units, params, n_states=1, **extra)


# ----------------------------------------------------------------------------------------------
def check_common(ctx) -> None:
    if ctx.get("stateful", False):
        raise ctx.unsupported("stateful=True carries each batch's final state into the next call; "
                              "the generated module is stateless",
                              "convert the same model built with stateful=False and pass the states "
                              "between calls yourself (initial_state)")
    if call_argument(ctx, "mask", 2) is not None:
        raise ctx.unsupported("input masks (Embedding mask_zero=True, Masking) are not supported yet: this layer reads one",
                              "masks arrive with issue 5; until then feed unpadded sequences without masking")
    if ctx.get("time_major", False):  # tf.keras 2 only (tf_keras/src/layers/rnn/base_rnn.py); gone in Keras 3
        raise ctx.unsupported("time_major=True (time-first inputs) is not supported", "rebuild the model batch-major")
    if (ctx.training or call_argument(ctx, "training", 3) is True) and (ctx.get("dropout", 0) or ctx.get("recurrent_dropout", 0)):
        raise ctx.unsupported("called with training=True: dropout masks are random", "call the layer in inference mode")
    if ctx.in_rank(0) != 3:
        raise ctx.unsupported(f"expected a (batch, time, features) input, got rank {ctx.in_rank(0)}")


def check_activations(ctx, activation: str, recurrent_activation: str) -> None:
    got = (activation_name(ctx.get("activation")), activation_name(ctx.get("recurrent_activation")))
    if got != (activation, recurrent_activation):
        raise ctx.unsupported(
            f"activation={got[0]!r}, recurrent_activation={got[1]!r}: torch's fused cell is fixed to "
            f"{activation!r}/{recurrent_activation!r}; custom cells are not supported yet",
            "custom recurrent cells arrive with issue 5 (Keras 2's hard_sigmoid default included)")


def call_argument(ctx, name: str, position: int):
    """A call argument of the Keras layer (RNN.call(sequences, initial_state, mask, training))."""
    args = ctx.node.args
    return args[position] if len(args) > position else ctx.node.kwargs.get(name)


def recurrent_fragment(ctx, torch_class: str, units: int, params: dict, n_states: int, **extra) -> fr.Fragment:
    """The torch call and its outputs, written like hand-written code.

    return_sequences=False: `_, (h_n, _) = self.lstm(x)` and the output is `h_n[-1]`;
    return_sequences=True: `self.lstm(x)[0]`; return_state names the final states `h = h_n[-1]`,
    `c = c_n[-1]` so that every output that is the same tensor is one variable.
    """
    n_in = int(ctx.in_shape(0)[-1])
    kwargs = dict(extra)
    if not ctx.get("use_bias", True):
        kwargs["bias"] = False
    kwargs["batch_first"] = True
    ctor = nn.attr(torch_class)(n_in, units, **kwargs)
    x = ctx.input_keras(0)
    if ctx.get("go_backwards", False):
        x = x.method("flip", 1)  # the output stays in processing (reversed) order, like Keras
    call = fr.SelfAttr()(x, *initial_state(ctx, n_states))

    sequences = bool(ctx.get("return_sequences", False))
    states = bool(ctx.get("return_state", False))
    seq_layout, state_layout = Layout.keras(3), Layout.keras(2)
    steps: list = []
    if sequences and not states:
        outputs, layouts = [call[0]], [seq_layout]
    else:
        # torch's final states are (num_layers, N, U): h_n[-1] is Keras' (N, U) state
        h_n, c_n = fr.Local("h_n"), fr.Local("c_n")
        keep_c = states and n_states == 2
        state_target = (h_n, c_n if keep_c else None) if n_states == 2 else h_n
        seq = fr.Local("seq") if sequences else None
        steps.append(((seq, state_target), call))
        if not states:
            outputs, layouts = [h_n[-1]], [state_layout]
        else:
            finals = [fr.Local("h")] + ([fr.Local("c")] if keep_c else [])
            steps += [(finals[0], h_n[-1])] + ([(finals[1], c_n[-1])] if keep_c else [])
            outputs = [seq if sequences else finals[0]] + finals
            layouts = [seq_layout if sequences else state_layout] + [state_layout] * len(finals)
    what = "sequence" if sequences else "last hidden state"
    return fr.Fragment(outputs, layouts, modules={"": fr.TorchModule(ctor, params)}, steps=steps,
                       description=f"nn.{torch_class}, {what}" + (" and final states" if states else ""))


def initial_state(ctx, n_states: int) -> list[fr.Expr]:
    """Keras initial_state=[h0(, c0)] (each (N, U)) as torch's (1, N, U) state argument."""
    given = call_argument(ctx, "initial_state", 1)
    if given is None:
        return []
    given = list(given) if isinstance(given, (list, tuple)) else [given]
    if len(given) != n_states or not all(isinstance(s, TensorRef) for s in given):
        raise ctx.unsupported(f"initial_state must be {n_states} tensor(s) of the graph")
    exprs = [ctx.input_keras(ctx.node.inputs.index(s.id)).method("unsqueeze", 0) for s in given]
    return [fr.TupleExpr(tuple(exprs))] if n_states == 2 else exprs

"""Recurrent cells shared by LSTM/GRU/SimpleRNN, RNN(cell) and Bidirectional: which torch module, which
weights, and the call under a Keras mask. No converter is registered here.

Semantics from Keras 3.15.1:
- keras/src/layers/rnn/lstm.py: kernel (in, 4U), recurrent_kernel (U, 4U), one bias (4U,), gates
  i, f, c, o = torch's i, f, g, o: weight_ih = kernel.T, weight_hh = recurrent_kernel.T,
  bias_ih = bias, bias_hh = 0.
- keras/src/layers/rnn/gru.py: gates z, r, h (torch: r, z, n); with reset_after=True the bias is
  (2, 3U) = [input bias, recurrent bias] and `hh = act(x W_h + b_ih + r * (h U_h + b_hh))`,
  torch's `n`; reset_after=False has one bias (3U,) and applies r to h before the matmul, which
  nn.GRU cannot express (helpers.recurrent.KerasGRU does).
- keras/src/layers/rnn/simple_rnn.py: kernel (in, U), recurrent_kernel (U, U), bias (U,).
- keras/src/backend/tensorflow/rnn.py: under a mask the states are carried over masked steps and
  the output repeats the previous one, or is zeros with zero_output_for_mask (helpers.recurrent.keras_rnn).
torch's fused modules are used where exact (tanh/sigmoid, GRU reset_after=True, SimpleRNN tanh or
relu); other activations and reset_after=False use the inline modules of helpers/recurrent.py,
which keep torch's parameter names, so the weight mapping below is the same for both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import fragment as fr
from ..fragment import F, Take, Transpose, nn, torch
from .activations import _SIMPLE, activation_name

_T = Transpose((1, 0))
KINDS = {"LSTM": "LSTM", "LSTMCell": "LSTM", "GRU": "GRU", "GRUCell": "GRU", "SimpleRNN": "RNN", "SimpleRNNCell": "RNN"}
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_HELPER = {"LSTM": "KerasLSTM", "GRU": "KerasGRU", "RNN": "KerasSimpleRNN"}
_DEFAULT_ACT = {"LSTM": ("tanh", "sigmoid"), "GRU": ("tanh", "sigmoid"), "RNN": ("tanh", None)}


@dataclass
class Cell:
    """One recurrent cell: its Keras config and where its weights are (`prefix` + "kernel")."""

    kind: str  # "LSTM", "GRU" or "RNN"
    config: dict
    prefix: str = ""
    n_in: int = 0

    @property
    def units(self) -> int:
        return int(self.config["units"])

    @property
    def use_bias(self) -> bool:
        return bool(self.config.get("use_bias", True))

    @property
    def reset_after(self) -> bool:
        return self.kind != "GRU" or bool(self.config.get("reset_after", True))

    @property
    def n_states(self) -> int:
        return 2 if self.kind == "LSTM" else 1

    def activations(self) -> tuple[str | None, str | None]:
        act = activation_name(self.config.get("activation", "tanh"))
        rec = activation_name(self.config.get("recurrent_activation", "sigmoid")) if self.kind != "RNN" else None
        return act, rec

    @property
    def exact_torch(self) -> bool:
        """Whether nn.LSTM / nn.GRU / nn.RNN computes this cell exactly."""
        act, rec = self.activations()
        if self.kind == "RNN":
            return act in ("tanh", "relu")
        return (act, rec) == ("tanh", "sigmoid") and self.reset_after

    def same_torch_module(self, other: "Cell") -> bool:
        """Whether the two cells can be the two directions of one bidirectional torch module."""
        return (self.exact_torch and other.exact_torch and self.kind == other.kind and self.units == other.units
                and self.use_bias == other.use_bias and self.activations() == other.activations())


def check_cell(ctx, cell: Cell) -> None:
    if cell.config.get("stateful", False):
        raise ctx.unsupported("stateful=True carries each batch's final state into the next call; "
                              "the generated module is stateless",
                              "convert the same model built with stateful=False and pass the states "
                              "between calls yourself (initial_state)")
    if cell.config.get("time_major", False):  # tf.keras 2 only (tf_keras/src/layers/rnn/base_rnn.py)
        raise ctx.unsupported("time_major=True (time-first inputs) is not supported", "rebuild the model batch-major")
    if ctx.training and (cell.config.get("dropout", 0) or cell.config.get("recurrent_dropout", 0)):
        raise ctx.unsupported("called with training=True: dropout masks are random", "call the layer in inference mode")
    if not cell.exact_torch:  # refuse activations the custom module cannot take now, not at run time
        for value in (cell.config.get("activation"), cell.config.get("recurrent_activation")):
            if value is not None:
                activation_fn(ctx, value)


def activation_fn(ctx, value) -> fr.Expr:
    """A Keras activation as a torch function to pass to the custom modules (None: identity)."""
    name = activation_name(value)
    if isinstance(value, dict) and isinstance(value.get("config"), dict):
        name = None if name is None else f"{name} layer"
    if name in (None, "linear"):
        return fr.Const(None)
    if name == "hard_sigmoid":  # Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6
        return fr.Helper("keras2_hard_sigmoid") if ctx.origin == "keras2" else F.attr("hardsigmoid")
    if name in _SIMPLE:
        return _SIMPLE[name]
    raise ctx.unsupported(f"recurrent activation {name!r} is not supported (it takes arguments or an axis)",
                          "use an element-wise keras.activations function")


def cell_params(cell: Cell, suffix: str = "_l0") -> dict[str, fr.Param]:
    """The torch parameters of one direction, from the cell's Keras weights."""
    u, src = cell.units, (lambda name: cell.prefix + name)
    if cell.kind == "GRU":
        gates = np.concatenate([np.arange(u, 2 * u), np.arange(u), np.arange(2 * u, 3 * u)])  # z,r,h -> r,z,n
        params = {f"weight_ih{suffix}": fr.from_keras(src("kernel"), Take(gates, 1), _T),
                  f"weight_hh{suffix}": fr.from_keras(src("recurrent_kernel"), Take(gates, 1), _T)}
        if cell.use_bias and cell.reset_after:
            params[f"bias_ih{suffix}"] = fr.from_keras(src("bias"), Take(np.asarray(0), 0), Take(gates, 0))  # input bias
            params[f"bias_hh{suffix}"] = fr.from_keras(src("bias"), Take(np.asarray(1), 0), Take(gates, 0))  # recurrent bias
        elif cell.use_bias:  # reset_after=False: one bias
            params[f"bias_ih{suffix}"] = fr.from_keras(src("bias"), Take(gates, 0))
            params[f"bias_hh{suffix}"] = fr.constant(np.zeros(3 * u, np.float32))
        return params
    params = {f"weight_ih{suffix}": fr.from_keras(src("kernel"), _T),
              f"weight_hh{suffix}": fr.from_keras(src("recurrent_kernel"), _T)}
    if cell.use_bias:
        params[f"bias_ih{suffix}"] = fr.from_keras(src("bias"))
        params[f"bias_hh{suffix}"] = fr.constant(np.zeros(_GATES[cell.kind] * u, np.float32))  # Keras has one bias
    return params


def cell_module(ctx, cell: Cell, backward: Cell | None = None) -> fr.TorchModule:
    """nn.LSTM / nn.GRU / nn.RNN (bidirectional with `backward`) where exact, else the inline module."""
    kwargs: dict = {}
    act, rec = cell.activations()
    if cell.exact_torch:
        torch_class = cell.kind
        if cell.kind == "RNN" and act == "relu":
            kwargs["nonlinearity"] = "relu"
        ctor = nn.attr(torch_class)
    else:
        ctor = fr.Helper(_HELPER[cell.kind])
        default_act, default_rec = _DEFAULT_ACT[cell.kind]
        if act != default_act:
            kwargs["activation"] = activation_fn(ctx, cell.config.get("activation"))
        if cell.kind != "RNN" and rec != default_rec:
            kwargs["recurrent_activation"] = activation_fn(ctx, cell.config.get("recurrent_activation"))
        if not cell.reset_after:
            kwargs["reset_after"] = False
    if not cell.use_bias:
        kwargs = {"bias": False, **kwargs}
    params = cell_params(cell)
    if cell.exact_torch:
        kwargs["batch_first"] = True
    if backward is not None:
        kwargs["bidirectional"] = True
        params.update(cell_params(backward, "_l0_reverse"))
    return fr.TorchModule(ctor(cell.n_in, cell.units, **kwargs), params)


def layer_mask(ctx) -> fr.Expr | None:
    """The mask RNN.call / Bidirectional.call receives. Layer.__call__ fills `mask=` in from the input's
    Keras mask only when the call has a single tensor argument (keras/src/layers/layer.py, step 6):
    with an initial_state and no explicit mask=, Keras runs the layer unmasked."""
    given = ctx.node.kwargs.get("mask")
    if given is None and ctx.node.kwargs.get("initial_state", ctx.node.args[1] if len(ctx.node.args) > 1 else None) is not None:
        ctx.ignore_mask()
        return None
    return ctx.mask()


def rnn_call(cell: Cell, module: fr.Expr, x: fr.Expr, mask: fr.Expr | None, state: list, zero_output: bool) -> fr.Expr:
    """The call returning torch's `(output, final states)`: the module itself without a mask,
    helpers.recurrent.keras_rnn (packing, or a step loop for holes) for a torch module under a mask,
    the inline module's own `mask=` otherwise."""
    extra = {"zero_output": True} if zero_output and mask is not None else {}
    if mask is None:
        return module(x, *state)
    if cell.exact_torch:
        return fr.Helper("keras_rnn")(module, x, mask, *state, **extra)
    if not state:
        return module(x, mask=mask, **extra)
    return module(x, *state, mask=mask, **extra)


def torch_state(exprs: list[fr.Expr]) -> list[fr.Expr]:
    """Keras states [h(, c)] (each (N, U)) as torch's state argument ((1, N, U) each)."""
    exprs = [e.method("unsqueeze", 0) for e in exprs]
    return [fr.TupleExpr(tuple(exprs))] if len(exprs) == 2 else exprs


def stacked_state(forward: list[fr.Expr], backward: list[fr.Expr]) -> list[fr.Expr]:
    """Keras states of both directions as the state argument of a bidirectional torch module."""
    exprs = [torch.attr("stack")([f, b]) for f, b in zip(forward, backward)]
    return [fr.TupleExpr(tuple(exprs))] if len(exprs) == 2 else exprs

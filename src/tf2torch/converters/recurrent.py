"""Recurrent layers: LSTM, GRU, SimpleRNN and RNN(cell) as nn.LSTM / nn.GRU / nn.RNN where exact.

Sequences stay batch-major (N, T, F) (`batch_first=True`). Semantics from Keras 3.15.1:
- keras/src/layers/rnn/rnn.py: `return_sequences=False` returns the last output, which for these
  cells is the final hidden state (torch's h_n[-1]); `return_state` returns `[output, *states]`
  (LSTM states `[h, c]`); `go_backwards` reads the input (and the mask) reversed and returns the
  output sequence in processing order, not flipped back (also backend/tensorflow/rnn.py);
  `dropout` and `recurrent_dropout` act only in training, so they are identity here; `unroll`
  changes how TensorFlow runs the loop, not the values.
- backend/tensorflow/rnn.py, under a mask: states carried over masked steps, the output repeats
  the previous one (zeros before the first unmasked step), or zeros with zero_output_for_mask; the
  last output is the output of the last step. helpers.recurrent.keras_rnn runs that with torch's
  packed sequences (contiguous rows, however padded) or a step loop (rows with holes).
- Cells, weights and the custom modules: see rnn_cells.py.
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..ir import TensorRef
from ..layout import Layout
from ..registry import KERAS, register
from .rnn_cells import layer_mask, KINDS, Cell, cell_module, check_cell, rnn_call, torch_state

_EXACT = "where the activations are torch's"


@register(keras.layers.LSTM, layout=KERAS,
          note=f"nn.LSTM {_EXACT}, else an inline KerasLSTM (Keras 2 hard_sigmoid included); masks of any padding; no stateful")
def convert_lstm(ctx) -> fr.Fragment:
    return layer_fragment(ctx, [Cell("LSTM", ctx.config, n_in=_features(ctx))])


@register(keras.layers.GRU, layout=KERAS,
          note=f"nn.GRU {_EXACT} and reset_after=True, else an inline KerasGRU (reset_after=False included); masks; no stateful")
def convert_gru(ctx) -> fr.Fragment:
    return layer_fragment(ctx, [Cell("GRU", ctx.config, n_in=_features(ctx))])


@register(keras.layers.SimpleRNN, layout=KERAS,
          note="nn.RNN for tanh or relu, else an inline KerasSimpleRNN; masks; no stateful")
def convert_simple_rnn(ctx) -> fr.Fragment:
    return layer_fragment(ctx, [Cell("RNN", ctx.config, n_in=_features(ctx))])


@register(keras.layers.RNN, layout=KERAS,
          note="RNN(LSTMCell / GRUCell / SimpleRNNCell, or a list / StackedRNNCells of them) like the layers; custom cells refused")
def convert_rnn(ctx) -> fr.Fragment:
    spec = ctx.get("cell") or {}
    name = spec.get("class_name") if isinstance(spec, dict) else None
    specs = [c for c in spec.get("config", {}).get("cells", [])] if name == "StackedRNNCells" else [spec]
    names = [s.get("class_name") if isinstance(s, dict) else None for s in specs]
    unknown = [n for n in names if n not in KINDS or n in ("LSTM", "GRU", "SimpleRNN")]
    if unknown or not specs:
        raise ctx.unsupported(f"RNN around a {unknown[0] if unknown else name} cell: only LSTMCell, GRUCell and "
                              "SimpleRNNCell (alone or stacked) are supported; a custom cell's call() is "
                              "Python code tf2torch cannot read",
                              "write the cell's step as a torch module by hand, or use the built-in cells")
    prefixes = _weight_dirs(ctx)
    if len(prefixes) != len(specs):
        raise ctx.unsupported(f"expected the weights of {len(specs)} cell(s), found {len(prefixes)} groups")
    n_in, cells = _features(ctx), []
    for s, prefix in zip(specs, prefixes):
        cell = Cell(KINDS[s["class_name"]], s.get("config", {}), prefix, n_in)
        cells.append(cell)
        n_in = cell.units
    if len(cells) > 1 and (ctx.get("return_state", False) or ctx.call_argument("initial_state") is not None):
        raise ctx.unsupported("return_state or initial_state with stacked cells (nested states) is not supported",
                              "use one RNN layer per cell")
    return layer_fragment(ctx, cells)


# ----------------------------------------------------------------------------------------------
def _features(ctx) -> int:
    if ctx.in_rank(0) != 3:
        raise ctx.unsupported(f"expected a (batch, time, features) input, got rank {ctx.in_rank(0)}")
    return int(ctx.in_shape(0)[-1])


def _weight_dirs(ctx) -> list[str]:
    """The weight path prefixes ("stacked_rnn_cells/gru_cell/"), one per cell, in weight order."""
    dirs: list[str] = []
    for path, _ in ctx.layer.weights:
        d = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        if d not in dirs:
            dirs.append(d)
    return dirs


def check_common(ctx) -> None:
    """Layer-level refusals (the cell's own are in rnn_cells.check_cell)."""
    check_cell(ctx, Cell("RNN", {**ctx.config, "units": 1, "activation": "tanh"}))
    if ctx.call_argument("training") is True and (ctx.get("dropout", 0) or ctx.get("recurrent_dropout", 0)):
        raise ctx.unsupported("called with training=True: dropout masks are random", "call the layer in inference mode")


def initial_state(ctx, n_states: int) -> list[fr.Expr]:
    """Keras initial_state=[h0(, c0)] (each (N, U)) as Keras-layout expressions of the graph."""
    given = ctx.call_argument("initial_state")
    if given is None:
        return []
    given = list(given) if isinstance(given, (list, tuple)) else [given]
    if len(given) != n_states or not all(isinstance(s, TensorRef) for s in given):
        raise ctx.unsupported(f"initial_state must be {n_states} tensor(s) of the graph")
    return [ctx.input_keras(ctx.node.inputs.index(s.id)) for s in given]


def layer_fragment(ctx, cells: list[Cell]) -> fr.Fragment:
    """One recurrent layer (a stack of cells runs as one layer per cell, under the same mask)."""
    check_common(ctx)
    for cell in cells:
        check_cell(ctx, cell)
    mask = layer_mask(ctx)
    x = ctx.input_keras(0)
    if ctx.get("go_backwards", False):  # the output stays in processing (reversed) order, like Keras
        x = x.method("flip", 1)
        mask = None if mask is None else mask.method("flip", 1)
    modules, steps = {}, []
    for i, cell in enumerate(cells[:-1]):  # a stacked cell's inner outputs: the next cell skips masked steps
        key = str(i)
        modules[key] = cell_module(ctx, cell)
        seq = fr.Local("seq")
        steps.append((seq, rnn_call(cell, fr.SelfAttr(key), x, mask, [], False)[0]))
        x = seq
    key = str(len(cells) - 1) if len(cells) > 1 else ""
    modules[key] = cell_module(ctx, cells[-1])
    init = initial_state(ctx, cells[-1].n_states)
    outputs, layouts, more = recurrent_outputs(ctx, cells[-1], fr.SelfAttr(key), x, mask, init)
    states = bool(ctx.get("return_state", False))
    what = "sequence" if ctx.get("return_sequences", False) else "last output"
    kind = "nn." + cells[-1].kind if cells[-1].exact_torch else "an inline Keras" + cells[-1].kind
    return fr.Fragment(outputs, layouts, modules=modules, steps=steps + more,
                       description=f"{kind}, {what}" + (" and final states" if states else "") + (", masked" if mask is not None else ""))


def recurrent_outputs(ctx, cell: Cell, module: fr.Expr, x: fr.Expr, mask, init: list):
    """The call and its outputs, written like hand-written code: (outputs, layouts, steps).

    return_sequences=False: `_, (h_n, _) = self.lstm(x)` and the output is `h_n[-1]` (torch's final
    states are (num_layers, N, U)); return_sequences=True: `self.lstm(x)[0]`; return_state names the
    final states `h = h_n[-1]`, `c = c_n[-1]` so that every output that is the same tensor is one
    variable. Under a mask the last output is h_n[-1] too (states are carried over masked steps),
    unless zero_output_for_mask zeroes it or an initial state survives a fully masked row while the
    output stays zero: then it is the output sequence's last step, as Keras takes it.
    """
    zero_output = bool(ctx.get("zero_output_for_mask", False))
    call = rnn_call(cell, module, x, mask, torch_state(init) if init else [], zero_output)
    sequences = bool(ctx.get("return_sequences", False))
    states = bool(ctx.get("return_state", False))
    last_from_sequence = mask is not None and (zero_output or bool(init))
    seq_layout, state_layout = Layout.keras(3), Layout.keras(2)
    steps: list = []
    if sequences and not states:
        return [call[0]], [seq_layout], steps
    h_n, c_n = fr.Local("h_n"), fr.Local("c_n")
    keep_c = states and cell.n_states == 2
    state_target = (h_n, c_n if keep_c else None) if cell.n_states == 2 else h_n
    seq = fr.Local("seq") if sequences or last_from_sequence else None
    steps.append(((seq, state_target), call))
    last = seq[:, -1] if last_from_sequence else h_n[-1]
    if not states:
        return [last], [state_layout], steps
    finals = [fr.Local("h")] + ([fr.Local("c")] if keep_c else [])
    steps += [(finals[0], h_n[-1])] + ([(finals[1], c_n[-1])] if keep_c else [])
    first = seq if sequences else (last if last_from_sequence else finals[0])
    outputs = [first] + finals
    layouts = [seq_layout if sequences else state_layout] + [state_layout] * len(finals)
    return outputs, layouts, steps

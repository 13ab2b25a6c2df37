"""Bidirectional(LSTM / GRU / SimpleRNN): one nn.LSTM(bidirectional=True) where exact, else two modules.

Semantics from Keras 3.15.1, keras/src/layers/rnn/bidirectional.py:
- the forward layer is the wrapped layer, the backward one a copy with go_backwards=True, or the
  given `backward_layer`; both read the same input and the same mask;
- both get zero_output_for_mask = return_sequences (masked steps output zeros in sequences);
- y_rev, the backward output sequence, is flipped back to time order before merging;
  merge_mode 'concat' ([y, y_rev] on the features), 'sum', 'mul', 'ave' or None (two outputs);
- return_state: [merged output(s), *forward states, *backward states]; initial_state is split in
  halves, forward first.
torch's bidirectional output is [forward, backward] in time order, like the Keras concat. With
return_sequences=False Keras' backward "last output" is its state after reading the whole reversed
sequence: torch's h_n[1], not output[:, -1, U:] (the backward state after one step).
"""
from __future__ import annotations

import keras

from .. import fragment as fr
from ..fragment import torch
from ..layout import Layout
from ..registry import KERAS, register
from .recurrent import _features, _weight_dirs, check_common
from .rnn_cells import layer_mask, Cell, cell_module, check_cell, rnn_call, stacked_state, torch_state

_LAYERS = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}


@register(keras.layers.Bidirectional, layout=KERAS,
          note="nn.LSTM/GRU/RNN(bidirectional=True) when both directions are the same exact torch cell, "
               "else two modules (custom backward_layer, inline Keras cells); every merge_mode; masks")
def convert_bidirectional(ctx) -> fr.Fragment:
    check_common(ctx)
    forward, backward = _directions(ctx)
    for cell in (forward, backward):
        check_cell(ctx, cell)
    mask = layer_mask(ctx)
    sequences = bool(forward.config.get("return_sequences", False))
    states = bool(forward.config.get("return_state", False))
    init = _initial_states(ctx, forward.n_states)
    fused = (forward.same_torch_module(backward) and not forward.config.get("go_backwards", False)
             and backward.config.get("go_backwards", False))
    if fused:
        module = cell_module(ctx, forward, backward)
        concat = ctx.get("merge_mode", "concat") == "concat"
        steps, y, y_rev, finals = _fused(forward, mask, init, sequences, states, concat)
        modules = {"": module}
    else:
        modules, steps, ys, finals = {}, [], [], []
        for key, cell, given in (("forward", forward, init[:len(init) // 2]), ("backward", backward, init[len(init) // 2:])):
            modules[key] = cell_module(ctx, cell)
            more, y, h = _direction(key, cell, mask, given, sequences, states)
            steps += more
            ys.append(y)
            finals += h
        y, y_rev = ys
        if sequences:
            y_rev = y_rev.method("flip", 1)
    merged = _merge(ctx, y, y_rev, forward.units, fused and sequences)
    layout = Layout.keras(3 if sequences else 2)
    outputs = merged + finals
    layouts = [layout] * len(merged) + [Layout.keras(2)] * len(finals)
    kind = f"nn.{forward.kind}(bidirectional=True)" if fused else "forward and backward modules"
    merge = ctx.get("merge_mode", "concat")
    return fr.Fragment(outputs, layouts, modules=modules, steps=steps,
                       description=f"{kind}, merge {merge}" + (", masked" if mask is not None else ""))


def _directions(ctx) -> tuple[Cell, Cell]:
    spec = ctx.get("layer") or {}
    back = ctx.get("backward_layer")
    if back is None:  # tf.keras 2 configs name the backward layer only when it was given
        back = {**spec, "config": {**spec.get("config", {}), "go_backwards": not spec.get("config", {}).get("go_backwards", False)}}
    for s in (spec, back):
        if s.get("class_name") not in _LAYERS:
            raise ctx.unsupported(f"Bidirectional around {s.get('class_name')} is not supported",
                                  "wrap LSTM, GRU or SimpleRNN")
    dirs = _weight_dirs(ctx)
    if len(dirs) != 2:
        raise ctx.unsupported(f"expected the weights of two directions, found {len(dirs)} groups")
    n_in = _features(ctx)
    return tuple(Cell(_LAYERS[s["class_name"]], s["config"], d, n_in) for s, d in zip((spec, back), dirs))


def _initial_states(ctx, n_states: int) -> list[fr.Expr]:
    given = ctx.call_argument("initial_state")
    if given is None:
        return []
    given = list(given) if isinstance(given, (list, tuple)) else [given]
    if len(given) != 2 * n_states or not all(hasattr(s, "id") and s.id in ctx.node.inputs for s in given):
        raise ctx.unsupported(f"initial_state must be {2 * n_states} tensors of the graph (forward, then backward)")
    return [ctx.input_keras(ctx.node.inputs.index(s.id)) for s in given]


def _fused(cell: Cell, mask, init, sequences: bool, states: bool, concat: bool):
    """One bidirectional torch module: (steps, y, y_rev, final states); y_rev None when y is the
    module's whole [forward, backward] output sequence."""
    half = len(init) // 2
    call = rnn_call(cell, fr.SelfAttr(), fr.Input(0), mask, stacked_state(init[:half], init[half:]) if init else [], sequences)
    seq, h_n = fr.Local("seq"), fr.Local("h_n")
    c_n = fr.Local("c_n") if cell.n_states == 2 and states else None
    last_from_sequence = mask is not None and bool(init) and not sequences
    keep_seq = sequences or last_from_sequence
    if sequences and not states and concat:
        return [], call[0], None, []
    target = (seq if keep_seq else None, (h_n, c_n) if cell.n_states == 2 else h_n)
    steps = [(target, call)]
    u = cell.units
    if sequences:
        y, y_rev = seq, None
    elif last_from_sequence:  # a fully masked row outputs zeros while its states stay the initial ones
        y, y_rev = seq[:, -1, :u], seq[:, 0, u:]
    else:
        y, y_rev = h_n[0], h_n[1]
    finals = []
    if states:
        for d in (0, 1):
            finals += [h_n[d]] + ([c_n[d]] if c_n is not None else [])
    return steps, y, y_rev, finals


def _direction(key: str, cell: Cell, mask, init, sequences: bool, states: bool):
    """One direction as its own module: (steps, its output in processing order, its final states)."""
    x = fr.Input(0)
    if cell.config.get("go_backwards", False):
        x = x.method("flip", 1)
        mask = None if mask is None else mask.method("flip", 1)
    call = rnn_call(cell, fr.SelfAttr(key), x, mask, torch_state(init) if init else [], sequences)
    if sequences and not states:
        return [], call[0], []
    seq, h_n = fr.Local(f"{key}_seq"), fr.Local(f"{key}_h_n")
    c_n = fr.Local(f"{key}_c_n") if cell.n_states == 2 and states else None
    last_from_sequence = mask is not None and bool(init) and not sequences
    target = (seq if sequences or last_from_sequence else None, (h_n, c_n) if cell.n_states == 2 else h_n)
    y = seq if sequences else (seq[:, -1] if last_from_sequence else h_n[-1])
    finals = [h_n[-1]] + ([c_n[-1]] if c_n is not None else []) if states else []
    return [(target, call)], y, finals


def _merge(ctx, y, y_rev, units: int, split: bool) -> list[fr.Expr]:
    """merge_mode on the two outputs; `split`: y is the fused module's [forward, backward] sequence."""
    mode = ctx.get("merge_mode", "concat")
    if split and y_rev is None:
        if mode == "concat":
            return [y]
        y, y_rev = y[..., :units], y[..., units:]
    if mode == "concat":
        return [torch.attr("cat")([y, y_rev], -1)]
    if mode == "sum":
        return [y + y_rev]
    if mode == "mul":
        return [y * y_rev]
    if mode == "ave":
        return [(y + y_rev) / 2]
    if mode is None:
        return [y, y_rev]
    raise ctx.unsupported(f"merge_mode {mode!r} is not supported")

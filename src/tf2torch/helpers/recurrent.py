"""Recurrent layers where torch's nn.LSTM / nn.GRU / nn.RNN alone cannot compute what Keras computes.

Semantics from Keras 3.15.1: keras/src/backend/tensorflow/rnn.py `rnn` (masks, go_backwards),
keras/src/layers/rnn/lstm.py, gru.py and simple_rnn.py (the cells). Every module here keeps
torch's parameter names and gate order (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0;
LSTM i, f, g, o; GRU r, z, n), so that it is a drop-in for the torch module it stands for.
"""
import math

import torch
from torch import nn


def keras2_hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """hard_sigmoid as Keras 2 (tf.keras) computes it: clip(0.2 * x + 0.5, 0, 1).

    Keras 3 (and F.hardsigmoid) use relu6(x + 3) / 6 instead; Keras 2 LSTM/GRU default to this one.
    """
    return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)


def keras_rnn(rnn, x, mask, state=None, zero_output=False):
    """Run `rnn` (batch_first, one layer) over x (N, T, F) as Keras does under a mask (N, T) of bools.

    Keras skips masked steps: the states are carried over unchanged and the output of a masked
    step repeats the previous step's output (zeros before the first unmasked step), or is zeros
    when `zero_output` (Keras' zero_output_for_mask, set by Bidirectional when it returns sequences).
    torch's packed sequences compute the same thing for post-padded rows only, while Keras'
    pad_sequences pads in front by default. So rows whose unmasked steps are contiguous (pre-,
    post- or both-ends padding) are shifted to start at step 0 and packed, which runs torch's own
    kernel; a mask with holes runs step by step over the same weights (rnn_loop).
    Returns (output, final states) like `rnn(x, state)`, the output sequence in time order.
    """
    steps = torch.arange(mask.shape[1], device=mask.device)
    lengths = mask.sum(1)
    first = mask.int().argmax(1)  # the first unmasked step (0 for a fully masked row)
    run = (steps >= first[:, None]) & (steps < (first + lengths)[:, None])
    if isinstance(rnn, nn.RNNBase) and torch.equal(mask, run):
        return packed_rnn(rnn, x, first, lengths, state, zero_output)
    return rnn_loop(rnn, x, mask, state, zero_output)


def packed_rnn(rnn, x, first, lengths, state=None, zero_output=False):
    """keras_rnn for rows unmasked from step `first` for `lengths` steps, through packed sequences."""
    n, t = x.shape[0], x.shape[1]
    steps = torch.arange(t, device=x.device)
    shifted = x.gather(1, ((steps + first[:, None]) % t)[..., None].expand(-1, -1, x.shape[2]))
    packed = nn.utils.rnn.pack_padded_sequence(shifted, lengths.clamp(min=1).cpu(), batch_first=True,
                                               enforce_sorted=False)
    output, final = rnn(packed, state)
    output = nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=t)[0]
    # back to time order: step s holds the run's output at s - first, the nearest one outside the run
    offset = steps - first[:, None]
    source = torch.minimum(offset.clamp(min=0), (lengths - 1).clamp(min=0)[:, None])
    output = output.gather(1, source[..., None].expand(-1, -1, output.shape[2]))
    nonempty = (lengths > 0)[:, None]
    if zero_output:
        kept = [(offset >= 0) & (offset < lengths[:, None])] * 2
    else:  # a direction repeats its last output after the run and has output nothing before it
        kept = [(offset >= 0) & nonempty, (offset < lengths[:, None]) & nonempty]
    directions = 2 if rnn.bidirectional else 1
    kept = torch.cat([k[..., None].expand(n, t, rnn.hidden_size) for k in kept[:directions]], -1)
    output = torch.where(kept, output, torch.zeros_like(output))
    # a fully masked row keeps its initial states (it was run for one step to be packable)
    empty = (lengths == 0)[None, :, None]
    finals = final if isinstance(final, tuple) else (final,)
    starts = state if isinstance(state, tuple) else (state,) * len(finals)
    finals = tuple(torch.where(empty, torch.zeros_like(f) if s is None else s, f) for f, s in zip(finals, starts))
    return output, (finals if isinstance(final, tuple) else finals[0])


def rnn_loop(rnn, x, mask=None, state=None, zero_output=False):
    """The Keras recurrence step by step over the weights of `rnn` (see keras_rnn), both directions
    of a bidirectional module included; returns (output, final states) like `rnn(x, state)`."""
    lstm = rnn.mode == "LSTM"
    directions = 2 if rnn.bidirectional else 1
    if state is None:
        zeros = x.new_zeros(directions, x.shape[0], rnn.hidden_size)
        state = (zeros, zeros) if lstm else zeros
    outputs, finals = [], []
    for d in range(directions):
        suffix = "_l0_reverse" if d else "_l0"
        states = [state[0][d], state[1][d]] if lstm else [state[d]]
        xd, md = (x.flip(1), None if mask is None else mask.flip(1)) if d else (x, mask)
        output, states = rnn_direction(rnn, suffix, xd, md, states, zero_output)
        outputs.append(output.flip(1) if d else output)
        finals.append(states)
    output = torch.cat(outputs, -1)
    if lstm:
        return output, (torch.stack([f[0] for f in finals]), torch.stack([f[1] for f in finals]))
    return output, torch.stack([f[0] for f in finals])


def rnn_direction(rnn, suffix, x, mask, states, zero_output=False):
    """One direction of rnn_loop: keras/src/backend/tensorflow/rnn.py `_step` with the cell of `rnn`."""
    w_hh = getattr(rnn, "weight_hh" + suffix)
    b_hh = getattr(rnn, "bias_hh" + suffix) if rnn.bias else None
    activation = getattr(rnn, "activation", torch.relu if rnn.mode == "RNN_RELU" else torch.tanh)
    recurrent_activation = getattr(rnn, "recurrent_activation", torch.sigmoid)
    reset_after = getattr(rnn, "reset_after", True)
    u = rnn.hidden_size
    # the input projection of every step at once
    projected = nn.functional.linear(x, getattr(rnn, "weight_ih" + suffix), getattr(rnn, "bias_ih" + suffix) if rnn.bias else None)
    previous = torch.zeros_like(states[0])
    outputs = []
    for t in range(x.shape[1]):
        xt = projected[:, t]
        if rnn.mode == "LSTM":
            i, f, g, o = (xt + nn.functional.linear(states[0], w_hh, b_hh)).chunk(4, 1)
            c = recurrent_activation(f) * states[1] + recurrent_activation(i) * activation(g)
            new = [recurrent_activation(o) * activation(c), c]
        elif rnn.mode == "GRU":
            xr, xz, xn = xt.chunk(3, 1)
            if reset_after:
                hr, hz, hn = nn.functional.linear(states[0], w_hh, b_hh).chunk(3, 1)
                r = recurrent_activation(xr + hr)
                n = activation(xn + r * hn)
            else:  # Keras' reset_after=False: the reset gate scales h before its matmul
                hr, hz = nn.functional.linear(states[0], w_hh[:2 * u], None if b_hh is None else b_hh[:2 * u]).chunk(2, 1)
                r = recurrent_activation(xr + hr)
                n = activation(xn + nn.functional.linear(r * states[0], w_hh[2 * u:], None if b_hh is None else b_hh[2 * u:]))
            z = recurrent_activation(xz + hz)
            new = [z * states[0] + (1 - z) * n]
        else:
            new = [activation(xt + nn.functional.linear(states[0], w_hh, b_hh))]
        output = new[0]
        if mask is not None:  # masked step: states carried over, output repeated (or zeros)
            m = mask[:, t, None]
            output = torch.where(m, output, torch.zeros_like(output) if zero_output else previous)
            new = [torch.where(m, s, old) for s, old in zip(new, states)]
        states, previous = new, output
        outputs.append(output)
    return torch.stack(outputs, 1), states


class KerasRecurrent(nn.Module):
    """A one-layer recurrent module with Keras' choice of activations (nn.LSTM / nn.GRU / nn.RNN
    fix them to tanh and sigmoid) and Keras' GRU reset_after=False, run by rnn_loop.

    Same parameters, gate order and call as the torch module it stands for (batch_first=True):
    `output, states = module(x, state)`; `mask` (N, T) and `zero_output` follow keras_rnn.
    """

    mode = ""
    gates = 1
    bidirectional = False

    def __init__(self, input_size, hidden_size, bias=True, activation=torch.tanh,
                 recurrent_activation=torch.sigmoid):
        super().__init__()
        self.hidden_size, self.bias = hidden_size, bias
        self.activation = activation if activation is not None else nn.Identity()
        self.recurrent_activation = recurrent_activation if recurrent_activation is not None else nn.Identity()
        size = self.gates * hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(size, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(size, hidden_size))
        if bias:
            self.bias_ih_l0 = nn.Parameter(torch.empty(size))
            self.bias_hh_l0 = nn.Parameter(torch.empty(size))
        bound = 1 / math.sqrt(hidden_size)  # torch's initialisation of its recurrent modules
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, state=None, mask=None, zero_output=False):
        return rnn_loop(self, x, mask, state, zero_output)


class KerasLSTM(KerasRecurrent):
    """keras.layers.LSTM with activations nn.LSTM does not have (Keras 2 used hard_sigmoid)."""

    mode = "LSTM"
    gates = 4


class KerasGRU(KerasRecurrent):
    """keras.layers.GRU with other activations, or reset_after=False: the reset gate applied to h
    before the recurrent matmul (Keras 2's default), which nn.GRU cannot express."""

    mode = "GRU"
    gates = 3

    def __init__(self, input_size, hidden_size, bias=True, activation=torch.tanh,
                 recurrent_activation=torch.sigmoid, reset_after=True):
        super().__init__(input_size, hidden_size, bias, activation, recurrent_activation)
        self.reset_after = reset_after


class KerasSimpleRNN(KerasRecurrent):
    """keras.layers.SimpleRNN with an activation nn.RNN does not have (it has tanh and relu)."""

    mode = "RNN"

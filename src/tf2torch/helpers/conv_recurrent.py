"""Convolutional LSTM (keras.layers.ConvLSTM1D/2D/3D): torch has no such layer, so it is written here."""
import torch
from torch import nn


class ConvLSTM(nn.Module):
    """keras.layers.ConvLSTM1D/2D/3D (keras/src/layers/rnn/conv_lstm.py), channels-first.

    An LSTM whose input and recurrent transforms are convolutions: at each step
    `z = input_conv(x_t) + recurrent_conv(h)`, split along the channels into Keras' gates
    i, f, c, o; `c = f * c + i * activation(z_c)`, `h = o * activation(c)`. The input convolution
    (Keras' strides, padding, dilation and bias) does not depend on the state, so it runs once on
    every step at a time; the recurrent one is 'same', stride 1, without bias, as in Keras.

    x: (N, T, C, *spatial). mask: None, or bool (N, T) or (N, T, *spatial of the output): where it
    is False the step keeps the previous states and repeats the previous output (zeros with
    `zero_output_for_mask`), as Keras' RNN does (keras/src/backend/tensorflow/rnn.py).
    Returns the output sequence (N, T, F, *spatial) and the final (h, c), like nn.LSTM.
    """

    def __init__(self, input_conv: nn.Module, recurrent_conv: nn.Module, activation: nn.Module,
                 recurrent_activation: nn.Module, zero_output_for_mask: bool = False):
        super().__init__()
        self.input_conv = input_conv
        self.recurrent_conv = recurrent_conv
        self.activation = activation
        self.recurrent_activation = recurrent_activation
        self.zero_output_for_mask = zero_output_for_mask

    def forward(self, x: torch.Tensor, mask=None, initial_state=None):
        n, steps = x.shape[0], x.shape[1]
        gates = self.input_conv(x.flatten(0, 1)).unflatten(0, (n, steps))
        if initial_state is None:
            h = gates.new_zeros((n, gates.shape[2] // 4) + tuple(gates.shape[3:]))
            c = torch.zeros_like(h)
        else:
            h, c = initial_state
        output = torch.zeros_like(h)
        outputs = []
        for t in range(steps):
            z = gates[:, t] + self.recurrent_conv(h)
            i, f, g, o = z.chunk(4, dim=1)
            i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
            new_c = f * c + i * self.activation(g)
            new_h = o * self.activation(new_c)
            if mask is None:
                h, c, output = new_h, new_c, new_h
            else:
                keep = mask[:, t].unsqueeze(1)  # (N, 1, ...): broadcast over the channels
                keep = keep.reshape(keep.shape + (1,) * (h.dim() - keep.dim()))
                h, c = torch.where(keep, new_h, h), torch.where(keep, new_c, c)
                output = torch.where(keep, new_h, torch.zeros_like(h) if self.zero_output_for_mask else output)
            outputs.append(output)
        return torch.stack(outputs, dim=1), (h, c)

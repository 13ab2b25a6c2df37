"""Layer normalisation over dims that are not the trailing ones (keras.layers.LayerNormalization)."""
import torch
from torch import nn


class LayerNormOverDims(nn.Module):
    """keras.layers.LayerNormalization over any `dims` of the input, without moving them last.

    nn.LayerNorm normalises the trailing dims only; a channels-first feature map normalised over
    its channels (Keras axis=-1) needs dim 1. `shape` is the weight's shape, broadcastable against
    the input without its batch dim, e.g. (C, 1, 1). Moments are biased, as in Keras
    (keras/src/ops/nn.py `_layer_normalization`); `rms_scaling=True` is Keras' deprecated option
    that divides by the standard deviation without centring and has no bias.
    """

    def __init__(self, shape, dims, eps: float, scale: bool = True, center: bool = True, rms_scaling: bool = False):
        super().__init__()
        self.dims = tuple(dims)
        self.eps = eps
        self.rms_scaling = rms_scaling
        self.weight = nn.Parameter(torch.ones(shape)) if scale else None
        self.bias = nn.Parameter(torch.zeros(shape)) if center and not rms_scaling else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x, dim=self.dims, keepdim=True, correction=0)
        inv = torch.rsqrt(var + self.eps)
        if self.weight is not None:
            inv = inv * self.weight
        if self.rms_scaling:
            return x * inv
        shift = -mean * inv
        if self.bias is not None:
            shift = shift + self.bias
        return x * inv + shift

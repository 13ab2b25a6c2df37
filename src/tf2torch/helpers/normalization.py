"""RMS normalisation over dims that are not the trailing ones (keras.layers.RMSNormalization)."""
import torch
from torch import nn


class RMSNormOverDims(nn.Module):
    """keras.layers.RMSNormalization over any `dims` of the input, without moving them last.

    nn.RMSNorm normalises the trailing dims only; a channels-first feature map normalised over its
    channels (Keras axis=-1) needs dim 1. Keras 3 (keras/src/ops/nn.py `_rms_normalization`):
    x * rsqrt(mean(x ** 2, dims) + eps) * weight; `shape` is the weight's shape, broadcastable
    against the input without its batch dim, e.g. (C, 1, 1).
    """

    def __init__(self, shape, dims, eps: float):
        super().__init__()
        self.dims = tuple(dims)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=self.dims, keepdim=True) + self.eps) * self.weight

"""Keras noise layers for models that train: active in training mode only, identity otherwise.

Random streams differ from TensorFlow's: the distributions are the same, the draws are not.
"""
import math

import torch
from torch import nn


class GaussianNoise(nn.Module):
    """keras.layers.GaussianNoise: x + N(0, stddev) in training (keras/src/layers/regularization/gaussian_noise.py)."""

    def __init__(self, stddev: float):
        super().__init__()
        self.stddev = stddev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.stddev > 0:
            return x + torch.randn_like(x) * self.stddev
        return x


class GaussianDropout(nn.Module):
    """keras.layers.GaussianDropout: x * N(1, sqrt(rate / (1 - rate))) in training
    (keras/src/layers/regularization/gaussian_dropout.py)."""

    def __init__(self, rate: float):
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and 0 < self.rate < 1:
            return x * (1.0 + torch.randn_like(x) * math.sqrt(self.rate / (1.0 - self.rate)))
        return x


class StochasticDepth(nn.Module):
    """ConvNeXt's StochasticDepth (keras/src/applications/convnext.py): in training, each sample's
    residual branch is dropped with probability `rate` and kept ones are scaled by 1 / (1 - rate)
    (timm's DropPath); identity otherwise."""

    def __init__(self, rate: float):
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        keep = 1.0 - self.rate
        mask = torch.floor(keep + torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device))
        return x / keep * mask

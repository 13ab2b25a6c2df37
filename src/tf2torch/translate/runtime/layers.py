"""Keras layer behaviours with no torch.nn counterpart, for translated subclassed models and layers.

Each module is active in training mode only (`self.training`), like the Keras layer called with
training=True (inside fit) and identity otherwise. Random streams differ from TensorFlow's: the
distributions are the same, the draws are not.
"""
import math

import torch
from torch import nn


class GaussianNoise(nn.Module):
    """keras.layers.GaussianNoise: x + N(0, stddev) in training (keras/src/layers/regularization/gaussian_noise.py)."""

    def __init__(self, stddev):
        super().__init__()
        self.stddev = stddev

    def forward(self, x):
        if self.training and self.stddev > 0:
            return x + torch.randn_like(x) * self.stddev
        return x


class GaussianDropout(nn.Module):
    """keras.layers.GaussianDropout: x * N(1, sqrt(rate / (1 - rate))) in training
    (keras/src/layers/regularization/gaussian_dropout.py)."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        if self.training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return x * (1.0 + torch.randn_like(x) * stddev)
        return x


def variance_scaling_(tensor, scale=1.0, mode="fan_in", distribution="truncated_normal"):
    """Fill `tensor` (in Keras' weight layout) like keras.initializers.VarianceScaling.

    Fans as keras/src/initializers/random_initializers.py compute_fans: rank 1 -> (n, n), rank 2
    -> (rows, cols), higher ranks -> receptive field times the last two dims; the truncated normal
    is cut at two standard deviations and rescaled by 0.87962566103423978 as in Keras.
    """
    shape = tuple(tensor.shape)
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field = math.prod(shape[:-2])
        fan_in, fan_out = shape[-2] * receptive_field, shape[-1] * receptive_field
    if mode == "fan_in":
        scale /= max(1.0, fan_in)
    elif mode == "fan_out":
        scale /= max(1.0, fan_out)
    else:
        scale /= max(1.0, (fan_in + fan_out) / 2.0)
    with torch.no_grad():
        if distribution == "truncated_normal":
            stddev = math.sqrt(scale) / 0.87962566103423978
            return nn.init.trunc_normal_(tensor, 0.0, stddev, -2.0 * stddev, 2.0 * stddev)
        if distribution == "untruncated_normal":
            return nn.init.normal_(tensor, 0.0, math.sqrt(scale))
        limit = math.sqrt(3.0 * scale)
        return nn.init.uniform_(tensor, -limit, limit)

"""Keras activations that torch has no function for, written as Keras 3 computes them.

Sources: keras/src/backend/tensorflow/nn.py (Keras 3.15.1) and keras/src/layers/activations/prelu.py.
"""
import torch
import torch.nn.functional as F
from torch import nn


def sparse_plus(x: torch.Tensor) -> torch.Tensor:
    """keras.activations.sparse_plus: 0 for x <= -1, (x + 1)**2 / 4 for -1 < x < 1, x for x >= 1."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def squareplus(x: torch.Tensor, b: float = 4.0) -> torch.Tensor:
    """keras.activations.squareplus: (x + sqrt(x**2 + b)) / 2."""
    return (x + torch.sqrt(x * x + b)) / 2


def sparsemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """keras.activations.sparsemax along `dim`, step for step as Keras 3 computes it.

    Keras 3.15.1 takes tau = (sum over the support of the *cumulative sums* - 1) / k, not the paper's
    (cumsum[k] - 1) / k (Martins & Astudillo, 2016): both agree when the support has one element.
    This reproduces Keras, so a converted model gives what the Keras model gave.
    """
    x_sorted = torch.sort(x, dim=dim, descending=True).values
    cumsum = torch.cumsum(x_sorted, dim=dim)
    shape = [1] * x.dim()
    shape[dim] = -1
    rank = torch.arange(1, x.shape[dim] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    support = x_sorted - (cumsum - 1) / rank > 0
    k = support.sum(dim=dim, keepdim=True).to(x.dtype)
    tau = (torch.where(support, cumsum, torch.zeros_like(cumsum)).sum(dim=dim, keepdim=True) - 1) / k
    return torch.clamp(x - tau, min=0.0)


class BroadcastPReLU(nn.Module):
    """PReLU whose slopes broadcast against the input (keras.layers.PReLU).

    Keras learns one slope per element of the input (batch excluded) unless `shared_axes` share
    them; nn.PReLU only knows one slope per channel. `shape` is the slopes' shape in this model's
    layout, e.g. (C, H, W) for a channels-first feature map.
    """

    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x) - self.weight * F.relu(-x)

"""Per-channel scaling layers defined by keras.applications (keras/src/applications/convnext.py)."""
import torch
from torch import nn


class LayerScale(nn.Module):
    """ConvNeXt's LayerScale: x * gamma, one trainable factor per channel.

    `shape` broadcasts against the input without its batch dim: (C, 1, 1) on a channels-first
    map (timm calls this LayerScale2d), (C,) when the channels are last.
    """

    def __init__(self, shape):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma

"""How a Keras tensor is laid out in the generated torch code.

A Layout says: torch_tensor == numpy.transpose(keras_tensor, perm), and, for rank-2 tensors that
came from flattening a permuted feature map, that the torch features are the Keras features in
another order (``flat``). Converters read their inputs' layouts and declare their outputs'; the
pipeline inserts an explicit permute only where a consumer cannot take what it is given.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FlatOrder:
    """torch[:, j] == keras[:, index[j]] for a tensor flattened from a permuted feature map.

    keras_shape: the Keras feature shape before flattening (batch excluded), e.g. (H, W, C).
    perm: the permutation of those feature axes the torch tensor had, e.g. (2, 0, 1) for CHW.
    """

    keras_shape: tuple[int, ...]
    perm: tuple[int, ...]

    @property
    def torch_shape(self) -> tuple[int, ...]:
        return tuple(self.keras_shape[p] for p in self.perm)

    @property
    def index(self) -> np.ndarray:
        n = int(np.prod(self.keras_shape))
        return np.arange(n).reshape(self.keras_shape).transpose(self.perm).ravel()


@dataclass(frozen=True)
class Layout:
    perm: tuple[int, ...]
    flat: FlatOrder | None = None

    @staticmethod
    def keras(rank: int) -> "Layout":
        return Layout(tuple(range(rank)))

    @staticmethod
    def channels_first(rank: int) -> "Layout":
        if rank < 3:
            return Layout.keras(rank)
        return Layout((0, rank - 1, *range(1, rank - 1)))

    @property
    def rank(self) -> int:
        return len(self.perm)

    @property
    def is_keras(self) -> bool:
        return self.flat is None and self.perm == tuple(range(len(self.perm)))

    @property
    def is_channels_first(self) -> bool:
        return self.flat is None and self == Layout.channels_first(self.rank)

    def torch_axis(self, keras_axis: int) -> int:
        """Where Keras axis `keras_axis` lives in the torch tensor (non-negative)."""
        if self.flat is not None and keras_axis % self.rank == self.rank - 1:
            raise ValueError("the feature axis of a flattened tensor is reordered")
        return self.perm.index(keras_axis % self.rank)

    def torch_shape(self, keras_shape: tuple) -> tuple:
        return tuple(keras_shape[p] for p in self.perm)


def inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def compose_to(src: Layout, dst: Layout) -> tuple[int, ...]:
    """The torch permute dims that turn a tensor in layout `src` into layout `dst` (no flat)."""
    # torch_src = keras.transpose(src.perm); torch_dst = keras.transpose(dst.perm)
    # torch_dst = torch_src.transpose(d) with d[i] = position of dst.perm[i] in src.perm
    return tuple(src.perm.index(a) for a in dst.perm)

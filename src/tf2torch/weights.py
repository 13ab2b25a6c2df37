"""Apply the converters' weight transforms (data) to Keras weights: the torch state_dict."""
from __future__ import annotations

import numpy as np
import torch

from .fragment import Param, Reshape, Take, Transpose


def apply_transforms(value: np.ndarray, transforms) -> np.ndarray:
    for t in transforms:
        if isinstance(t, Transpose):
            value = np.transpose(value, t.axes)
        elif isinstance(t, Reshape):
            value = np.reshape(value, t.shape)
        elif isinstance(t, Take):
            value = np.take(value, t.index, axis=t.axis)
        else:
            raise TypeError(f"unknown weight transform {t!r}")
    return value


def resolve(param: Param, layer) -> np.ndarray:
    """The torch value of `param`: an array of its own with canonical C strides.

    Never a view of the Keras weight, and never np.ascontiguousarray's result, which keeps a
    transposed view when a dim has size 1 (see verify.py: torch's CPU convolution mishandles such
    strides).
    """
    source = np.asarray(param.value if param.source is None else layer.weight(param.source))
    return np.array(apply_transforms(source, param.transforms), order="C")


def state_dict(program) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for sm in program.submodules:
        for name, param in sm.params.items():
            out[f"{sm.attr}.{name}"] = _tensor(resolve(param, sm.layer))
    for bd in program.buffers:
        out[bd.attr] = _tensor(resolve(bd.buffer.param, bd.layer))
    return out


def _tensor(value: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(value)

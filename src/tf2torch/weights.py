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
    """The torch value of `param`: a C-contiguous array of its own (never a view of the Keras weight)."""
    source = np.asarray(param.value if param.source is None else layer.weight(param.source))
    value = np.ascontiguousarray(apply_transforms(source, param.transforms))
    # transposes and takes made a copy already; a reshape or no transform is still a view: copy once
    return value.copy() if np.shares_memory(value, source) else value


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

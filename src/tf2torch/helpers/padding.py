"""TensorFlow 'SAME' padding for inputs whose size is only known at run time."""
import math

import torch
import torch.nn.functional as F


def pad_same(x: torch.Tensor, kernel_size, stride, dilation, value: float = 0.0) -> torch.Tensor:
    """TensorFlow 'SAME' padding for any input size: extra pixel at the end (bottom/right).

    TF pads P = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0), P // 2 before and the
    rest after each spatial dim (tensorflow/core/framework/kernel_shape_util.cc).
    """
    pads = []
    for size, k, s, d in zip(reversed(x.shape[2:]), reversed(kernel_size), reversed(stride), reversed(dilation)):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)

"""TensorFlow 'SAME' average pooling where torch's own padding cannot reproduce it."""
import torch
import torch.nn.functional as F

from .padding import pad_same


def avg_pool_same(x: torch.Tensor, kernel_size, stride) -> torch.Tensor:
    """TensorFlow 'SAME' average pooling: each window averages its real (non-pad) elements only.

    TF pads with the extra element at the end and divides by the number of valid elements in each
    window (tf.nn.avg_pool; keras-team/keras#18452). torch's count_include_pad=False only knows
    symmetric padding, so pool the zero-padded input and divide by the pooled fraction of real
    elements (the window size cancels out).
    """
    pool = {3: F.avg_pool1d, 4: F.avg_pool2d, 5: F.avg_pool3d}[x.dim()]
    no_dilation = (1,) * len(kernel_size)
    padded_mean = pool(pad_same(x, kernel_size, stride, no_dilation), kernel_size, stride)
    real_fraction = pool(pad_same(torch.ones_like(x[:1, :1]), kernel_size, stride, no_dilation), kernel_size, stride)
    return padded_mean / real_fraction

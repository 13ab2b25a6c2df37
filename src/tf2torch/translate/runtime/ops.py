"""TensorFlow image ops on channels-last tensors, and array utilities, for translated scripts (copied inline when used)."""
import numpy as np
import torch
import torch.nn.functional as F


def resize_nhwc(images, size, mode="bilinear"):
    """tf.image.resize / keras.ops.image.resize on (N, H, W, C) or (H, W, C) images.

    TF2 resizes with half-pixel centres and no antialiasing: F.interpolate with mode='bilinear',
    align_corners=False, or mode='nearest-exact' for nearest neighbour (tensorflow/python/ops/
    image_ops_impl.py resize_images_v2; keras/src/backend/torch/image.py does the same). The result is
    float32 except for nearest neighbour, which keeps the input dtype.
    """
    batched = images.ndim == 4
    x = images if batched else images.unsqueeze(0)
    if mode != "nearest-exact":
        x = x.to(torch.float32)
    options = {} if mode.startswith("nearest") else {"align_corners": False}
    x = F.interpolate(x.permute(0, 3, 1, 2), size=[int(s) for s in size], mode=mode, **options)
    x = x.permute(0, 2, 3, 1)
    return x if batched else x[0]


def per_image_standardization(image):
    """tf.image.per_image_standardization: (x - mean) / max(std, 1 / sqrt(H * W * C)) per image (float32)."""
    image = image.to(torch.float32)
    dims = (-3, -2, -1)
    mean = image.mean(dim=dims, keepdim=True)
    std = image.std(dim=dims, correction=0, keepdim=True)
    min_std = (image.shape[-3] * image.shape[-2] * image.shape[-1]) ** -0.5
    return (image - mean) / torch.clamp(std, min=min_std)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """keras.utils.pad_sequences (keras/src/utils/sequence_utils.py): a NumPy array (N, maxlen, ...),
    padded and truncated at the front by default ("pre"), empty sequences left as `value`."""
    lengths = [len(s) for s in sequences]
    sample_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    maxlen = int(np.max(lengths)) if maxlen is None else maxlen
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for row, s in zip(out, sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if len(kept):
            if padding == "post":
                row[:len(kept)] = kept
            else:
                row[-len(kept):] = kept
    return out


def to_categorical(x, num_classes=None):
    """keras.utils.to_categorical on arrays (keras/src/utils/numerical_utils.py): one-hot rows, a
    trailing size-1 axis dropped first, num_classes = max + 1 when not given. float32 here: Keras 3
    returns float64 but casts targets to the model's float32 before the loss anyway."""
    x = np.asarray(x, dtype="int64")
    shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
    x = x.reshape(-1)
    num_classes = int(num_classes) if num_classes else int(x.max()) + 1
    out = np.zeros((x.shape[0], num_classes), dtype="float32")
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(shape + (num_classes,))

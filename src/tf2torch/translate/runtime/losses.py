"""Keras losses with Keras' exact semantics (keras/src/losses/loss.py, keras/src/losses/losses.py).

A loss object is called `loss(y_true, y_pred, sample_weight=None)` like in Keras: both are cast
to float, `call` gives one value per sample (most losses average the last axis), then Keras'
reduction: "sum_over_batch_size" (the default) = sum(values * sample_weight) / number of values,
which is NOT torch's weighted mean (that divides by the sum of the weights).
"""
import math

import torch
import torch.nn.functional as F

def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras (keras/src/losses/loss.py): squeeze/expand a last axis of size 1 when ranks differ by one,
    so that (N,) and (N, 1) never broadcast to (N, N)."""
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        if x2.dim() == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        if x1.dim() == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def divide_no_nan(a, b):
    """keras.ops.divide_no_nan: 0 where the denominator is 0, a / b elsewhere (NaN and inf kept)."""
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b))


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Keras `reduce_weighted_values`: a mask makes valid entries weigh total/valid (so the mean is
    over valid entries), sample weights multiply, then sum / number of values."""
    if mask is not None:
        mask = mask.to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            mask = mask * divide_no_nan(torch.tensor(float(mask.numel()), device=mask.device), mask.sum())
        if sample_weight is not None:
            mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
            sample_weight = sample_weight * mask
        else:
            sample_weight = mask
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or values.dim() == 0:
        return values
    loss = torch.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = torch.sum(sample_weight)
    else:
        divisor = values.numel()
    return loss / divisor if divisor else torch.zeros_like(loss)  # divide_no_nan


class LossFunctionWrapper:
    """A loss from a function `fn(y_true, y_pred) -> values`, as Keras wraps a custom loss function
    given to compile(): ranks matched first, then Keras' reduction."""

    epsilon = 1e-7  # keras.backend.epsilon(): clipping of probabilities and denominators

    def __init__(self, fn=None, reduction="sum_over_batch_size", name=None, **kwargs):
        self.fn, self.kwargs, self.reduction = fn, kwargs, reduction
        self.name = name or getattr(fn, "__name__", type(self).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = torch.as_tensor(y_pred)
        dtype = y_pred.dtype if y_pred.is_floating_point() else torch.float32
        y_pred = y_pred.to(dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(dtype)  # Keras casts y_true to the loss dtype
        values = self.call(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, self.mask(y_true, y_pred), self.reduction)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self.kwargs)

    def mask(self, y_true, y_pred):
        return None


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return torch.mean(torch.square(y_true - y_pred), dim=-1)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return torch.mean(torch.abs(y_true - y_pred), dim=-1)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=self.epsilon))
        return 100.0 * torch.mean(diff, dim=-1)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        first_log = torch.log(torch.clamp(y_pred, min=self.epsilon) + 1.0)
        second_log = torch.log(torch.clamp(y_true, min=self.epsilon) + 1.0)
        return torch.mean(torch.square(first_log - second_log), dim=-1)


class Huber(LossFunctionWrapper):
    """0.5 * e^2 where |e| <= delta, delta * |e| - 0.5 * delta^2 elsewhere; mean over the last axis."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(reduction=reduction, name=name)
        self.delta = delta

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        error = y_pred - y_true
        abs_error = torch.abs(error)
        quadratic = 0.5 * torch.square(error)
        linear = self.delta * abs_error - 0.5 * self.delta**2
        return torch.mean(torch.where(abs_error <= self.delta, quadratic, linear), dim=-1)


class LogCosh(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        x = y_pred - y_true
        return torch.mean(x + F.softplus(x * -2.0) - math.log(2.0), dim=-1)  # log(cosh(x)), overflow-free


class KLDivergence(LossFunctionWrapper):
    """sum(y * log(y / p)) over the last axis, both clipped to [1e-7, 1]."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        y_true = torch.clamp(y_true, self.epsilon, 1)
        y_pred = torch.clamp(y_pred, self.epsilon, 1)
        return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


class Poisson(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="poisson"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return torch.mean(y_pred - y_true * torch.log(y_pred + self.epsilon), dim=-1)


class CosineSimilarity(LossFunctionWrapper):
    """-sum(l2_normalize(y) * l2_normalize(p)): a loss in [-1, 1], lower is more similar."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity"):
        super().__init__(reduction=reduction, name=name)
        self.axis = axis

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        def l2_normalize(t):  # keras.ops.normalize: x * min(rsqrt(sum x^2), 1 / 1e-7)
            return t * torch.clamp(torch.rsqrt(torch.sum(torch.square(t), self.axis, keepdim=True)), max=1 / self.epsilon)

        return -torch.sum(l2_normalize(y_true) * l2_normalize(y_pred), dim=self.axis)


class Hinge(LossFunctionWrapper):
    """mean(max(1 - y * p, 0)) over the last axis; labels in {0, 1} become {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return torch.mean(torch.clamp(1.0 - hinge_labels(y_true) * y_pred, min=0.0), dim=-1)


class SquaredHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return torch.mean(torch.square(torch.clamp(1.0 - hinge_labels(y_true) * y_pred, min=0.0)), dim=-1)


class CategoricalHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        pos = torch.sum(y_true * y_pred, dim=-1)
        neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
        return torch.clamp(neg - pos + 1.0, min=0.0)


def hinge_labels(y_true):
    """Keras `convert_binary_labels_to_hinge`: {0, 1} labels become {-1, 1}, other labels stay."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return 2.0 * y_true - 1.0 if is_binary else y_true


class BinaryCrossentropy(LossFunctionWrapper):
    """Mean over the last axis of the binary crossentropy. From probabilities (from_logits=False),
    Keras clips them to [1e-7, 1 - 1e-7] (keras/src/backend/tensorflow/nn.py binary_crossentropy).
    Keras on TensorFlow uses the logits instead when y_pred comes straight from a sigmoid: the two
    agree to float32 precision unless a probability is within 1e-7 of 0 or 1."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy"):
        super().__init__(reduction=reduction, name=name)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        else:
            p = torch.clamp(y_pred, self.epsilon, 1.0 - self.epsilon)
            bce = -(y_true * torch.log(p) + (1 - y_true) * torch.log(1 - p))
        return torch.mean(bce, dim=self.axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy with one-hot (or probability) targets on the last axis; label smoothing
    `y * (1 - ls) + ls / num_classes`. From probabilities (from_logits=False), Keras renormalises
    them to sum 1 and clips to [1e-7, 1 - 1e-7] (keras/src/backend/tensorflow/nn.py). Keras on
    TensorFlow uses the logits instead when y_pred comes straight from a softmax: the two agree to
    float32 precision unless a probability is below 1e-7. Never apply a softmax twice."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy"):
        super().__init__(reduction=reduction, name=name)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / y_true.shape[-1]
        if self.from_logits:
            log_p = F.log_softmax(y_pred, dim=self.axis)
        else:
            p = y_pred / torch.sum(y_pred, dim=self.axis, keepdim=True)
            log_p = torch.log(torch.clamp(p, self.epsilon, 1.0 - self.epsilon))
        return -torch.sum(y_true * log_p, dim=self.axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy with integer class targets (shape (N,) or (N, 1)), classes on the last axis of
    y_pred. From probabilities (from_logits=False), Keras clips them to [1e-7, 1 - 1e-7], takes the
    log and a log-softmax of that (keras/src/backend/tensorflow/nn.py); on TensorFlow it uses the
    logits instead when y_pred comes straight from a softmax: the two agree to float32 precision
    unless a probability is below 1e-7. `ignore_class` entries are left out of the mean."""

    def __init__(self, from_logits=False, ignore_class=None, axis=-1, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy"):
        super().__init__(reduction=reduction, name=name)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def call(self, y_true, y_pred):
        y_true = self.labels(y_true, y_pred)
        if self.ignore_class is not None:
            valid = y_true != self.ignore_class
            y_true = torch.where(valid, y_true, 0)
            y_pred = torch.where(valid.unsqueeze(-1), y_pred, 0.0)
        if not self.from_logits:
            y_pred = torch.log(torch.clamp(y_pred, self.epsilon, 1.0 - self.epsilon))
        values = F.cross_entropy(y_pred.movedim(-1, 1), y_true, reduction="none") if y_pred.dim() > 1 else \
            F.cross_entropy(y_pred, y_true, reduction="none")
        if self.ignore_class is not None:
            values = torch.where(valid, values, 0.0)
        return values

    def labels(self, y_true, y_pred):
        if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
            y_true = y_true.squeeze(-1)
        return y_true.long()

    def mask(self, y_true, y_pred):
        return None if self.ignore_class is None else self.labels(y_true, y_pred) != self.ignore_class

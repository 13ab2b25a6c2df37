"""Keras metrics with Keras' exact semantics (keras/src/metrics/): stateful objects with
`update_state(y_true, y_pred, sample_weight=None)`, `result()` and `reset_state()`.

A mean metric keeps float32 `total` and `count` like Keras: per-sample values (trailing axes
averaged), total += sum, count += number of samples; result = total / count.
"""
import torch

from .losses import divide_no_nan, squeeze_or_expand_to_same_rank


class Mean:
    """keras.metrics.Mean: the (weighted) running mean of the values given to update_state."""

    direction = None  # "up" / "down": how callbacks in mode="auto" compare this metric

    def __init__(self, name="mean"):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self.total = torch.zeros((), dtype=torch.float32)
        self.count = torch.zeros((), dtype=torch.float32)

    def update_state(self, values, sample_weight=None):
        values = torch.as_tensor(values).detach().to(torch.float32)
        if sample_weight is not None:  # keras/src/metrics/reduction_metrics.py reduce_to_samplewise_values
            sample_weight = torch.as_tensor(sample_weight, dtype=torch.float32, device=values.device)
            if values.dim() > sample_weight.dim():
                values = torch.mean(values, dim=list(range(sample_weight.dim(), values.dim())))
            sample_weight = torch.broadcast_to(sample_weight, values.shape)
            values = values * sample_weight
            if sample_weight.dim() > 1:
                sample_weight = torch.mean(sample_weight, dim=list(range(1, sample_weight.dim())))
        if values.dim() > 1:
            values = torch.mean(values, dim=list(range(1, values.dim())))
        if sample_weight is not None:
            count = torch.sum(sample_weight)
        else:
            count = values.shape[0] if values.dim() >= 1 else 1
        self.total = self.total.to(values.device) + torch.sum(values)
        self.count = self.count.to(values.device) + count

    def result(self):
        return divide_no_nan(self.total, self.count)

    def reset_states(self):  # Keras 2 name
        self.reset_state()

    def __call__(self, *args, **kwargs):  # Keras metrics are callable: update, then the current result
        self.update_state(*args, **kwargs)
        return self.result()


class MeanMetricWrapper(Mean):
    """A metric from a function `fn(y_true, y_pred) -> per-sample values` (or a loss object with
    reduction=None), averaged over all samples seen since the last reset."""

    def __init__(self, fn, name=None, direction=None):
        super().__init__(name=name or getattr(fn, "name", None) or getattr(fn, "__name__", "mean_metric_wrapper"))
        self.fn = fn
        self.direction = direction or ("down" if hasattr(fn, "reduction") else None)  # a loss: lower is better

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(*as_metric_inputs(y_true, y_pred)), sample_weight)


def as_metric_inputs(y_true, y_pred):
    y_pred = torch.as_tensor(y_pred).detach()
    return torch.as_tensor(y_true, device=y_pred.device), y_pred


class Accuracy(MeanMetricWrapper):
    """keras.metrics.Accuracy: how often y_pred equals y_true exactly."""

    def __init__(self, name="accuracy"):
        super().__init__(self.matches, name=name, direction="up")

    @staticmethod
    def matches(y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
        return (y_true == y_pred).to(torch.float32)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` (strictly) equals y_true; applied to whatever the model outputs."""

    def __init__(self, name="binary_accuracy", threshold=0.5):
        super().__init__(self.matches, name=name, direction="up")
        self.threshold = threshold

    def matches(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return (y_true == (y_pred > self.threshold).to(y_true.dtype)).to(torch.float32)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax(y_true) (one-hot targets)."""

    def __init__(self, name="categorical_accuracy"):
        super().__init__(self.matches, name=name, direction="up")

    @staticmethod
    def matches(y_true, y_pred):
        return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).to(torch.float32)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer label (labels of shape (N,) or (N, 1))."""

    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(self.matches, name=name, direction="up")

    @staticmethod
    def matches(y_true, y_pred):
        if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
            y_true = y_true.squeeze(-1)
        return (y_true.to(torch.float32) == torch.argmax(y_pred, dim=-1).to(torch.float32)).to(torch.float32)


class AccuracyByShape(MeanMetricWrapper):
    """compile(metrics=["accuracy"]) when the loss does not tell which accuracy: Keras picks it from
    the shapes of the first batch (keras/src/trainers/compile_utils.py get_metric): binary if y_pred
    has one column, sparse if y_true has fewer axes (or a last axis of 1), else categorical."""

    def __init__(self, name="accuracy"):
        super().__init__(self.matches, name=name, direction="up")
        self.resolved = None

    def matches(self, y_true, y_pred):
        if self.resolved is None:
            if y_pred.shape[-1] == 1:
                self.resolved = BinaryAccuracy()
            elif y_true.dim() < y_pred.dim() or y_true.shape[-1] == 1:
                self.resolved = SparseCategoricalAccuracy()
            else:
                self.resolved = CategoricalAccuracy()
        return self.resolved.fn(y_true, y_pred)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_true) is among the k largest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy"):
        super().__init__(self.matches, name=name, direction="up")
        self.k = k

    def matches(self, y_true, y_pred):
        return top_k_matches(torch.argmax(y_true, dim=-1), y_pred, self.k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k largest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy"):
        super().__init__(self.matches, name=name, direction="up")
        self.k = k

    def matches(self, y_true, y_pred):
        if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
            y_true = y_true.squeeze(-1)
        return top_k_matches(y_true, y_pred, self.k)


def top_k_matches(labels, y_pred, k):
    """tf.math.in_top_k: the target's score is >= the k-th largest score (ties count as hits)."""
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    labels = labels.reshape(-1).long()
    target = scores.gather(1, labels.unsqueeze(1))
    kth = torch.topk(scores, min(k, scores.shape[-1]), dim=-1).values[:, -1:]
    return (target >= kth).squeeze(1).to(torch.float32).reshape(labels.shape)


class RootMeanSquaredError(Mean):
    """sqrt of the running mean of squared errors."""

    direction = "down"

    def __init__(self, name="root_mean_squared_error"):
        super().__init__(name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_metric_inputs(y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
        super().update_state(torch.square(y_pred - y_true), sample_weight)

    def result(self):
        return torch.sqrt(super().result())


class Precision(Mean):
    """tp / (tp + fp) with predictions `y_pred > threshold` (keras/src/metrics/confusion_metrics.py)."""

    direction = "up"

    def __init__(self, thresholds=None, name="precision"):
        self.name, self.threshold = name, 0.5 if thresholds is None else thresholds
        self.reset_state()

    def reset_state(self):
        self.true_positives = torch.zeros((), dtype=torch.float32)
        self.false_positives = torch.zeros((), dtype=torch.float32)
        self.false_negatives = torch.zeros((), dtype=torch.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_metric_inputs(y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        actual, predicted = y_true.to(torch.bool), y_pred > self.threshold
        weight = torch.ones(y_pred.shape, device=y_pred.device)
        if sample_weight is not None:
            sample_weight = torch.as_tensor(sample_weight, dtype=torch.float32, device=y_pred.device)
            weight = weight * sample_weight.reshape(sample_weight.shape + (1,) * (y_pred.dim() - sample_weight.dim()))
        self.true_positives = self.true_positives.to(y_pred.device) + torch.sum(weight * (actual & predicted))
        self.false_positives = self.false_positives.to(y_pred.device) + torch.sum(weight * (~actual & predicted))
        self.false_negatives = self.false_negatives.to(y_pred.device) + torch.sum(weight * (actual & ~predicted))

    def result(self):
        return divide_no_nan(self.true_positives, self.true_positives + self.false_positives)


class Recall(Precision):
    """tp / (tp + fn) with predictions `y_pred > threshold`."""

    def __init__(self, thresholds=None, name="recall"):
        super().__init__(thresholds=thresholds, name=name)

    def result(self):
        return divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)


class AUC(Mean):
    """keras.metrics.AUC (keras/src/metrics/confusion_metrics.py): a bucketed approximation, not the
    exact area. Predictions (clipped to [0, 1]) fall in `num_thresholds` evenly spaced buckets; the
    confusion counts per threshold give the ROC (or PR) curve, summed as trapezoids ("interpolation")
    or lower/upper rectangles ("minoring"/"majoring"); PR + interpolation uses Davis & Goadrich's formula."""

    direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc", from_logits=False):
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, curve.upper(), summation_method.lower()
        self.name, self.from_logits = name, from_logits
        self.reset_state()

    def reset_state(self):
        zeros = torch.zeros(self.num_thresholds, dtype=torch.float32)
        self.true_positives, self.false_positives = zeros.clone(), zeros.clone()
        self.true_negatives, self.false_negatives = zeros.clone(), zeros.clone()

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_metric_inputs(y_true, y_pred)
        y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred.to(torch.float32), y_true.to(torch.float32))
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        weights = torch.ones_like(y_pred)
        if sample_weight is not None:
            sample_weight = torch.as_tensor(sample_weight, dtype=torch.float32, device=y_pred.device)
            sample_weight = sample_weight.reshape(sample_weight.shape + (1,) * (y_pred.dim() - sample_weight.dim()))
            weights = torch.broadcast_to(sample_weight, y_pred.shape)
        y_pred, weights = torch.clamp(y_pred, 0.0, 1.0).reshape(-1), weights.reshape(-1)
        labels = (y_true != 0).float().reshape(-1)
        bucket = torch.relu(torch.ceil(y_pred * (self.num_thresholds - 1)) - 1).long()
        positives = torch.bincount(bucket, labels * weights, minlength=self.num_thresholds).cpu()
        negatives = torch.bincount(bucket, (1.0 - labels) * weights, minlength=self.num_thresholds).cpu()
        tp, fp = positives.flip(0).cumsum(0).flip(0), negatives.flip(0).cumsum(0).flip(0)  # counts above each threshold
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += negatives.sum() - fp
        self.false_negatives += positives.sum() - tp

    def result(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = divide_no_nan(dtp, torch.clamp(dp, min=0))
            intercept = tp[1:] - slope * p[1:]
            both = (p[:-1] > 0) & (p[1:] > 0)
            ratio = torch.where(both, divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:]))
            return torch.sum(divide_no_nan(slope * (dtp + intercept * torch.log(ratio)), torch.clamp(tp[1:] + fn[1:], min=0)))
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:  # PR with minoring / majoring
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return torch.sum((x[:-1] - x[1:]) * heights)

"""Keras learning-rate schedules (keras/src/optimizers/schedules/learning_rate_schedule.py).

Each is a callable `schedule(step) -> learning rate`, step = the optimizer's 0-based update count;
the Keras* optimizers call it once per batch, as Keras does. (torch.optim.lr_scheduler classes
differ: CosineAnnealingLR keeps oscillating, MultiStepLR switches one step later, PolynomialLR ends at 0.)
"""
import math


class ExponentialDecay:
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floor of the exponent if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p


class PiecewiseConstantDecay:
    """`values[0]` while step <= boundaries[0], `values[i]` while boundaries[i-1] < step <= boundaries[i],
    `values[-1]` after the last boundary (boundaries inclusive)."""

    def __init__(self, boundaries, values):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values")
        self.boundaries, self.values = list(boundaries), list(values)

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


class PolynomialDecay:
    """Polynomial decay from initial_learning_rate to end_learning_rate over decay_steps, then held
    (or restarted with longer periods if cycle)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle

    def __call__(self, step):
        step, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate


class InverseTimeDecay:
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (floor of the ratio if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)


class CosineDecay:
    """Optional linear warmup from initial_learning_rate to warmup_target over warmup_steps, then a
    cosine decay to alpha * (peak rate) over decay_steps, then held at that value."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
        self.initial_learning_rate, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        step = float(step)
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return (self.warmup_target - self.initial_learning_rate) * fraction + self.initial_learning_rate
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def _decayed(self, step, peak):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return peak * ((1 - self.alpha) * cosine + self.alpha)


class CosineDecayRestarts:
    """SGDR: cosine decay over first_decay_steps, restarting with periods times t_mul and peaks times m_mul."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self.t_mul, self.m_mul, self.alpha = t_mul, m_mul, alpha

    def __call__(self, step):
        fraction = float(step) / self.first_decay_steps
        if self.t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul))
            sum_r = (1.0 - self.t_mul**i_restart) / (1.0 - self.t_mul)
            fraction = (fraction - sum_r) / self.t_mul**i_restart
        cosine = 0.5 * self.m_mul**i_restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

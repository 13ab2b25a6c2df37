"""Keras optimizers whose update rule torch.optim does not reproduce exactly.

One `step()` is one Keras 3 `optimizer.apply(grads)` (keras/src/optimizers/base_optimizer.py,
`_backend_apply_gradients`): clip the gradients (clipnorm per tensor, else global_clipnorm, else
clipvalue), decoupled weight decay `w -= w * weight_decay * lr`, the update rule, `iterations += 1`.
`lr` may be a learning-rate schedule: it is called with the 0-based step, once per batch, as Keras
does. Plain SGD, Adadelta and NAdam keep torch.optim (their formulas are Keras' own).
"""
import math

import torch


class KerasOptimizer(torch.optim.Optimizer):
    """Base of the Keras-exact optimizers; subclasses write `update(p, g, state, group, lr)`."""

    def __init__(self, params, lr, defaults, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set (as in Keras).")
        self.lr_schedule = lr if callable(lr) else None  # Keras LearningRateSchedule: lr = schedule(iterations)
        super().__init__(params, dict(defaults, lr=float(lr(0)) if callable(lr) else lr, weight_decay=weight_decay))
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0  # Keras optimizer.iterations: number of applied updates

    @property
    def learning_rate(self):
        return self.param_groups[0]["lr"]

    @learning_rate.setter
    def learning_rate(self, value):
        for group in self.param_groups:
            group["lr"] = float(value)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = [p for group in self.param_groups for p in group["params"] if p.grad is not None]
        grads = clip_gradients([p.grad for p in params], self.clipnorm, self.clipvalue, self.global_clipnorm)
        grad_of = {id(p): g for p, g in zip(params, grads)}
        for group in self.param_groups:
            if self.lr_schedule is not None:
                group["lr"] = float(self.lr_schedule(self.iterations))
            lr = group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:  # decoupled, before the update (base_optimizer.py _apply_weight_decay)
                    p.sub_(p * group["weight_decay"] * lr)
                self.update(p, grad_of[id(p)], self.state[p], group, lr)
        self.iterations += 1
        return loss

    def update(self, p, g, state, group, lr):
        raise NotImplementedError


def clip_gradients(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Keras' gradient clipping (base_optimizer.py `_clip_gradients`, tf.clip_by_norm)."""
    if clipnorm:  # per tensor: g * c / max(norm(g), c)
        return [g * clipnorm / torch.clamp(torch.sqrt(torch.sum(torch.square(g))), min=clipnorm) for g in grads]
    if global_clipnorm:  # all tensors together: g * c * min(1 / norm, 1 / c)
        norm = torch.sqrt(sum(torch.sum(torch.square(g)) for g in grads))
        scale = global_clipnorm * torch.clamp(1.0 / norm, max=1.0 / global_clipnorm)
        return [g * scale for g in grads]
    if clipvalue:
        return [torch.clamp(g, -clipvalue, clipvalue) for g in grads]
    return grads


class KerasSGD(KerasOptimizer):
    """keras.optimizers.SGD (keras/src/optimizers/sgd.py): velocity `m = momentum * m - lr * g`,
    `w += m` (nesterov: `w += momentum * m - lr * g`). Equal to torch.optim.SGD only while lr is
    constant and without weight decay: torch accumulates gradients, Keras accumulates lr * gradients."""

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(params, lr, dict(momentum=momentum, nesterov=nesterov), **kwargs)

    def update(self, p, g, state, group, lr):
        momentum = group["momentum"]
        if momentum == 0:
            p.sub_(g * lr)
            return
        m = state.setdefault("momentum", torch.zeros_like(p))
        m.copy_(m * momentum - g * lr)
        p.add_(m * momentum - g * lr if group["nesterov"] else m)


class KerasAdam(KerasOptimizer):
    """keras.optimizers.Adam / AdamW (keras/src/optimizers/adam.py): the "epsilon hat" form
    `w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`. torch.optim.Adam adds
    epsilon to the bias-corrected sqrt(v) instead: equal only with eps_torch = epsilon / sqrt(1 - beta_2^t)."""

    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(params, lr, dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad), **kwargs)

    def update(self, p, g, state, group, lr):
        beta_1, beta_2, t = group["beta_1"], group["beta_2"], self.iterations + 1
        if not state:
            state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
            if group["amsgrad"]:
                state["v_hat"] = torch.zeros_like(p)
        m, v = state["m"], state["v"]
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m.add_((g - m) * (1 - beta_1))
        v.add_((torch.square(g) - v) * (1 - beta_2))
        if group["amsgrad"]:
            v = torch.maximum(state["v_hat"], v, out=state["v_hat"])
        p.sub_((m * alpha) / (torch.sqrt(v) + group["epsilon"]))


class KerasRMSprop(KerasOptimizer):
    """keras.optimizers.RMSprop (keras/src/optimizers/rmsprop.py): `v = rho * v + (1 - rho) * g^2`,
    `w -= lr * g / sqrt(v + epsilon)` (epsilon inside the sqrt; torch adds it outside), centered
    subtracts the squared mean gradient, momentum accumulates the increments."""

    def __init__(self, params, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(params, lr, dict(rho=rho, momentum=momentum, epsilon=epsilon, centered=centered), **kwargs)

    def update(self, p, g, state, group, lr):
        rho = group["rho"]
        v = state.setdefault("velocity", torch.zeros_like(p))
        v.copy_(rho * v + (1 - rho) * torch.square(g))
        if group["centered"]:
            mean_g = state.setdefault("average_gradient", torch.zeros_like(p))
            mean_g.copy_(rho * mean_g + (1 - rho) * g)
            denominator = v - torch.square(mean_g) + group["epsilon"]
        else:
            denominator = v + group["epsilon"]
        increment = (lr * g) / torch.sqrt(denominator)
        if group["momentum"] > 0:
            mom = state.setdefault("momentum", torch.zeros_like(p))
            mom.copy_(group["momentum"] * mom + increment)
            p.sub_(mom)
        else:
            p.sub_(increment)


class KerasAdagrad(KerasOptimizer):
    """keras.optimizers.Adagrad (keras/src/optimizers/adagrad.py): accumulator starts at
    initial_accumulator_value, `w -= lr * g / sqrt(acc + epsilon)` (epsilon inside the sqrt)."""

    def __init__(self, params, lr=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(params, lr, dict(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon), **kwargs)

    def update(self, p, g, state, group, lr):
        acc = state.setdefault("accumulator", torch.full_like(p, group["initial_accumulator_value"]))
        acc.add_(torch.square(g))
        p.sub_((lr * g) / torch.sqrt(acc + group["epsilon"]))


class KerasAdadelta(KerasOptimizer):
    """keras.optimizers.Adadelta (keras/src/optimizers/adadelta.py), same formula as torch.optim.Adadelta;
    used when clipping or weight decay is asked for."""

    def __init__(self, params, lr=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(params, lr, dict(rho=rho, epsilon=epsilon), **kwargs)

    def update(self, p, g, state, group, lr):
        rho, eps = group["rho"], group["epsilon"]
        acc_g = state.setdefault("accumulated_grad", torch.zeros_like(p))
        acc_delta = state.setdefault("accumulated_delta_var", torch.zeros_like(p))
        acc_g.copy_(rho * acc_g + (1 - rho) * torch.square(g))
        delta = -(torch.sqrt(acc_delta + eps) * g) / torch.sqrt(acc_g + eps)
        acc_delta.copy_(rho * acc_delta + (1 - rho) * torch.square(delta))
        p.add_(lr * delta)


class KerasNadam(KerasOptimizer):
    """keras.optimizers.Nadam (keras/src/optimizers/nadam.py): momentum schedule
    `u_t = beta_1 * (1 - 0.5 * 0.96^t)` (torch.optim.NAdam with momentum_decay=1.0); used when
    clipping or weight decay is asked for."""

    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(params, lr, dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), **kwargs)
        self.u_product = 1.0

    def step(self, closure=None):
        beta_1 = self.param_groups[0]["beta_1"]
        self.u_product *= beta_1 * (1.0 - 0.5 * 0.96 ** (self.iterations + 1))
        return super().step(closure)

    def update(self, p, g, state, group, lr):
        beta_1, beta_2, t = group["beta_1"], group["beta_2"], self.iterations + 1
        u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t_1 = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t_1 = self.u_product * u_t_1
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        m.add_((g - m) * (1 - beta_1))
        v.add_((torch.square(g) - v) * (1 - beta_2))
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - self.u_product)
        v_hat = v / (1 - beta_2**t)
        p.sub_((m_hat * lr) / (torch.sqrt(v_hat) + group["epsilon"]))


class KerasAdamax(KerasOptimizer):
    """keras.optimizers.Adamax (keras/src/optimizers/adamax.py): `u = max(beta_2 * u, |g|)`,
    `w -= lr * m / ((1 - beta_1^t) * (u + epsilon))` (torch puts epsilon inside the max)."""

    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(params, lr, dict(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon), **kwargs)

    def update(self, p, g, state, group, lr):
        beta_1, beta_2, t = group["beta_1"], group["beta_2"], self.iterations + 1
        m = state.setdefault("m", torch.zeros_like(p))
        u = state.setdefault("u", torch.zeros_like(p))
        m.add_((g - m) * (1 - beta_1))
        u.copy_(torch.maximum(beta_2 * u, torch.abs(g)))
        p.sub_((lr * m) / ((1 - beta_1**t) * (u + group["epsilon"])))


class KerasLion(KerasOptimizer):
    """keras.optimizers.Lion (keras/src/optimizers/lion.py): `w -= lr * sign(beta_1 * m + (1 - beta_1) * g)`,
    then `m = beta_2 * m + (1 - beta_2) * g`."""

    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(params, lr, dict(beta_1=beta_1, beta_2=beta_2), **kwargs)

    def update(self, p, g, state, group, lr):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m = state.setdefault("m", torch.zeros_like(p))
        p.sub_(lr * torch.sign(m * beta_1 + g * (1.0 - beta_1)))
        m.copy_(m * beta_2 + g * (1.0 - beta_2))

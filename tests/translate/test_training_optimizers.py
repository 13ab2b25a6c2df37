"""The optimizers compile() translates to, trained against Keras compile/fit itself.

Same initial weights (tf2torch convert), same batches (shuffle=False), a few epochs: the per-epoch
losses and the final weights must agree to float32 precision (rtol 1e-5). The torch.optim stand-ins
that are NOT exact are measured too, so that the choice of a Keras* class stays justified.
"""
import numpy as np
import pytest
import torch

from test_training_helpers import max_rel, runtime, twins

RT = runtime()
EPOCHS, BATCH = 3, 16


def data(scale=1.0):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((70, 5)) * scale).astype("float32")
    y = rng.integers(0, 3, size=(70,))
    return x, y


def train_both(keras_optimizer, torch_optimizer, scale=1.0, epochs=EPOCHS):
    """(relative loss difference, relative weight difference) after Keras fit and the runtime fit."""
    import keras

    x, y = data(scale)
    model, module = twins([keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3, activation="softmax")], (5,))
    model.compile(optimizer=keras_optimizer, loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0)
    optimizer = torch_optimizer(module.parameters())
    ours = RT.fit(module, x, y, RT.SparseCategoricalCrossentropy(), optimizer, batch_size=BATCH, epochs=epochs,
                  shuffle=False, verbose=0)
    keras_weights = np.concatenate([w.ravel() for w in model.get_weights()[::2]])  # kernels
    torch_weights = np.concatenate([m.weight.detach().numpy().T.ravel() for m in module.modules()
                                    if isinstance(m, torch.nn.Linear)])
    weight_error = np.max(np.abs(keras_weights - torch_weights)) / np.max(np.abs(keras_weights))  # relative to the scale
    return max_rel(history.history["loss"], ours.history["loss"]), float(weight_error)


def schedules():
    import keras

    return keras.optimizers.schedules


CASES = {
    "sgd": (lambda k: "sgd", lambda p: torch.optim.SGD(p, lr=0.01)),
    "sgd-momentum-nesterov": (lambda k: k.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                              lambda p: RT.KerasSGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "sgd-weight-decay": (lambda k: k.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.1),
                         lambda p: RT.KerasSGD(p, lr=0.1, momentum=0.9, weight_decay=0.1)),
    "sgd-momentum-schedule": (lambda k: k.optimizers.SGD(k.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5), momentum=0.9),
                              lambda p: RT.KerasSGD(p, lr=RT.ExponentialDecay(0.1, 3, 0.5), momentum=0.9)),
    "adam": (lambda k: "adam", lambda p: RT.KerasAdam(p)),
    "adam-amsgrad": (lambda k: k.optimizers.Adam(0.01, amsgrad=True), lambda p: RT.KerasAdam(p, lr=0.01, amsgrad=True)),
    "adamw": (lambda k: "adamw", lambda p: RT.KerasAdam(p, weight_decay=0.004)),
    "adam-clipnorm": (lambda k: k.optimizers.Adam(0.01, clipnorm=0.01), lambda p: RT.KerasAdam(p, lr=0.01, clipnorm=0.01)),
    "sgd-global-clipnorm": (lambda k: k.optimizers.SGD(0.5, global_clipnorm=0.01),
                            lambda p: RT.KerasSGD(p, lr=0.5, global_clipnorm=0.01)),
    "sgd-clipvalue": (lambda k: k.optimizers.SGD(0.5, clipvalue=0.001), lambda p: RT.KerasSGD(p, lr=0.5, clipvalue=0.001)),
    "rmsprop": (lambda k: "rmsprop", lambda p: RT.KerasRMSprop(p)),
    "rmsprop-centered-momentum": (lambda k: k.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                                  lambda p: RT.KerasRMSprop(p, lr=0.01, momentum=0.5, centered=True)),
    "adagrad": (lambda k: "adagrad", lambda p: RT.KerasAdagrad(p)),
    "adadelta-torch": (lambda k: k.optimizers.Adadelta(1.0), lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7)),
    "adadelta-weight-decay": (lambda k: k.optimizers.Adadelta(1.0, weight_decay=0.1),
                              lambda p: RT.KerasAdadelta(p, lr=1.0, weight_decay=0.1)),
    "nadam-torch": (lambda k: k.optimizers.Nadam(0.01),
                    lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-7, momentum_decay=1.0)),
    "nadam-clipvalue": (lambda k: k.optimizers.Nadam(0.01, clipvalue=0.01), lambda p: RT.KerasNadam(p, lr=0.01, clipvalue=0.01)),
    "adamax": (lambda k: k.optimizers.Adamax(0.01), lambda p: RT.KerasAdamax(p, lr=0.01)),
    "lion": (lambda k: k.optimizers.Lion(0.001), lambda p: RT.KerasLion(p, lr=0.001)),
    "cosine-warmup-adam": (lambda k: k.optimizers.Adam(k.optimizers.schedules.CosineDecay(0.0, 6, warmup_target=0.01, warmup_steps=3)),
                           lambda p: RT.KerasAdam(p, lr=RT.CosineDecay(0.0, 6, warmup_target=0.01, warmup_steps=3))),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_optimizer_matches_keras_fit(case):
    import keras

    make_keras, make_torch = CASES[case]
    loss_error, weight_error = train_both(make_keras(keras), make_torch)
    assert loss_error < 1e-5, loss_error
    assert weight_error < 1e-5, weight_error


def test_torch_adam_with_keras_epsilon_is_only_close():
    """Why KerasAdam: with small gradients torch.optim.Adam(eps=1e-7) drifts from Keras (epsilon hat)."""
    exact = train_both("adam", lambda p: RT.KerasAdam(p), scale=1e-4)
    torch_adam = train_both("adam", lambda p: torch.optim.Adam(p, lr=0.001, eps=1e-7), scale=1e-4)
    assert exact[1] < 1e-5
    assert torch_adam[1] > 100 * max(exact[1], 1e-7), (exact, torch_adam)


def test_torch_sgd_momentum_differs_under_a_schedule():
    """Why KerasSGD: torch's velocity is rescaled by the current lr, Keras keeps each step's lr."""
    import keras

    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5)
    exact = train_both(keras.optimizers.SGD(schedule, momentum=0.9),
                       lambda p: RT.KerasSGD(p, lr=RT.ExponentialDecay(0.1, 3, 0.5), momentum=0.9))
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5)

    def torch_sgd(params):  # torch SGD whose lr follows the schedule at every step
        optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
        step = optimizer.step
        count = [0]

        def scheduled_step(closure=None):
            for group in optimizer.param_groups:
                group["lr"] = 0.1 * 0.5 ** (count[0] / 3)
            count[0] += 1
            return step(closure)

        optimizer.step = scheduled_step
        return optimizer

    approximate = train_both(keras.optimizers.SGD(schedule, momentum=0.9), torch_sgd)
    assert exact[1] < 1e-5
    assert approximate[1] > 1e-3, approximate


def test_schedules_match_keras():
    import keras

    ks = keras.optimizers.schedules
    pairs = [
        (ks.ExponentialDecay(0.1, 7, 0.5), RT.ExponentialDecay(0.1, 7, 0.5)),
        (ks.ExponentialDecay(0.1, 7, 0.5, staircase=True), RT.ExponentialDecay(0.1, 7, 0.5, staircase=True)),
        (ks.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), RT.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])),
        (ks.PolynomialDecay(0.1, 20, 0.01, power=2.0), RT.PolynomialDecay(0.1, 20, 0.01, power=2.0)),
        (ks.PolynomialDecay(0.1, 7, cycle=True), RT.PolynomialDecay(0.1, 7, cycle=True)),
        (ks.InverseTimeDecay(0.1, 5, 0.5, staircase=True), RT.InverseTimeDecay(0.1, 5, 0.5, staircase=True)),
        (ks.CosineDecay(0.1, 20, alpha=0.1), RT.CosineDecay(0.1, 20, alpha=0.1)),
        (ks.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5), RT.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5)),
        (ks.CosineDecayRestarts(0.1, 5), RT.CosineDecayRestarts(0.1, 5)),
        (ks.CosineDecayRestarts(0.1, 5, t_mul=1.0, m_mul=0.5), RT.CosineDecayRestarts(0.1, 5, t_mul=1.0, m_mul=0.5)),
    ]
    steps = list(range(0, 40))
    for theirs, ours in pairs:
        expected = [float(theirs(s)) for s in steps]
        got = [ours(s) for s in steps]
        assert max_rel(expected, got, floor=1e-8) < 1e-5, (type(ours).__name__, expected, got)


def test_optimizer_iterations_and_learning_rate_like_keras():
    params = [torch.nn.Parameter(torch.ones(3))]
    optimizer = RT.KerasAdam(params, lr=RT.PiecewiseConstantDecay([1], [0.1, 0.01]))
    for _ in range(3):
        params[0].grad = torch.ones(3)
        optimizer.step()
    assert optimizer.iterations == 3
    assert optimizer.learning_rate == 0.01  # schedule(2): after the boundary
    with pytest.raises(ValueError):
        RT.KerasSGD(params, clipnorm=1.0, clipvalue=1.0)

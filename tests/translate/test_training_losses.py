"""The runtime losses trained against Keras compile/fit, and called directly against keras.losses.

fit: same initial weights, same batches; per-epoch losses and final weights to float32 precision.
Probability outputs matter: Keras on TensorFlow computes a crossentropy on a softmax/sigmoid output
from the activation's logits; the runtime computes it on the clipped probabilities, which agrees to
float32 precision while no probability is within 1e-7 of 0 or 1.
"""
import numpy as np
import pytest
import torch

from test_training_helpers import max_rel, runtime, twins

RT = runtime()
rng = np.random.default_rng(0)
X = rng.standard_normal((70, 5)).astype("float32")
Y_INT = rng.integers(0, 3, size=(70,))
Y_ONEHOT = np.eye(3, dtype="float32")[Y_INT]
Y_REG = rng.standard_normal((70, 3)).astype("float32")
Y_BIN = (rng.random((70, 3)) > 0.5).astype("float32")
Y_POS = (rng.random((70, 3)) + 0.1).astype("float32")
Y_PROB = rng.dirichlet(np.ones(3), size=70).astype("float32")


def fit_both(keras_loss, our_loss, y, activation, lr=0.05):
    import keras

    model, module = twins([keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3, activation=activation)], (5,))
    model.compile(optimizer=keras.optimizers.SGD(lr), loss=keras_loss)
    history = model.fit(X, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    ours = RT.fit(module, X, y, our_loss, torch.optim.SGD(module.parameters(), lr=lr), batch_size=16, epochs=3,
                  shuffle=False, verbose=0)
    last = [m for m in module.modules() if isinstance(m, torch.nn.Linear)][-1]
    kernel = model.layers[-1].kernel.numpy()
    weight_error = np.max(np.abs(kernel - last.weight.detach().numpy().T)) / np.max(np.abs(kernel))
    return max_rel(history.history["loss"], ours.history["loss"]), float(weight_error)


CASES = [  # (id, Keras loss, runtime loss, targets, output activation)
    ("mse", "mse", lambda: RT.MeanSquaredError(), Y_REG, "linear"),
    ("mae", "mae", lambda: RT.MeanAbsoluteError(), Y_REG, "linear"),
    ("mape", "mape", lambda: RT.MeanAbsolutePercentageError(), Y_POS, "linear"),
    ("msle", "msle", lambda: RT.MeanSquaredLogarithmicError(), Y_POS, "relu"),
    ("huber-delta", lambda k: k.losses.Huber(delta=0.5), lambda: RT.Huber(delta=0.5), Y_REG * 3, "linear"),
    ("log_cosh", "log_cosh", lambda: RT.LogCosh(), Y_REG, "linear"),
    ("kld", "kld", lambda: RT.KLDivergence(), Y_PROB, "softmax"),
    ("poisson", "poisson", lambda: RT.Poisson(), Y_POS, "softplus"),
    ("cosine", lambda k: k.losses.CosineSimilarity(), lambda: RT.CosineSimilarity(), Y_REG, "linear"),
    ("hinge", "hinge", lambda: RT.Hinge(), Y_BIN, "linear"),
    ("squared_hinge", "squared_hinge", lambda: RT.SquaredHinge(), Y_BIN, "linear"),
    ("categorical_hinge", "categorical_hinge", lambda: RT.CategoricalHinge(), Y_ONEHOT, "linear"),
    ("bce-sigmoid", "binary_crossentropy", lambda: RT.BinaryCrossentropy(), Y_BIN, "sigmoid"),
    ("bce-logits-smoothing", lambda k: k.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2),
     lambda: RT.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), Y_BIN, "linear"),
    ("cce-softmax", "categorical_crossentropy", lambda: RT.CategoricalCrossentropy(), Y_ONEHOT, "softmax"),
    ("cce-softmax-smoothing", lambda k: k.losses.CategoricalCrossentropy(label_smoothing=0.1),
     lambda: RT.CategoricalCrossentropy(label_smoothing=0.1), Y_ONEHOT, "softmax"),
    ("cce-logits", lambda k: k.losses.CategoricalCrossentropy(from_logits=True),
     lambda: RT.CategoricalCrossentropy(from_logits=True), Y_ONEHOT, "linear"),
    ("scce-softmax", "sparse_categorical_crossentropy", lambda: RT.SparseCategoricalCrossentropy(), Y_INT, "softmax"),
    ("scce-softmax-labels-n1", "sparse_categorical_crossentropy", lambda: RT.SparseCategoricalCrossentropy(),
     Y_INT[:, None], "softmax"),
    ("scce-logits-ignore-class", lambda k: k.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1),
     lambda: RT.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), Y_INT, "linear"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_keras_fit(case):
    import keras

    name, keras_loss, our_loss, y, activation = case
    lr = 0.001 if name == "mape" else 0.05  # MAPE's gradients are ~100x larger: a stable run, not a chaotic one
    loss_error, weight_error = fit_both(keras_loss(keras) if callable(keras_loss) else keras_loss, our_loss(), y, activation, lr)
    assert loss_error < 1e-5, loss_error
    assert weight_error < 1e-5, weight_error


def test_softmax_output_with_from_logits_true_is_fixed_by_keras():
    """Keras on TensorFlow takes the softmax's input when from_logits=True is given on a softmax output
    (no double softmax): the translation therefore uses from_logits=False there."""
    loss_error, _ = fit_both(__import__("keras").losses.CategoricalCrossentropy(from_logits=True),
                             RT.CategoricalCrossentropy(from_logits=False), Y_ONEHOT, "softmax")
    assert loss_error < 1e-5
    double_softmax, _ = fit_both(__import__("keras").losses.CategoricalCrossentropy(from_logits=True),
                                 RT.CategoricalCrossentropy(from_logits=True), Y_ONEHOT, "softmax")
    assert double_softmax > 1e-3


def test_sample_weights_divide_by_the_count_not_the_weights():
    import keras

    y_pred = rng.standard_normal((6, 4)).astype("float32")
    labels = rng.integers(0, 4, size=(6,))
    weights = np.array([0.0, 1.0, 2.0, 0.5, 0.0, 3.0], dtype="float32")
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none"):
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)(labels, y_pred, weights)
        ours = RT.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)(labels, y_pred, weights)
        assert max_rel(theirs.numpy(), ours.numpy()) < 1e-6, reduction
    torch_weighted = torch.nn.CrossEntropyLoss(reduction="none")(torch.tensor(y_pred), torch.tensor(labels))
    torch_mean = (torch_weighted * torch.tensor(weights)).sum() / torch.tensor(weights).sum()
    keras_value = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, y_pred, weights))
    assert abs(float(torch_mean) - keras_value) > 1e-3  # torch's weighted mean is another number


def test_rank_mismatch_is_squeezed_like_keras():
    """(N,) targets against (N, 1) predictions: Keras squeezes, torch's MSELoss would broadcast to (N, N)."""
    import keras

    y_true = rng.standard_normal((8,)).astype("float32")
    y_pred = rng.standard_normal((8, 1)).astype("float32")
    theirs = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    assert abs(float(RT.MeanSquaredError()(y_true, y_pred)) - theirs) < 1e-6
    assert abs(float(torch.nn.MSELoss()(torch.tensor(y_pred), torch.tensor(y_true))) - theirs) > 1e-3


def test_saturated_probabilities_are_clipped_like_keras():
    import keras

    y_pred = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype="float32")
    y_true = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype="float32")
    for theirs, ours in ((keras.losses.CategoricalCrossentropy(), RT.CategoricalCrossentropy()),
                         (keras.losses.BinaryCrossentropy(), RT.BinaryCrossentropy())):
        assert max_rel(theirs(y_true, y_pred).numpy(), ours(y_true, y_pred).numpy()) < 1e-6
    assert float(RT.SparseCategoricalCrossentropy()(np.array([1, 1]), y_pred)) == pytest.approx(
        float(keras.losses.SparseCategoricalCrossentropy()(np.array([1, 1]), y_pred)), rel=1e-6)


def test_loss_functions_give_per_sample_values():
    import keras

    y_true, y_pred = Y_REG[:5], Y_REG[5:10]
    assert max_rel(keras.losses.mean_absolute_error(y_true, y_pred).numpy(),
                   RT.MeanAbsoluteError(reduction=None)(y_true, y_pred).numpy()) < 1e-6
    assert max_rel(keras.losses.huber(y_true, y_pred, delta=0.3).numpy(),
                   RT.Huber(delta=0.3, reduction=None)(y_true, y_pred).numpy()) < 1e-6

"""Test support: convert a Keras model and check it against Keras itself (never hand-copied numbers)."""
from __future__ import annotations

import ast
import os

import numpy as np

import tf2torch

TOLERANCE = 1e-5  # max |torch - keras| / max |keras| in float32 (issue acceptance)


def randomize(model, seed: int = 0):
    """Give every weight random values (BatchNorm statistics included), variances positive."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape = tuple(w.shape)
        path = getattr(w, "path", w.name)
        if "variance" in path:
            value = rng.uniform(0.5, 1.5, shape)
        elif "count" in path:
            continue
        else:
            value = rng.normal(0.0, 0.5, shape)
        w.assign(value.astype(np.dtype(getattr(w.dtype, "as_numpy_dtype", w.dtype))))  # tf_keras: tf.DType
    return model


def check(model, *, tolerance: float = TOLERANCE, seed: int = 0, randomize_weights: bool = True, **kwargs):
    """Convert `model` and verify it against Keras; returns the Conversion."""
    if randomize_weights:
        randomize(model, seed)
    conversion = tf2torch.convert(model, tolerance=tolerance, **kwargs)
    v = conversion.report["verification"]
    assert v["passed"], v
    assert v["max_rel_error"] <= tolerance, v
    log = os.environ.get("TF2TORCH_ERROR_LOG")  # collect the worst errors of a whole run
    if log:
        with open(log, "a") as f:
            f.write(f"{v['max_rel_error']:.3e} {v['max_abs_error']:.3e} {os.environ.get('PYTEST_CURRENT_TEST', '?')}\n")
    ast.parse(conversion.source)
    return conversion


def forward_source(conversion) -> str:
    """The generated model's forward (not that of an inline helper module before it)."""
    model = conversion.source.split(f"class {conversion.class_name}(nn.Module)", 1)[-1]
    return model.split("def forward", 1)[1]


def same_as_keras(conversion, model, arrays, tolerance: float = TOLERANCE, context=""):
    """The converted module against `model(arrays, training=False)` on explicit batches (Keras
    layout; a single array or a list); returns the torch outputs in Keras layout. NaN (a fully
    masked mean is 0 / 0) must stand where Keras has it."""
    import torch

    arrays = list(arrays) if isinstance(arrays, (list, tuple)) else [arrays]
    specs = conversion.report["inputs"]
    args = [torch.from_numpy(np.transpose(a, s["permutation"]).copy()) for a, s in zip(arrays, specs)]
    expected = model(arrays if len(arrays) > 1 else arrays[0], training=False)
    expected = [np.asarray(e) for e in (expected if isinstance(expected, (list, tuple)) else [expected])]
    with torch.inference_mode():
        got = conversion.module(*args)
    got = [got] if isinstance(got, torch.Tensor) else list(got)
    assert len(got) == len(expected)
    results = []
    for g, e, out in zip(got, expected, conversion.report["outputs"]):
        g = np.transpose(g.numpy(), np.argsort(out["permutation"]))
        assert g.shape == e.shape, (context, out["name"])
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
        ok = ~np.isnan(e)
        if ok.any():
            assert np.abs(g[ok] - e[ok]).max() <= tolerance * max(np.abs(e[ok]).max(), 1e-6), (context, out["name"])
        results.append(g)
    return results if len(results) > 1 else results[0]

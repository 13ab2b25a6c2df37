"""Numerical verification: the torch module against the Keras model on seeded inputs.

Knows nothing of converters: it reads the boundary specs (Keras shape, dtype, layout permutation,
value range) and calls two functions. NaN/Inf patterns are compared before any difference.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

DEFAULT_TOLERANCE = 1e-4  # max |torch - keras| / max |keras|, per output
DYNAMIC_DIMS = (11, 8)  # sizes used for unknown (None) dims, one per sample: odd and even on purpose
BATCH = 2


@dataclass
class Spec:
    name: str
    keras_shape: tuple
    dtype: str
    permutation: tuple
    value_range: tuple | None = None
    padding: float | None = None  # sequences are padded with this value along axis 1 (Keras masks)


def example_shape(keras_shape: tuple, batch: int = BATCH, sample: int = 0, dynamic_dims=DYNAMIC_DIMS) -> tuple:
    dynamic = dynamic_dims[sample % len(dynamic_dims)]
    return tuple(batch if i == 0 else (dynamic if d is None else int(d)) for i, d in enumerate(keras_shape))


def make_inputs(specs: Sequence[Spec], seed: int, sample: int = 0, dynamic_dims=DYNAMIC_DIMS) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    # padded sequences: one row per padding pattern (see pad_rows)
    batch = len(PADDING_PATTERNS) if any(s.padding is not None for s in specs) else BATCH
    for s in specs:
        shape = example_shape(s.keras_shape, batch=batch, sample=sample, dynamic_dims=dynamic_dims)
        dtype = np.dtype(s.dtype)
        if np.issubdtype(dtype, np.integer):
            lo, hi = s.value_range or (0, 10)
            if s.padding is not None and int(lo) == s.padding and int(hi) - int(lo) > 1:
                lo += 1  # the padding value appears only where pad_rows puts it
            out.append(pad_rows(rng.integers(int(lo), int(hi), size=shape).astype(dtype), s.padding))
        elif dtype == np.bool_:
            out.append(rng.random(shape) < 0.5)
        else:
            if s.value_range:
                lo, hi = s.value_range
                out.append(rng.uniform(lo, hi, size=shape).astype(dtype))
            else:
                out.append(pad_rows(rng.standard_normal(shape).astype(dtype), s.padding))
    return out


# rows of a padded batch: post-padded (the usual torch packing case), pre-padded (Keras'
# pad_sequences default), padded at both ends, and with a padded step inside the sequence
PADDING_PATTERNS = ("post", "pre", "both", "hole")


def pad_rows(array: np.ndarray, value) -> np.ndarray:
    """Write `value` over whole time steps (axis 1), one PADDING_PATTERNS pattern per row."""
    if value is None or array.ndim < 2 or array.shape[1] < 3:
        return array
    steps = array.shape[1]
    k = max(1, steps // 3)
    for row, pattern in zip(array, PADDING_PATTERNS * array.shape[0]):
        if pattern in ("post", "both"):
            row[steps - k:] = value
        if pattern in ("pre", "both"):
            row[:k if pattern == "pre" else max(1, k // 2)] = value
        if pattern == "hole":
            row[steps // 2] = value
    return array


def compare(reference: np.ndarray, candidate: np.ndarray) -> dict:
    reference = np.asarray(reference, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape:
        return {"passed": False, "problem": f"shape {candidate.shape} != Keras {reference.shape}",
                "max_abs_error": float("inf"), "max_rel_error": float("inf")}
    for kind, test in (("NaN", np.isnan), ("Inf", np.isposinf), ("-Inf", np.isneginf)):
        if not np.array_equal(test(reference), test(candidate)):
            return {"passed": False, "problem": f"{kind} pattern differs from Keras",
                    "max_abs_error": float("inf"), "max_rel_error": float("inf")}
    finite = np.isfinite(reference)
    diff = np.abs(reference[finite] - candidate[finite])
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(reference[finite]).max()) if diff.size else 0.0
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    return {"max_abs_error": max_abs, "max_rel_error": max_rel}


def verify(
    module: torch.nn.Module,
    reference: Callable[[list[np.ndarray]], list[np.ndarray]],
    inputs: Sequence[Spec],
    outputs: Sequence[Spec],
    tolerance: float = DEFAULT_TOLERANCE,
    n_samples: int = 2,
    seed: int = 0,
    dynamic_dims: Sequence[int] = DYNAMIC_DIMS,
) -> dict:
    """Run both on `n_samples` seeded batches; report worst errors per output and overall.

    Unknown (None) dims take the size dynamic_dims[sample] (cycled), so a model with a dynamic
    input is checked at several sizes.
    """
    worst_abs, worst_rel, problems = 0.0, 0.0, []
    seen: list[list[np.ndarray]] = [[] for _ in outputs]
    per_output = [{"name": o.name, "max_abs_error": 0.0, "max_rel_error": 0.0} for o in outputs]
    for sample in range(n_samples):
        arrays = make_inputs(inputs, seed + sample, sample, dynamic_dims)
        expected = [np.asarray(e) for e in reference(arrays)]
        # a fresh copy has canonical strides: np.ascontiguousarray keeps a transposed view when a dim
        # has size 1 (numpy calls it contiguous), and torch 2.13's CPU convolution computed garbage
        # on such a one-channel view (strides (25, 1, 5, 1) for shape (2, 1, 5, 5))
        torch_in = [torch.from_numpy(np.transpose(a, s.permutation).copy()) for a, s in zip(arrays, inputs)]
        with torch.inference_mode():
            got = module(*torch_in)
        got = [got] if isinstance(got, torch.Tensor) else list(got)
        if len(got) != len(expected):
            problems.append(f"{len(got)} outputs, Keras has {len(expected)}")
            break
        for seen_values, e in zip(seen, expected):
            seen_values.append(e)
        for rec, spec, g, e in zip(per_output, outputs, got, expected):
            back = np.transpose(g.detach().cpu().numpy(), np.argsort(spec.permutation))
            result = compare(e, back)
            if "problem" in result:
                problems.append(f"output {spec.name!r}: {result['problem']}")
            rec["max_abs_error"] = max(rec["max_abs_error"], result["max_abs_error"])
            rec["max_rel_error"] = max(rec["max_rel_error"], result["max_rel_error"])
            worst_abs = max(worst_abs, result["max_abs_error"])
            worst_rel = max(worst_rel, result["max_rel_error"])
    passed = not problems and worst_rel <= tolerance
    warnings = [f"output {spec.name!r}: {weak}" for spec, values in zip(outputs, seen) if (weak := weakness(values))]
    return {"max_abs_error": worst_abs, "max_rel_error": worst_rel, "tolerance": tolerance, "passed": passed,
            "n_samples": n_samples, "outputs": per_output, "problems": problems, "warnings": warnings}


def weakness(values: list[np.ndarray]) -> str | None:
    """Why agreement on these Keras outputs proves little (constant or saturated), or None."""
    flat = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
    flat = flat[np.isfinite(flat)]
    if flat.size > 1 and np.ptp(flat) == 0:
        return "Keras gives the same value everywhere on the random inputs: verification is weak"
    if flat.size > 1 and np.isin(flat, (0.0, 1.0)).all() and np.issubdtype(np.asarray(values[0]).dtype, np.floating):
        return "Keras output is saturated (only 0 and 1) on the random inputs: verification is weak"
    return None

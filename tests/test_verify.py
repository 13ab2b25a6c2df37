"""The verifier trusts nothing: shapes, NaN/Inf patterns, errors, and weak (degenerate) references."""
import keras
import numpy as np
import pytest
import torch

import tf2torch
from tf2torch import verify as v
from tf2torch.errors import VerificationError


def test_compare_reports_shape_mismatch():
    assert "shape" in v.compare(np.zeros((2, 3)), np.zeros((3, 2)))["problem"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_compare_checks_non_finite_patterns_first(bad):
    ref = np.array([1.0, 2.0, 3.0])
    cand = ref.copy()
    cand[1] = bad
    assert "pattern" in v.compare(ref, cand)["problem"]
    same = v.compare(cand, cand.copy())
    assert "problem" not in same and same["max_abs_error"] == 0.0


def test_relative_error_is_scaled_by_the_output_magnitude():
    result = v.compare(np.array([100.0, -200.0]), np.array([100.0, -199.0]))
    assert result["max_abs_error"] == 1.0 and result["max_rel_error"] == pytest.approx(1 / 200)


def test_inputs_follow_dtype_range_and_dynamic_sizes():
    specs = [v.Spec("ids", (None, None), "int32", (0, 1), (0, 7)), v.Spec("img", (None, 5, None, 3), "float32", (0, 3, 1, 2))]
    a0, b0 = v.make_inputs(specs, seed=0, sample=0)
    a1, _ = v.make_inputs(specs, seed=0, sample=1)
    assert a0.dtype == np.int32 and a0.min() >= 0 and a0.max() < 7
    assert b0.shape == (v.BATCH, 5, v.DYNAMIC_DIMS[0], 3)
    assert a1.shape == (v.BATCH, v.DYNAMIC_DIMS[1])


@pytest.mark.parametrize("values, weak", [
    ([np.full((2, 3), 0.25)], "same value"),
    ([np.eye(3)], "saturated"),
    ([np.array([[0.1, 0.9]])], None),
], ids=["constant", "one-hot", "informative"])
def test_weak_references_are_flagged(values, weak):
    found = v.weakness(values)
    assert (found is None) if weak is None else (weak in found)


def test_a_wrong_module_fails_verification():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    conversion = tf2torch.convert(model)
    with torch.no_grad():
        conversion.module.dense.weight[0, 0] += 0.5
    result = v.verify(conversion.module, lambda arrays: [model(arrays[0]).numpy()],
                      [v.Spec("x", (None, 4), "float32", (0, 1))], [v.Spec("y", (None, 3), "float32", (0, 1))])
    assert not result["passed"] and result["max_rel_error"] > 1e-3


def test_tolerance_zero_is_enforced():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="gelu"), keras.layers.Dense(2)])
    try:
        conversion = tf2torch.convert(model, tolerance=0.0)
    except VerificationError as exc:  # float rounding differs: a real failure, with the conversion attached
        assert exc.conversion is not None
    else:
        assert conversion.report["verification"]["max_rel_error"] == 0.0


def test_constant_keras_output_is_reported_as_weak_verification():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_initializer="zeros")])
    conversion = tf2torch.convert(model)
    assert any("verification is weak" in w for w in conversion.report["warnings"])


def test_ops_without_a_tensorflow_cpu_kernel_are_verified_through_xla():
    # TF has no CPU kernel for dilated transposed convolutions; the reference falls back to XLA
    model = keras.Sequential([keras.Input((9, 7, 3)), keras.layers.Conv2DTranspose(4, 3, dilation_rate=2, padding="same")])
    conversion = tf2torch.convert(model, tolerance=1e-5)
    assert conversion.report["verification"]["passed"]


def test_a_reference_that_cannot_run_is_a_verification_error(monkeypatch):
    from tf2torch import pipeline
    from tf2torch.frontend import Loaded, load

    def load_with_broken_reference(source, unsafe=False):
        def broken(arrays):
            raise RuntimeError("no luck\nsecond line")

        return Loaded(load(source, unsafe).graph, broken)

    monkeypatch.setattr(pipeline, "load", load_with_broken_reference)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(VerificationError, match="could not run: RuntimeError: no luck$") as info:
        tf2torch.convert(model)
    assert info.value.conversion is not None


def test_padded_inputs_cover_post_pre_both_and_hole():
    from tf2torch.verify import Spec, make_inputs

    ids, = make_inputs([Spec("ids", (None, 9), "int32", (0, 1), (0, 5), padding=0)], seed=3)
    assert ids.shape == (4, 9)
    pad = ids == 0
    assert pad[0].tolist() == [False] * 6 + [True] * 3  # post
    assert pad[1].tolist() == [True] * 3 + [False] * 6  # pre
    assert pad[2, 0] and pad[2, -1] and not pad[2, 4]  # both ends
    assert pad[3].tolist() == [False] * 4 + [True] + [False] * 4  # a hole
    seq, = make_inputs([Spec("x", (None, 7, 3), "float32", (0, 1, 2), padding=-1.0)], seed=0)
    assert (seq[0, -2:] == -1).all() and (seq[0, :-2] != -1).all()  # whole time steps padded

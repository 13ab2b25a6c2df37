"""A representative subset of the keras.applications zoo (`make zoo` converts all 40 constructors).

Chosen for what each exercises: MobileNetV3Small (hard-swish, squeeze-and-excitation, in-model
Rescaling, dynamic input size), EfficientNetB0 (Normalization, SE, odd size), ConvNeXtTiny
(LayerScale, channel-wise LayerNormalization, pointwise Dense), InceptionResNetV2's
CustomScaleLayer, NASNetMobile (asymmetric padding and cropping at its default size).
"""
import re

import numpy as np
import pytest
import torch

import tf2torch
import zoo_models

CASES = [
    zoo_models.Case("MobileNetV3Small", "dynamic"),
    zoo_models.Case("EfficientNetB0", "odd"),
    zoo_models.Case("ConvNeXtTiny", "odd"),
    zoo_models.Case("InceptionResNetV2", "odd"),
    zoo_models.Case("NASNetMobile", "top"),
]
_converted: dict = {}


def converted(case):
    if case not in _converted:
        _converted.clear()  # one model at a time in memory
        _converted[case] = tf2torch.convert(case.build(), dynamic_sizes=case.verify_sizes or None)
    return _converted[case]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_converts_verifies_and_has_no_layout_shuffles(case):
    conversion = converted(case)
    report = conversion.report
    assert report["verification"]["passed"] and report["verification"]["max_rel_error"] <= 1e-4
    assert report["permutes_in_forward"] == 0
    forward = conversion.source.split("def forward", 1)[1]
    assert not re.search(r"\.(permute|transpose|movedim)\(", forward)
    assert not [w for w in report["warnings"] if "verification is weak" in w]  # the random weights make a real check


@pytest.mark.parametrize("case", CASES[:3], ids=lambda c: c.name)
def test_export_and_compile_capture_the_whole_graph(case):
    conversion = converted(case)
    side = case.input_size or case.verify_sizes[0]
    x = torch.randn(1, 3, side, side)
    with torch.inference_mode():
        expected = conversion.module(x)
    exported = torch.export.export(conversion.module, (x,))
    torch.testing.assert_close(exported.module()(x), expected)
    torch._dynamo.reset()
    compiled = torch.compile(conversion.module, fullgraph=True, backend="eager")  # graph capture, no code generation
    with torch.inference_mode():
        torch.testing.assert_close(compiled(x), expected)


def test_padding_is_static_where_tf_same_is_symmetric():
    # EfficientNetV2's stem is a 'same' stride-2 3x3 conv: at 199 TF pads 1 and 1 (a plain
    # padding=1); the next stride-2 layer sees 100 (TF pads 0 before, 1 after: an explicit F.pad)
    odd = tf2torch.convert(zoo_models.Case("EfficientNetV2B0", "odd").build()).source
    assert "self.stem_conv = nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False)" in odd
    assert "F.pad(" in odd and "pad_same" not in odd
    # a dynamic input size: the strided 'same' layers need the size-dependent helper, the others not
    case = zoo_models.Case("EfficientNetV2B0", "dynamic")
    dynamic = tf2torch.convert(case.build(), dynamic_sizes=case.verify_sizes).source
    forward = dynamic.split("def forward", 1)[1]
    assert "self.stem_conv(pad_same(x, (3, 3), (2, 2), (1, 1)))" in forward
    assert len(re.findall(r"pad_same\(", forward)) == len(re.findall(r"stride=2", dynamic))


@pytest.mark.parametrize("mistake", ["no moving mean", "no moving variance"])
def test_verification_of_the_zoo_weights_can_fail(mistake):
    """The randomised weights make a converter that drops a statistic fail verification."""
    case = zoo_models.Case("MobileNetV3Small", "dynamic")
    conversion = converted(case)
    broken = dict(conversion.state_dict)
    for name, value in conversion.state_dict.items():
        if name.endswith("running_mean") and mistake == "no moving mean":
            broken[name] = torch.zeros_like(value)
        if name.endswith("running_var") and mistake == "no moving variance":
            broken[name] = torch.ones_like(value)
    from tf2torch.frontend import load
    from tf2torch.pipeline import _specs, instantiate
    from tf2torch.verify import verify

    module = instantiate(conversion.source, conversion.class_name, broken)
    result = verify(module, load(case.build()).reference, _specs(conversion.report["inputs"]),
                    _specs(conversion.report["outputs"]), dynamic_dims=case.verify_sizes)
    assert not result["passed"] and result["max_rel_error"] > 1e-3
    assert np.isfinite(result["max_rel_error"])

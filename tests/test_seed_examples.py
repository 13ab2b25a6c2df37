"""The article's three models (examples/): convert, verify, and emit exactly the golden source.

Regenerate the golden files after an intended change of the emitted code with
UPDATE_GOLDEN=1 pytest tests/test_seed_examples.py, then read the diff.
"""
import importlib.util
import os
from pathlib import Path

import keras
import pytest

from kerascheck import check, forward_source

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"


def build(name: str):
    keras.utils.clear_session()  # deterministic layer names
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model()


@pytest.mark.parametrize("name", ["linear_regression", "cnn", "lstm"])
def test_seed_model_converts_to_golden_source(name):
    conversion = check(build(name))
    golden = GOLDEN / f"{name}.py"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(conversion.source)
    assert conversion.source == golden.read_text()


def test_cnn_reads_like_hand_written_pytorch():
    conversion = check(build("cnn"))
    src = conversion.source
    assert "nn.Conv2d(1, 32, kernel_size=3)" in src
    assert "nn.MaxPool2d(2)" in src
    assert "nn.Linear(5408, 10)" in src  # 28 -> 26 -> 13: 32 * 13 * 13, not the article's 32 * 12 * 12
    forward = forward_source(conversion)
    assert "F.relu(" in forward and "flatten(1)" in forward
    assert ".permute(" not in forward  # flatten order folded into the Linear weights

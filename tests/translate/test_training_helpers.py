"""Shared by the test_training*.py files: the training runtime as it is emitted into scripts, the
training transformation run alone, and Keras/torch twin models (no tests here)."""
from __future__ import annotations

from types import SimpleNamespace

import libcst as cst
import numpy as np
from libcst.codemod import CodemodContext

from tf2torch import inline
from tf2torch.translate import runner
from tf2torch.translate import runtime as runtime_package
from tf2torch.translate.base import state_of
from tf2torch.translate.state import ModelInfo
from tf2torch.translate.transforms import training

PRELUDE = ("import copy, csv, itertools, math, os, time\nimport numpy as np\nimport torch\n"
           "import torch.nn.functional as F\nfrom torch import nn\n")


def runtime(*names):
    """The runtime entries (and what they use) executed from their emitted source, as in a script."""
    namespace: dict = {}
    exec(PRELUDE, namespace)
    names = names or tuple(inline.available(runtime_package))
    for source in inline.sources(names, runtime_package):
        exec(source, namespace)
    return SimpleNamespace(**namespace)


def translate(code: str, models: dict | None = None):
    """Run the training transformation alone (models known as given); (source, state)."""
    context = CodemodContext(filename="<test>")
    state = state_of(context)
    state.models.update(models or {})
    module = training.TRANSFORM(context).transform_module(cst.parse_module(code))
    module = runner._finish_imports(module, state)
    compile(module.code, "<test>", "exec")
    return module.code, state


def body(source: str) -> str:
    """The translated script without the inlined runtime definitions and import lines."""
    module = cst.parse_module(source)
    kept = [s for s in module.body if not isinstance(s, (cst.FunctionDef, cst.ClassDef))
            and not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], (cst.Import, cst.ImportFrom)))]
    return "".join(cst.Module([]).code_for_node(s.with_changes(leading_lines=[l for l in s.leading_lines if l.comment]))
                   for s in kept).strip()


def model_info(variable="model", activation=None, inputs=((0, 1),), outputs=((0, 1),)):
    return ModelInfo(variable, "Net", [tuple(p) for p in inputs], [tuple(p) for p in outputs], activation)


def twins(layers, input_shape, seed=1):
    """A Keras model and its tf2torch conversion with the same initial weights."""
    import keras

    import tf2torch

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(input_shape), *layers])
    module = tf2torch.convert(model, verify=False).module
    module.train()
    return model, module


def max_rel(a, b, floor=1e-6) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), floor)))

"""The translation corpus: every script of tests/translate/corpus/ translates without a crash into valid,
self-contained Python that loses nothing.

The corpus is ours (original TF/Keras programs and snippets); keras.io's examples are kept out of it
as an independent benchmark. Scripts are only parsed and translated here, never run (see
benchmarks/translate_corpus.py --run for running the TODO-free translations).
"""
from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import io
import multiprocessing
import os
import re
import symtable
import sys
import tokenize
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tf2torch.translate import translate_source
from tf2torch.translate.base import TODO_PREFIX

CORPUS = Path(__file__).resolve().parent / "corpus"
SCRIPTS = sorted(CORPUS.glob("*.py"))
ROOT = Path(__file__).resolve().parents[2]

_MODULE_NAMES = {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__"}


@pytest.fixture(autouse=True)
def fresh_keras_names():
    """Overrides conftest's per-test Keras reset (a quarter of a second each): these tests build no Keras
    model themselves, and the models transformation resets Keras' layer names before each script."""
    yield


@pytest.fixture(scope="module")
def translations(request) -> dict[Path, object]:
    """The translation (or the exception it raised) of every corpus script selected in this run,
    computed once, in two processes: translating the corpus is most of this file's time."""
    wanted = sorted({item.callspec.params["path"] for item in request.session.items
                     if Path(item.path) == Path(__file__) and item.originalname == "test_translation_is_sound"})
    done = {}
    workers = min(2, os.cpu_count() or 1, len(wanted))
    if workers < 2:
        for path in wanted:
            try:
                done[path] = translate_source(path.read_text(), str(path))
            except Exception as exc:  # reported by that script's test
                done[path] = exc
        return done
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {path: pool.submit(translate_source, path.read_text(), str(path)) for path in wanted}
        for path, future in futures.items():
            try:
                done[path] = future.result()
            except Exception as exc:
                done[path] = exc
    return done


# ------------------------------------------------------------------------------------------------
# checks (also used on hand-made defective outputs below, so that each one is known to fail)
# ------------------------------------------------------------------------------------------------
def free_names(source: str) -> set[str]:
    """Names read somewhere in the script but bound nowhere in it (nor builtins)."""
    bound, read = set(), set()

    def walk(table: symtable.SymbolTable) -> None:
        module = table.get_type() == "module"
        for sym in table.get_symbols():
            name = sym.get_name()
            if module:
                if sym.is_assigned() or sym.is_imported():
                    bound.add(name)
                elif sym.is_referenced():
                    read.add(name)
            else:
                if sym.is_global() and sym.is_referenced():
                    read.add(name)
                if sym.is_declared_global() and sym.is_assigned():
                    bound.add(name)
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(source, "<script>", "exec"))
    return read - bound - set(dir(builtins)) - _MODULE_NAMES


def todo_comments(source: str) -> list[int]:
    """Line numbers of the real `# TODO(tf2torch):` comments (tokens, so never text inside a string)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.start[0] for t in tokens if t.type == tokenize.COMMENT and t.string.startswith(TODO_PREFIX.rstrip())]


def torch_aliases(tree: ast.Module) -> dict[str, str]:
    """Names the script binds to torch modules/objects by import: {"nn": "torch.nn", "F": "torch.nn.functional"}."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "torch":
                    aliases[a.asname or "torch"] = a.name if a.asname else "torch"
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torch" and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _resolve(dotted: str):
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))  # a submodule not imported by its parent
    return obj


def missing_torch_names(source: str) -> list[str]:
    """Every `nn.X`, `F.x`, `torch.a.b` chain the script uses that torch does not have."""
    tree = ast.parse(source)
    aliases = torch_aliases(tree)
    missing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not (isinstance(base, ast.Name) and base.id in aliases):
            continue
        dotted = ".".join([aliases[base.id], *reversed(chain)])
        try:
            _resolve(dotted)
        except (AttributeError, ImportError):
            missing.append(f"{ast.unparse(node)} ({dotted})")
    return sorted(set(missing))


def shadowed_torch_aliases(source: str) -> list[str]:
    """torch import names (torch, nn, F, ...) that the script also binds to something else."""
    tree = ast.parse(source)
    aliases = set(torch_aliases(tree))
    clashes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in aliases:
            clashes.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in aliases:
            clashes.add(node.name)
        elif isinstance(node, ast.arg) and node.arg in aliases:
            clashes.add(node.arg)
    return sorted(clashes)


def _prints(source: str) -> int:
    return sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print" for n in ast.walk(ast.parse(source)))


def problems(original: str, translation) -> list[str]:
    """Everything wrong with one translation; [] when it is sound."""
    if translation.error is not None:
        return [f"error: {translation.error}"]
    found = [f"internal error: {why}" for _, why in translation.todos if "internal error" in why]
    source = translation.source
    try:
        compile(source, "<translation>", "exec")
    except SyntaxError as exc:
        return found + [f"not valid Python: {exc}"]
    comments = todo_comments(source)
    listed = [line for line, _ in translation.todos if line]
    if sorted(listed) != comments:
        found.append(f"TODO comments on lines {comments} but Translation.todos lists lines {sorted(listed)}")
    lost = free_names(source) - free_names(original)
    if lost:  # e.g. a TensorFlow import removed while `tf.` is still used, or a helper dropped
        found.append(f"names used but no longer defined: {sorted(lost)}")
    found += [f"torch has no {m}" for m in missing_torch_names(source)]
    found += [f"torch import name `{n}` is also bound by the script" for n in shadowed_torch_aliases(source)]
    if re.search(r"^\s*(import|from)\s+tf2torch\b", source, re.M):
        found.append("the translation imports tf2torch (it must stand alone)")
    if _prints(source) < _prints(original):  # what the script shows its user is never translated away
        found.append(f"print calls lost: {_prints(original)} in the original, {_prints(source)} in the translation")
    docstring = ast.get_docstring(ast.parse(original))
    if docstring and ast.get_docstring(ast.parse(source)) != docstring:
        found.append("the module docstring was lost")
    return found


# ------------------------------------------------------------------------------------------------
# the corpus itself
# ------------------------------------------------------------------------------------------------
# (pattern, what it stands for): the corpus must keep covering each of these
COVERAGE = [
    (r"^import tensorflow as tf$", "import tensorflow as tf"),
    (r"^from tensorflow import keras$", "from tensorflow import keras"),
    (r"^from tensorflow\.keras import .*layers", "from tensorflow.keras import layers"),
    (r"^from tensorflow\.keras\.\w+ import ", "from tensorflow.keras.<module> import names"),
    (r"^import keras$", "import keras (Keras 3)"),
    (r"^from keras import .*ops", "from keras import ops"),
    (r"^import tf_keras as keras$", "import tf_keras as keras (Keras 2)"),
    (r"Sequential\(\[", "Sequential from a list"),
    (r"\.add\(", "Sequential .add"),
    (r"Model\(\s*(inputs=)?\[", "functional multi-input"),
    (r"class \w+\((tf\.)?keras\.Model\)", "subclassed Model"),
    (r"class \w+\((layers\.Layer|keras\.layers\.Layer)\)", "subclassed Layer"),
    (r"def call\(self, \w+, training=None\)", "call(training=None)"),
    (r"def get_config\(self\)", "get_config"),
    (r"def train_step\(self", "custom train_step"),
    (r"EarlyStopping\(", "EarlyStopping"),
    (r"ModelCheckpoint\(", "ModelCheckpoint"),
    (r"ReduceLROnPlateau\(", "ReduceLROnPlateau"),
    (r"LearningRateScheduler\(", "LearningRateScheduler"),
    (r"CSVLogger\(", "CSVLogger"),
    (r"schedules\.\w+Decay\(", "learning-rate schedule"),
    (r"GradientTape\(\)", "GradientTape"),
    (r"g_optimizer", "GAN with two optimizers"),
    (r"z_log_var", "VAE"),
    (r"tf\.data\.Dataset", "tf.data"),
    (r"@tf\.function", "tf.function"),
    (r"ops\.\w+\(", "keras.ops"),
    (r"tf\.reduce_\w+\(", "tf math ops"),
    (r"save_weights\(", "save_weights"),
    (r"load_weights\(", "load_weights"),
    (r"Embedding\(", "Embedding"),
    (r"LSTM\(", "LSTM"),
    (r"Conv2D\(", "CNN"),
    (r"BatchNormalization\(", "BatchNormalization"),
    (r"Dropout\(", "Dropout"),
    (r"class_weight=", "class_weight"),
    (r"validation_split=", "validation_split"),
]


def test_corpus_is_large_varied_and_documented():
    assert len(SCRIPTS) >= 45
    sources = {p.name: p.read_text() for p in SCRIPTS}
    for name, src in sources.items():
        doc = ast.get_docstring(ast.parse(src, name))
        assert doc and "\n" not in doc.strip(), f"{name}: needs a one-line docstring saying what it exercises"
    text = "\n".join(sources.values())
    uncovered = [what for pattern, what in COVERAGE if not re.search(pattern, text, re.M)]
    assert not uncovered, f"the corpus no longer exercises: {uncovered}"
    snippets = [n for n, s in sources.items() if free_names(s)]
    assert len(snippets) >= 3, "the corpus must keep snippets with free names (x_train, timesteps, ...)"
    assert not any("keras.io" in s for s in sources.values())


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_translation_is_sound(path, translations):
    original = path.read_text()
    translation = translations[path]
    if isinstance(translation, Exception):
        raise translation  # translate_source must never raise
    assert problems(original, translation) == [], translation.source


def test_free_names_are_exactly_the_snippets_inputs():
    """The snippets' free names are those their docstrings announce: the free-name check sees what it must."""
    found = {p.name: free_names(p.read_text()) for p in SCRIPTS}
    assert found["snippet_lstm_timesteps.py"] == {"timesteps", "n_features", "X", "y", "x_input"}
    assert found["snippet_free_names_fit.py"] == {"input_dim", "num_classes", "x_train", "y_train", "x_test", "y_test"}
    assert found["mlp_sequential_list.py"] == set()


def test_docs_table_lists_every_corpus_script():
    docs = (ROOT / "docs" / "translation.md").read_text()
    start, end = "<!-- corpus-table:start -->", "<!-- corpus-table:end -->"
    assert start in docs and end in docs
    table = docs.split(start, 1)[1].split(end, 1)[0]
    listed = set(re.findall(r"^\| `([\w.]+\.py)` \|", table, re.M))
    assert listed == {p.name for p in SCRIPTS}, "docs/translation.md is stale: run benchmarks/translate_corpus.py --write-docs"


def _benchmark():
    spec = importlib.util.spec_from_file_location("translate_corpus", ROOT / "benchmarks" / "translate_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_benchmark_rewrites_only_its_section():
    bench = _benchmark()
    rows = [bench.Row("a.py", ["x"], [], True, False), bench.Row("b.py", [], ["why", "why"], False, True, ran=None)]
    docs = f"intro\n{bench.START}\nold table\n{bench.END}\noutro\n"
    new = bench.with_table(docs, rows)
    assert new.startswith("intro\n") and new.endswith(f"{bench.END}\noutro\n") and "old table" not in new
    assert "1 of 2 corpus scripts fully translated (50 %)" in new
    assert "| `a.py` | 1 | 0 | yes |" in new and "| `b.py` | 0 | 2 | no |" in new
    assert bench.with_table(new, rows) == new  # regenerating is stable
    with pytest.raises(ValueError):
        bench.with_table("no markers", rows)


# ------------------------------------------------------------------------------------------------
# the checks above must be able to fail
# ------------------------------------------------------------------------------------------------
class _T:  # a stand-in Translation
    def __init__(self, source, todos=(), error=None):
        self.source, self.todos, self.error = source, list(todos), error


ORIGINAL = '"""doc."""\nimport tensorflow as tf\nx = tf.ones((2,))\nprint(x_train)\n'
DEFECTS = [
    pytest.param(_T('"""doc."""\nimport torch\nx = tf.ones((2,))\nprint(x_train)\n'), "no longer defined", id="tf-import-dropped"),
    pytest.param(_T('"""doc."""\nfrom torch import nn\nx = nn.Conv2D(1, 2, 3)\nprint(x_train)\n'), "torch has no", id="keras-name-in-torch"),
    pytest.param(_T('"""doc."""\nimport torch.nn.functional as F\nx = F.relu6x\nprint(x_train)\n'), "torch has no", id="bad-F"),
    pytest.param(_T('"""doc."""\nimport torch\nx = torch.optim.Adamm\nprint(x_train)\n'), "torch has no", id="bad-submodule-attr"),
    pytest.param(_T('"""doc."""\nimport torch\nx = torch.ones(2)\n# TODO(tf2torch): why\nprint(x_train)\n'), "Translation.todos",
                 id="unlisted-todo"),
    pytest.param(_T('"""doc."""\nimport torch\nx = "# TODO(tf2torch): no"\nprint(x_train)\n', [(3, "no")]), "Translation.todos",
                 id="todo-inside-a-string"),
    pytest.param(_T('"""doc."""\nx = (\n'), "not valid Python", id="invalid"),
    pytest.param(_T("", error="f:1:1: boom"), "error", id="error"),
    pytest.param(_T('"""doc."""\nimport torch\nx = torch.ones(2)\nprint(x_train)\n', [(0, "internal error in the ops step")]),
                 "internal error", id="internal-error"),
    pytest.param(_T('"""doc."""\nfrom torch import nn\nnn = 3\nx = 1\nprint(x_train)\n'), "also bound", id="shadowed-nn"),
    pytest.param(_T('"""doc."""\nimport tf2torch\nx = 1\nprint(x_train)\n'), "stand alone", id="imports-tf2torch"),
    pytest.param(_T('import torch\nx = torch.ones(2)\nprint(x_train)\n'), "docstring", id="docstring-lost"),
    pytest.param(_T('"""doc."""\nimport torch\nx = torch.ones(2)\nx_train\n'), "print calls lost", id="print-lost"),
]


@pytest.mark.parametrize("translation, expected", DEFECTS)
def test_checks_catch_defects(translation, expected):
    assert any(expected in p for p in problems(ORIGINAL, translation))


def test_checks_accept_a_sound_translation():
    good = _T('"""doc."""\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n'
              "x = F.relu(torch.ones(2)) + nn.Linear(2, 2).weight.sum()\n# TODO(tf2torch): something\nprint(x_train)\n",
              [(6, "something")])
    assert problems(ORIGINAL, good) == []

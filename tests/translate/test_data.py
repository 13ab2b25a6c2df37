"""tf.data pipelines -> torch datasets and DataLoader (translate/transforms/data.py, runtime/data.py).

Before/after cases, no-op cases, and the translated pipelines run next to tf.data on the same arrays:
same batches where tf.data is deterministic, same distribution where it shuffles.
"""
from __future__ import annotations

import itertools
import textwrap
from collections import Counter

import libcst as cst
import numpy as np
import pytest
import torch
from libcst.codemod import CodemodContext

from tf2torch import inline
from tf2torch.translate import runtime as runtime_package
from tf2torch.translate.base import state_of
from tf2torch.translate.transforms.data import TRANSFORM


def translate(source: str):
    context = CodemodContext()
    state = state_of(context)
    code = TRANSFORM(context).transform_module(cst.parse_module(textwrap.dedent(source))).code
    return code, state


def body(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not line.startswith(("import ", "from "))).strip() + "\n"


CASES = [
    pytest.param("""
        import tensorflow as tf

        AUTOTUNE = tf.data.AUTOTUNE
        train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train)).batch(32).prefetch(AUTOTUNE)
        val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64, drop_remainder=True)
        """, """
        train = DataLoader(TensorDataset(to_tensor(x_train), to_tensor(y_train)), batch_size=32, shuffle=True)
        val = DataLoader(TensorDataset(to_tensor(x_val), to_tensor(y_val)), batch_size=64, drop_last=True)
        """, {"from torch.utils.data import DataLoader, TensorDataset", "import torch"}, {"to_tensor"}, id="full-shuffle-batch"),
    pytest.param("""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((x, y))
        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE).cache()
        ds = ds.shuffle(1000, seed=42).batch(16)
        """, """
        ds = TensorDataset(to_tensor(x), to_tensor(y))
        ds = CachedDataset(MapDataset(ds, augment))
        ds = DataLoader(BufferShuffle(ds, 1000, seed=42), batch_size=16)
        """, {"from torch.utils.data import DataLoader, TensorDataset", "import torch"},
        {"to_tensor", "MapDataset", "CachedDataset", "BufferShuffle"}, id="statements-map-cache-buffer-shuffle"),
    pytest.param("""
        import tensorflow as tf

        seeded = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(x.shape[0], seed=7).batch(8)
        fixed = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), reshuffle_each_iteration=False).batch(5)
        """, """
        seeded = DataLoader(TensorDataset(to_tensor(x), to_tensor(y)), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(7))
        fixed = DataLoader(BufferShuffle(TensorSlices(x), len(x), reshuffle_each_iteration=False), batch_size=5)
        """, {"from torch.utils.data import DataLoader, TensorDataset", "import torch", "import numpy as np"},
        {"to_tensor", "TensorSlices", "BufferShuffle"}, id="seed-and-fixed-order"),
    pytest.param("""
        from tensorflow.data import Dataset

        images = Dataset.from_tensor_slices(paths).map(load).batch(4).map(normalize).repeat()
        features = Dataset.from_tensor_slices({"age": ages, "income": incomes}).batch(2)
        small = Dataset.from_tensor_slices(x).take(100).repeat(3).batch(10)
        for xb, yb in features.take(2):
            print(xb)
        """, """
        images = Repeat(MapBatches(DataLoader(MapDataset(TensorSlices(paths), load), batch_size=4), normalize))
        features = DataLoader(TensorSlices({"age": ages, "income": incomes}), batch_size=2)
        small = DataLoader(ConcatDataset([Subset(TensorSlices(x), range(100))] * 3), batch_size=10)
        for xb, yb in itertools.islice(features, 2):
            print(xb)
        """, {"from torch.utils.data import ConcatDataset, DataLoader, Subset", "import itertools", "import numpy as np", "import torch"},
        {"TensorSlices", "MapDataset", "MapBatches", "Repeat"}, id="map-batches-repeat-take-dict"),
    pytest.param("""
        import tensorflow as tf


        def make(x, y, batch_size):
            ds = tf.data.Dataset.from_tensor_slices((x, y))
            return ds.shuffle(len(ds)).batch(batch_size)


        def other(ds):
            return ds.batch(2)
        """, """
        def make(x, y, batch_size):
            ds = TensorDataset(to_tensor(x), to_tensor(y))
            return DataLoader(ds, batch_size=batch_size, shuffle=True)


        def other(ds):
            return ds.batch(2)
        """, {"from torch.utils.data import DataLoader, TensorDataset", "import torch"}, {"to_tensor"}, id="function-scopes"),
]

TODOS = [
    pytest.param("evens = tf.data.Dataset.from_tensor_slices(x).filter(lambda v: v % 2 == 0)", "`.filter()`", id="filter"),
    pytest.param("s = tf.data.Dataset.from_tensor_slices(x).batch(4).shuffle(10)", "shuffle of batches", id="shuffle-batches"),
    pytest.param("forever = tf.data.Dataset.from_tensor_slices(x).repeat().batch(4)", "endless repeat()", id="endless-repeat"),
    pytest.param("c = tf.data.Dataset.from_tensor_slices(x).shuffle(100).cache()", "after `shuffle()`", id="cache-after-shuffle"),
    pytest.param("p = tf.data.Dataset.from_tensor_slices(x).padded_batch(4)", "`.padded_batch()`", id="padded-batch"),
    pytest.param("t = tf.data.Dataset.from_tensor_slices(x).batch(4).take(2)", "as a for loop's iterable", id="take-batches"),
    pytest.param("c = tf.data.Dataset.from_tensor_slices(x).map(f).batch(2).cache()", "cache() of shuffled or mapped batches",
                 id="cache-mapped-batches"),
]

NOOPS = [
    pytest.param("""
        import numpy as np

        batch = queue.batch(32)
        ds = make_dataset()
        ds = ds.shuffle(10).batch(2).map(f)
        rows = np.array_split(np.arange(10), 2)
        """, id="not-tf-data"),
    pytest.param("""
        import tensorflow as tf

        lines = tf.data.TextLineDataset("a.txt").batch(2)
        ds = tf.data.Dataset.range(10).shuffle(10)
        """, id="other-sources-left-to-leftovers"),
]


@pytest.mark.parametrize("before, after, imports, runtime", CASES)
def test_translates(before, after, imports, runtime):
    code, state = translate(before)
    assert body(code) == textwrap.dedent(after).lstrip()
    assert state.imports == imports
    assert state.runtime == runtime


@pytest.mark.parametrize("line, reason", TODOS)
def test_untranslatable_pipelines_stay_under_a_todo(line, reason):
    code, state = translate(f"import tensorflow as tf\n\n{line}\n")
    todo, kept = code.splitlines()[2:4]
    assert todo.startswith("# TODO(tf2torch): tf.data pipeline kept as is: ") and reason in todo
    assert kept == line
    assert not state.imports and not state.runtime  # nothing half-translated asks for anything


def test_datasets_still_used_by_untranslated_tf_data_stay_tf_data():
    """A variable that a kept tf.data call still uses, and those it is made from, are not translated."""
    source = textwrap.dedent("""\
        import tensorflow as tf

        features = tf.data.Dataset.from_tensor_slices(x)
        pairs = tf.data.Dataset.zip((features, targets))
        a = tf.data.Dataset.from_tensor_slices(x)
        b = a.batch(2)
        c = b.unbatch()
        d = tf.data.Dataset.from_tensor_slices(y).batch(3)
        """)
    code, state = translate(source)
    lines = code.splitlines()
    assert [line for line in lines if "TODO" not in line] == source.splitlines()[:-1] + [
        "d = DataLoader(TensorSlices(y), batch_size=3)"]
    todos = [line for line in lines if "TODO" in line]
    assert len(todos) == 2  # on the sources: what stays tf.data downstream is all TensorFlow, marked by leftovers
    assert "`features` is also used by tf.data code" in todos[0] and "`a` is also used" in todos[1]


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_other_code_alone(source):
    source = textwrap.dedent(source)
    code, state = translate(source)
    assert code == source
    assert not state.imports and not state.runtime


# ------------------------------------------------------------------------------------------------
# the translated pipelines give what tf.data gives
# ------------------------------------------------------------------------------------------------
def run_translated(source: str, **arrays) -> dict:
    """Translate `source` and run it as a translated script would: runtime entries inline, imports added."""
    code, state = translate("import tensorflow as tf\n" + textwrap.dedent(source))
    assert "TODO" not in code, code
    namespace = dict(arrays)
    for line in sorted(state.imports):
        exec(line, namespace)
    for entry in inline.sources(sorted(state.runtime), runtime_package):
        exec(entry, namespace)
    exec(compile(body(code), "<torch>", "exec"), namespace)
    return namespace


def run_tensorflow(source: str, **arrays) -> dict:
    import tensorflow as tf

    namespace = {"tf": tf, **arrays}
    exec(compile(textwrap.dedent(source), "<tensorflow>", "exec"), namespace)
    return namespace


def as_numpy(batch):
    if isinstance(batch, dict):
        return {k: as_numpy(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return tuple(as_numpy(b) for b in batch)
    return batch.numpy() if hasattr(batch, "numpy") else np.asarray(batch)


def assert_same_batches(torch_batches, tf_batches):
    assert len(torch_batches) == len(tf_batches)
    for t, f in zip(torch_batches, tf_batches):
        t, f = as_numpy(t), as_numpy(f)
        assert type(t) is type(f)
        if isinstance(f, dict):
            assert t.keys() == f.keys()
            for k in f:
                np.testing.assert_allclose(t[k], f[k], rtol=1e-6)
        elif isinstance(f, tuple):
            assert len(t) == len(f)
            for a, b in zip(t, f):
                np.testing.assert_allclose(a, b, rtol=1e-6)
        else:
            np.testing.assert_allclose(t, f, rtol=1e-6)


ARRAYS = {"x": np.random.default_rng(0).standard_normal((10, 3)), "y": np.arange(10, dtype="int64"),
          "ages": np.arange(7.0), "incomes": np.arange(7, dtype="int32") * 10}


@pytest.mark.parametrize("pipeline", [
    pytest.param("tf.data.Dataset.from_tensor_slices((x, y)).batch(4)", id="batch-keeps-last"),
    pytest.param("tf.data.Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)", id="drop-remainder"),
    pytest.param("tf.data.Dataset.from_tensor_slices(x).batch(3)", id="one-array"),
    pytest.param("tf.data.Dataset.from_tensor_slices({'age': ages, 'income': incomes}).batch(3)", id="dict"),
    pytest.param("tf.data.Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a * 2.0 + 1.0, b)).batch(4)", id="map-elements"),
    pytest.param("tf.data.Dataset.from_tensor_slices((x, y)).batch(4).map(lambda a, b: (a * 2.0, b + 1))", id="map-batches"),
    pytest.param("tf.data.Dataset.from_tensor_slices(x).repeat(2).batch(4)", id="repeat-spans-epochs"),
    pytest.param("tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat(2).prefetch(tf.data.AUTOTUNE)", id="repeat-batches"),
    pytest.param("tf.data.Dataset.from_tensor_slices((x, y)).take(7).batch(3)", id="take-elements"),
    pytest.param("tf.data.Dataset.from_tensor_slices(x).map(lambda a: a * 3.0).cache().batch(5)", id="cache-after-map"),
])
def test_deterministic_pipelines_give_tf_data_batches(pipeline):
    source = f"ds = {pipeline}\nbatches = list(ds)\n"
    tf_batches = run_tensorflow(source, **ARRAYS)["batches"]
    torch_batches = run_translated(source, **ARRAYS)["batches"]
    assert_same_batches(torch_batches, tf_batches)


def test_split_statements_and_loop_take():
    source = """
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        ds = ds.map(lambda a, b: (a - 1.0, b))
        ds = ds.batch(3)
        firsts = []
        for xb, yb in ds.take(2):
            firsts.append((xb, yb))
    """
    assert_same_batches(run_translated(source, **ARRAYS)["firsts"], run_tensorflow(source, **ARRAYS)["firsts"])


def test_arrays_enter_as_keras_would_feed_them():
    """float64 -> float32 (a Keras model casts float inputs to float32, a torch model does not); ints kept."""
    ns = run_translated("ds = tf.data.Dataset.from_tensor_slices((x, y, ids)).batch(2)\n"
                        "xb, yb, ib = next(iter(ds))\n", ids=ARRAYS["y"].astype("int32"), **ARRAYS)
    assert ns["xb"].dtype == torch.float32 and ns["yb"].dtype == torch.int64 and ns["ib"].dtype == torch.int32


def test_full_shuffle_is_a_new_permutation_each_epoch():
    torch.manual_seed(0)
    ns = run_translated("ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(4)\n"
                        "epochs = [[int(i) for _, yb in ds for i in yb] for _ in range(3)]\n", **ARRAYS)
    epochs = ns["epochs"]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3


def test_buffer_shuffle_has_tf_data_distribution():
    """A buffer of 2 over 4 elements: 8 reachable orders, each 1/8, in tf.data and in BufferShuffle."""
    import tensorflow as tf

    n = 1200
    values = np.arange(4)
    epochs = tf.data.Dataset.from_tensor_slices(values).shuffle(2, seed=1).batch(4).repeat(n)  # one batch per epoch
    tf_orders = Counter(tuple(int(v) for v in order) for order in epochs.as_numpy_iterator())
    torch.manual_seed(1)
    ns = run_translated(f"ds = tf.data.Dataset.from_tensor_slices(values).shuffle(2).batch(4)\n"
                        f"orders = [tuple(int(v) for v in next(iter(ds))) for _ in range({n})]\n", values=values)
    torch_orders = Counter(ns["orders"])
    assert set(torch_orders) == set(tf_orders) and len(tf_orders) == 8
    for order in tf_orders:
        assert abs(torch_orders[order] - tf_orders[order]) / n < 0.06, (order, torch_orders[order], tf_orders[order])


def test_buffer_shuffle_fixed_order_and_seed():
    ns = run_translated("fixed = tf.data.Dataset.from_tensor_slices(x).shuffle(3, reshuffle_each_iteration=False).batch(10)\n"
                        "a = tf.data.Dataset.from_tensor_slices(y).shuffle(4, seed=5).batch(10)\n"
                        "b = tf.data.Dataset.from_tensor_slices(y).shuffle(4, seed=5).batch(10)\n"
                        "fixed_epochs = [next(iter(fixed)) for _ in range(3)]\n"
                        "a_epochs = [next(iter(a)).tolist() for _ in range(3)]\n"
                        "b_epochs = [next(iter(b)).tolist() for _ in range(3)]\n", **ARRAYS)
    first, *others = ns["fixed_epochs"]
    assert all(torch.equal(first, o) for o in others)
    assert not torch.equal(first, torch.as_tensor(ARRAYS["x"], dtype=torch.float32))  # it did shuffle
    assert ns["a_epochs"] == ns["b_epochs"] and len({tuple(e) for e in ns["a_epochs"]}) > 1


def test_buffer_shuffle_never_moves_an_element_earlier_than_the_buffer_allows():
    """Element i can come out at position i - buffer_size + 1 at the earliest (tf.data's buffer fill)."""
    torch.manual_seed(3)
    ns = run_translated("ds = tf.data.Dataset.from_tensor_slices(y).shuffle(3)\n"
                        "orders = [[int(v) for v in ds] for _ in range(200)]\n", **ARRAYS)
    for order in ns["orders"]:
        assert sorted(order) == list(range(10))
        assert all(position >= value - 2 for position, value in enumerate(order))


def test_cache_after_a_random_map_freezes_it():
    calls = itertools.count()
    ns = run_translated("ds = tf.data.Dataset.from_tensor_slices(y).map(lambda v: v + next(calls)).cache().batch(10)\n"
                        "first, second = list(ds), list(ds)\n", calls=calls, **ARRAYS)
    assert torch.equal(ns["first"][0], ns["second"][0])
    assert next(calls) == 10  # computed once per element

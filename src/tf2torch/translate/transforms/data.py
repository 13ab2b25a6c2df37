"""tf.data pipelines built from arrays -> torch datasets and DataLoader.

`tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(32, drop_remainder=True)` becomes
`DataLoader(TensorDataset(to_tensor(x), to_tensor(y)), batch_size=32, shuffle=True, drop_last=True)`.
A chain may be split over statements (`ds = ds.batch(32)`): variables holding a translated dataset
are followed per function scope. Exact rules (tensorflow/python/data/ops/dataset_ops.py):

- `shuffle(buffer)` is a full reshuffle each epoch (`shuffle=True`) only when the buffer provably holds
  the whole dataset (`len(x)`, `x.shape[0]` of a source array); any other buffer becomes the exact
  buffer shuffle of the runtime (`BufferShuffle`), as do a seed-fixed order and a shuffle not followed
  by `batch`. A `map` between `shuffle` and `batch` runs per element either way, so it moves before.
- `map(fn)` before `batch` runs per element (`MapDataset`), after it per batch (`MapBatches`); tuple
  elements are unpacked into fn's arguments as tf.data does. `num_parallel_calls`/`deterministic`
  only schedule the work: dropped.
- `prefetch` and a `cache` of unmapped data change no value: dropped (noted). `cache` after `map`
  freezes the mapped values (`CachedDataset`); after a shuffle or per-batch map it freezes an
  order: TODO.
- `take`/`skip` of elements -> `Subset`; `take(n)` of batches as a loop's iterable -> `itertools.islice`;
  `repeat(n)` of elements -> `ConcatDataset` (batches span repetitions, as in tf.data), `repeat()` of
  batches -> `Repeat`.
Anything else on a dataset (`filter`, `padded_batch`, `interleave`, a shuffle of batches, ...) stays as
it is under a TODO; so does a chain whose source is not `from_tensor_slices`. A dry pass finds the
dataset variables such kept code still uses (`tf.data.Dataset.zip((ds, other))`, `ds.window(...)`):
they, and the variables they are made from, stay tf.data, so no torch dataset reaches tf.data code.
Arrays enter through the runtime's `to_tensor`: float64 becomes float32 as a Keras model would cast it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from ..base import Transform
from ..qualnames import is_tensorflow

_SOURCE = "tf.data.Dataset.from_tensor_slices"
_AUTOTUNE = ("tf.data.AUTOTUNE", "tf.data.experimental.AUTOTUNE")
_SIGNATURES = {  # positional parameters of the tf.data.Dataset methods translated here
    "shuffle": ("buffer_size", "seed", "reshuffle_each_iteration", "name"),
    "batch": ("batch_size", "drop_remainder", "num_parallel_calls", "deterministic", "name"),
    "map": ("map_func", "num_parallel_calls", "deterministic", "synchronous", "use_unbounded_threadpool", "name"),
    "prefetch": ("buffer_size", "name"),
    "cache": ("filename", "name"),
    "repeat": ("count", "name"),
    "take": ("count", "name"),
    "skip": ("count", "name"),
}
_DATA_CLASSES = ("ConcatDataset", "DataLoader", "Subset", "TensorDataset")


class _Untranslatable(Exception):
    pass


@dataclass(frozen=True)
class Pipe:
    """A translated pipeline: `kind` is "elements" (map-style Dataset of elements), "stream" (iterable
    Dataset of elements) or "batches" (iterable of batches)."""

    kind: str
    expr: cst.BaseExpression
    sources: tuple[str, ...] = ()  # code of the source arrays (a buffer of len(x) holds them all)
    mapped: bool = False
    shuffled: bool = False


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _call(func: str, *args: cst.BaseExpression, **kwargs: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.parse_expression(func), [cst.Arg(a) for a in args] +
                    [cst.Arg(v, keyword=cst.Name(k), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
                     for k, v in kwargs.items()])


def _arguments(call: cst.Call, method: str) -> dict[str, cst.BaseExpression]:
    names = _SIGNATURES[method]
    out: dict[str, cst.BaseExpression] = {}
    for i, arg in enumerate(call.args):
        if arg.star:
            raise _Untranslatable(f"`.{method}(*...)`: arguments not visible")
        if arg.keyword is None:
            if i >= len(names):
                raise _Untranslatable(f"`.{method}` takes at most {len(names)} positional arguments")
            out[names[i]] = arg.value
        elif arg.keyword.value in names:
            out[arg.keyword.value] = arg.value
        else:
            raise _Untranslatable(f"`.{method}` has no argument `{arg.keyword.value}`")
    return out


def _names(node) -> set[str]:
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

    node.visit(Collect())
    return found


def _is_literal(node, *values) -> bool:
    if isinstance(node, cst.Name):
        return node.value in {repr(v) for v in values if v is None or isinstance(v, bool)}
    if isinstance(node, cst.Integer):
        return int(node.value) in values
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer):
        return -int(node.expression.value) in values
    return False


class TranslateData(Transform):
    DESCRIPTION = "tf.data.Dataset.from_tensor_slices pipelines -> TensorDataset/DataLoader"

    def __init__(self, context):
        super().__init__(context)
        self._poisoned: set[str] = set()
        self._reset(dry=False)

    def _reset(self, dry: bool) -> None:
        self._dry = dry  # a first pass that only finds the variables to leave alone
        self._scopes: list[tuple[dict[str, Pipe], set[str]]] = [({}, set())]  # (datasets, parameters)
        self._chains: dict[int, tuple] = {}  # id(original call) -> (root, ops)
        self._made: dict[int, tuple[cst.CSTNode, Pipe]] = {}  # id(new expression) -> (expression, pipe)
        self._loop_iters: set[int] = set()
        self._classes: set[str] = set()
        self._autotune: dict[str, cst.CSTNode] = {}  # NAME of `NAME = tf.data.AUTOTUNE` -> its statement
        self._roots: dict[int, str | None] = {}  # id(chain result) -> the dataset variable it starts from
        self._links: list[tuple[str, str]] = []  # (variable, the dataset variable it was made from)
        self._kept: set[str] = set()  # dataset variables used by chains or TensorFlow calls that stay tf.data
        self._skip: dict[int, str] = {}  # id(value of an assignment to a poisoned variable) -> that variable

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        """A dry pass first: a dataset variable that some tf.data code kept as is still uses (zip, window,
        ...) must stay a tf.data dataset, and so must the variables it is made from."""
        self._reset(dry=True)
        tree.visit(self)
        poisoned = set(self._kept)
        while True:
            more = {root for name, root in self._links if name in poisoned and root not in poisoned}
            if not more:
                break
            poisoned |= more
        self._poisoned = poisoned
        self._reset(dry=False)
        return tree.visit(self)

    # --- scopes: variables holding a translated dataset ----------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params
        names = {p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                names.add(star.name.value)
        self._scopes.append(({}, names))

    def leave_FunctionDef(self, original_node, updated_node):
        self._scopes.pop()
        return updated_node

    def _lookup(self, name: str) -> Pipe | None:
        if name in self._poisoned:
            return None
        for datasets, params in reversed(self._scopes):
            if name in datasets:
                return datasets[name]
            if name in params:
                return None
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        poisoned = [t.target.value for t in node.targets if isinstance(t.target, cst.Name) and t.target.value in self._poisoned]
        if poisoned:
            self._skip[id(node.value)] = poisoned[0]

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign):
        made = self._made.get(id(updated_node.value))
        datasets = self._scopes[-1][0]
        for target in updated_node.targets:
            if isinstance(target.target, cst.Name):
                if made is not None and made[0] is updated_node.value:
                    datasets[target.target.value] = made[1]
                    if self._roots.get(id(updated_node.value)):
                        self._links.append((target.target.value, self._roots[id(updated_node.value)]))
                else:
                    datasets.pop(target.target.value, None)
        return updated_node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.attr.value not in _SIGNATURES and self._lookup(node.value.value):
            self._kept.add(node.value.value)  # `ds.element_spec`, `ds.as_numpy_iterator`, ...

    def visit_For(self, node: cst.For) -> None:
        self._loop_iters.add(id(node.iter))

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if (len(node.body) == 1 and isinstance(node.body[0], cst.Assign) and len(node.body[0].targets) == 1
                and isinstance(node.body[0].targets[0].target, cst.Name) and self.qualname(node.body[0].value) in _AUTOTUNE
                and len(self._scopes) == 1):
            self._autotune[node.body[0].targets[0].target.value] = node

    # --- chains ------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> bool:
        chain = self._parse(node)
        if chain is None:
            name = self.qualname(node) if isinstance(node.func, (cst.Name, cst.Attribute)) else None
            if name and is_tensorflow(name):  # tf.data.Dataset.zip((ds, other)), ...: ds stays tf.data
                for arg in node.args:
                    self._kept.update(n for n in _names(arg.value) if self._lookup(n) is not None)
            return True
        if id(node) in self._skip:
            if not self._dry:
                self.todo(f"tf.data pipeline kept as is: `{self._skip[id(node)]}` is also used by tf.data code that stays as it is")
            return False
        self._chains[id(node)] = chain
        return False  # the chain is rewritten whole in leave_Call

    def _parse(self, node: cst.Call):
        ops = []
        current: cst.BaseExpression = node
        while True:
            if isinstance(current, cst.Call):
                if self.qualname(current) == _SOURCE:
                    return current, list(reversed(ops))
                if isinstance(current.func, cst.Attribute):
                    ops.append((current.func.attr.value, current))
                    current = current.func.value
                    continue
                return None
            if isinstance(current, cst.Name) and ops and self._lookup(current.value) is not None:
                return current, list(reversed(ops))
            return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        chain = self._chains.pop(id(original_node), None)
        if chain is None:
            return updated_node
        root, ops = chain
        self._staged = _Staged()
        try:
            pipe = self._source(root) if isinstance(root, cst.Call) else replace(self._lookup(root.value), expr=root)
            for i, (method, call) in enumerate(ops):
                last = i == len(ops) - 1
                pipe = self._op(pipe, method, call, in_loop=last and id(original_node) in self._loop_iters)
            pipe = self._finish(pipe)
        except _Untranslatable as exc:
            if self._dry:
                self._kept.update([root.value] if isinstance(root, cst.Name) else [])
            else:
                self.todo(f"tf.data pipeline kept as is: {exc}")
            return updated_node
        if not self._dry:
            self._staged.commit(self.state, self._classes)
        self._made[id(pipe.expr)] = (pipe.expr, pipe)
        self._roots[id(pipe.expr)] = root.value if isinstance(root, cst.Name) else None
        return pipe.expr

    # --- one step of a pipeline -----------------------------------------------------------------
    def _source(self, call: cst.Call) -> Pipe:
        if len(call.args) != 1 or call.args[0].star or (call.args[0].keyword is not None and call.args[0].keyword.value != "tensors"):
            raise _Untranslatable("from_tensor_slices with other arguments than the data")
        data = call.args[0].value
        simple = (cst.Name, cst.Attribute, cst.Subscript)
        arrays = isinstance(data, cst.Tuple) and data.elements and all(isinstance(e, cst.Element) for e in data.elements)
        if arrays and all(isinstance(e.value, simple) for e in data.elements):
            self._uses("TensorDataset", runtime=("to_tensor",))
            parts = [e.value for e in data.elements]
            return Pipe("elements", _call("TensorDataset", *[_call("to_tensor", p) for p in parts]), tuple(_code(p) for p in parts))
        self._uses(runtime=("TensorSlices",))
        self._staged.need("import numpy as np")
        sources = (_code(data),) if isinstance(data, simple) else ()
        return Pipe("elements", _call("TensorSlices", data), sources)

    def _op(self, pipe, method: str, call: cst.Call, in_loop: bool):
        if method not in _SIGNATURES:
            raise _Untranslatable(f"`.{method}()` has no translation")
        args = _arguments(call, method)
        if method == "prefetch":
            self._staged.note("tf.data prefetch dropped (it only overlaps work; values and order are unchanged)")
            return pipe
        if method == "map":
            return self._map(pipe, args)
        if isinstance(pipe, _Pending):
            if method == "batch":
                return self._batch(pipe, args)
            raise _Untranslatable(f"`.{method}()` after `shuffle()` (it would cache, repeat or cut the shuffled order); "
                                  "before the shuffle it would translate")
        if method == "shuffle":
            if pipe.kind != "elements":
                raise _Untranslatable("a shuffle of batches or of a shuffled stream has no DataLoader equivalent")
            if "buffer_size" not in args:
                raise _Untranslatable("shuffle() without a buffer size")
            return _Pending(pipe, args)
        if method == "batch":
            return self._batch(pipe, args)
        if method == "cache":
            return self._cache(pipe, args)
        count = args.get("count")
        if count is None and method != "repeat":
            raise _Untranslatable(f"`.{method}()` without a count")
        if method == "take":
            if _is_literal(count, -1):
                return pipe
            if pipe.kind == "elements":
                self._uses("Subset")
                return replace(pipe, expr=_call("Subset", pipe.expr, _call("range", count)), sources=())
            if pipe.kind == "batches" and in_loop:
                self._staged.need("import itertools")
                return replace(pipe, expr=_call("itertools.islice", pipe.expr, count))
            raise _Untranslatable("take() of batches is translated only as a for loop's iterable")
        if method == "skip":
            if pipe.kind == "elements" and isinstance(pipe.expr, cst.Name):
                self._uses("Subset")
                return replace(pipe, expr=_call("Subset", pipe.expr, _call("range", count, _call("len", pipe.expr))), sources=())
            raise _Untranslatable("skip() is translated only on a variable holding a dataset of elements")
        # repeat
        infinite = count is None or _is_literal(count, None, -1)
        if pipe.kind == "elements" and not infinite:
            self._uses("ConcatDataset")
            repeated = cst.BinaryOperation(cst.List([cst.Element(pipe.expr)]), cst.Multiply(), count)
            return replace(pipe, expr=_call("ConcatDataset", repeated), sources=())
        if pipe.kind == "batches":
            self._uses(runtime=("Repeat",))
            return replace(pipe, expr=_call("Repeat", pipe.expr) if infinite else _call("Repeat", pipe.expr, count))
        raise _Untranslatable("an endless repeat() before batch() (batches would span the repetitions of an endless stream)")

    def _cache(self, pipe: Pipe, args) -> Pipe:
        filename = args.get("filename")
        if filename is not None and not (isinstance(filename, cst.SimpleString) and filename.evaluated_value == ""):
            self._staged.note("tf.data cache(filename) -> in memory: no cache file is written or read")
        if pipe.kind == "elements" and pipe.mapped:
            self._uses(runtime=("CachedDataset",))
            return replace(pipe, expr=_call("CachedDataset", pipe.expr))
        if pipe.kind != "elements" and (pipe.mapped or pipe.shuffled):
            raise _Untranslatable("cache() of shuffled or mapped batches freezes them after the first epoch")
        self._staged.note("tf.data cache() of unmapped data dropped (every epoch reads the same values)")
        return pipe

    def _map(self, pipe: Pipe, args) -> Pipe:
        fn = args.get("map_func")
        if fn is None:
            raise _Untranslatable("map() without a function")
        if "num_parallel_calls" in args or "deterministic" in args:
            self._staged.note("tf.data map(num_parallel_calls=...) dropped: the function runs in the loading loop")
        if isinstance(pipe, _Pending):  # a per-element function commutes with the shuffle
            return _Pending(self._map(pipe.pipe, args), pipe.args)
        if pipe.kind == "elements":
            self._uses(runtime=("MapDataset",))
            return replace(pipe, expr=_call("MapDataset", pipe.expr, fn), mapped=True)
        if pipe.kind == "batches":
            self._uses(runtime=("MapBatches",))
            return replace(pipe, expr=_call("MapBatches", pipe.expr, fn), mapped=True)
        raise _Untranslatable("map() of a shuffled stream of elements")

    def _batch(self, pipe, args) -> Pipe:
        if pipe.kind == "batches":
            raise _Untranslatable("a batch of batches")
        size = args.get("batch_size")
        if size is None:
            raise _Untranslatable("batch() without a size")
        kwargs = {"batch_size": size}
        dataset = pipe
        if isinstance(pipe, _Pending):
            dataset = pipe.pipe
            if self._full_buffer(pipe):
                kwargs["shuffle"] = cst.Name("True")
                seed = pipe.args.get("seed")
                if seed is not None and not _is_literal(seed, None):
                    kwargs["generator"] = _call("torch.Generator().manual_seed", seed)
                    self._staged.need("import torch")
                    self._staged.note("tf.data shuffle(seed=...) -> a seeded torch.Generator: reproducible, but not TensorFlow's order")
            else:
                dataset = replace(dataset, expr=self._buffer_shuffle(pipe), kind="stream")
        drop = args.get("drop_remainder")
        if drop is not None and not _is_literal(drop, False):
            kwargs["drop_last"] = drop
        if "num_parallel_calls" in args or "deterministic" in args:
            self._staged.note("tf.data batch(num_parallel_calls=...) dropped")
        self._uses("DataLoader")
        mapped = (pipe.pipe if isinstance(pipe, _Pending) else pipe).mapped
        return Pipe("batches", _call("DataLoader", dataset.expr, **kwargs), mapped=mapped,
                    shuffled=isinstance(pipe, _Pending) or pipe.shuffled)

    def _full_buffer(self, pending) -> bool:
        reshuffle = pending.args.get("reshuffle_each_iteration")
        if reshuffle is not None and not _is_literal(reshuffle, True, None):
            return False  # a fixed order: BufferShuffle keeps it
        buffer = _code(pending.args["buffer_size"]) if "buffer_size" in pending.args else None
        whole = {f"len({s})" for s in pending.pipe.sources} | {f"{s}.shape[0]" for s in pending.pipe.sources}
        if isinstance(pending.pipe.expr, cst.Name):
            whole.add(f"len({pending.pipe.expr.value})")
        return buffer in whole

    def _buffer_shuffle(self, pending) -> cst.Call:
        if "buffer_size" not in pending.args:
            raise _Untranslatable("shuffle() without a buffer size")
        self._uses(runtime=("BufferShuffle",))
        self._staged.note("tf.data shuffle(buffer) -> BufferShuffle: the buffer is not proven to hold the whole dataset, "
                        "and a smaller buffer is not a full shuffle")
        kwargs = {k: v for k, v in pending.args.items() if k in ("seed", "reshuffle_each_iteration")}
        return _call("BufferShuffle", pending.pipe.expr, pending.args["buffer_size"], **kwargs)

    def _finish(self, pipe) -> Pipe:
        if isinstance(pipe, _Pending):  # shuffled elements, not batched here
            return Pipe("stream", self._buffer_shuffle(pipe), shuffled=True)
        return pipe

    def _uses(self, *classes: str, runtime: tuple[str, ...] = ()) -> None:
        self._staged.classes.update(classes)
        if runtime:
            self._staged.runtime.update(runtime)
            self._staged.need("import torch")

    # --- imports, AUTOTUNE constants ------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self._dry:
            return updated_node
        if self._classes:
            prefix = "from torch.utils.data import "
            names = set(self._classes)
            for line in [line for line in self.state.imports if line.startswith(prefix)]:
                names.update(n.strip() for n in line[len(prefix):].split(","))
                self.state.imports.discard(line)
            self.state.need(prefix + ", ".join(sorted(names)))
        if not self._autotune:
            return updated_node
        used: dict[str, int] = {}

        class Count(cst.CSTVisitor):
            def visit_Name(self, node: cst.Name) -> None:
                used[node.value] = used.get(node.value, 0) + 1

            def visit_Attribute(self, node: cst.Attribute) -> bool:
                node.value.visit(self)  # `x.AUTOTUNE` does not use the variable AUTOTUNE
                return False

        updated_node.visit(Count())
        body = []
        for stmt in updated_node.body:
            name = next((n for n, s in self._autotune.items() if _code(s) == _code(stmt)), None)
            if name is not None and used.get(name, 0) == 1:
                self.state.note(f"`{name} = tf.data.AUTOTUNE` removed: nothing uses it any more")
                continue
            body.append(stmt)
        return updated_node.with_changes(body=body)


class _Staged:
    """What a chain's translation needs, committed only when the whole chain translates."""

    def __init__(self):
        self.notes: list[str] = []
        self.imports: set[str] = set()
        self.runtime: set[str] = set()
        self.classes: set[str] = set()

    def note(self, message: str) -> None:
        self.notes.append(message)

    def need(self, line: str) -> None:
        self.imports.add(line)

    def commit(self, state, classes: set[str]) -> None:
        for message in self.notes:
            state.note(message)
        state.need(*self.imports)
        state.use(*self.runtime)
        classes.update(self.classes)


class _Pending:
    """A shuffle waiting for the batch that follows it (the DataLoader does both)."""

    kind = "pending"

    def __init__(self, pipe: Pipe, args: dict):
        self.pipe, self.args = pipe, args


TRANSFORM = TranslateData

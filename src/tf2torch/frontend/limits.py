"""Checks on a model file's config made before Keras builds anything from it.

A corrupt or hostile file can ask for absurd sizes (Dense(units=10**12), Embedding(input_dim=10**13)):
Keras would try to allocate the weights (terabytes) while building the layers, before reading a
single weight. These checks refuse such a config first, with the layer, the value and the limit.
They are generous (far above any model tf2torch can usefully convert and verify on one machine).

They also refuse what the config scan of frontend/__init__.py treats as code in safe mode and
that Keras' own safe mode lets through: a function given as a config naming a Keras function
that is not a tensor operation (e.g. {"class_name": "function", "module": "keras.utils",
"config": "plot_model"} as an activation), and Keras 2 TFOpLambda layers calling a TF function
that is not a tensor operation (tf.io.write_file, tf.print, tf.py_function ...).
"""
from __future__ import annotations

MAX_DEPTH = 256  # nesting of dicts/lists in a config (a few levels per nested model)
MAX_DIM = 2**26  # any one size: units, filters, vocabulary, kernel size, a dimension of a shape
MAX_LAYER_WEIGHTS = 2**31  # estimated weight elements of one layer (8 GiB of float32)
MAX_MODEL_WEIGHTS = 2**32  # estimated weight elements of the whole model
MAX_INPUT_ELEMENTS = 2**26  # elements of one sample of one input (the known dims)
MAX_CONFIG_BYTES = 64 * 2**20  # config.json / model_config
MAX_ARCHIVE_BYTES = 2**36  # uncompressed size of all the members of a .keras archive
MAX_NODE_INDEX = 2**16  # node and tensor indices in the graph links of a functional config
# config keys holding graph links [layer_name, node_index, tensor_index, ...]: tf_keras' functional
# deserialisation loops forever on a node index that can never be reached (e.g. a float)
_CONSTANT = "_CONSTANT_VALUE"  # tf_keras' link form for a constant argument of a TF-op layer: [_CONSTANT_VALUE, -1, value]
_LINK_KEYS = frozenset({"inbound_nodes", "input_layers", "output_layers", "keras_history"})

# config keys holding sizes (an int, or a list of ints); values must be in [0, MAX_DIM]
# (-1 allowed where Keras means "infer": target_shape, output_shape, dims)
SIZE_KEYS = frozenset({
    "units", "filters", "input_dim", "output_dim", "kernel_size", "pool_size", "strides", "dilation_rate",
    "num_heads", "key_dim", "value_dim", "depth_multiplier", "n", "size", "target_shape", "batch_shape",
    "batch_input_shape", "input_shape", "shape", "cropping", "padding", "output_shape", "groups", "max_tokens",
    "num_tokens", "num_bins", "output_sequence_length", "height", "width", "num_query_heads", "num_key_value_heads",
    "intermediate_dim", "hidden_dim", "sequence_length", "max_length", "dims",
})
_INFER_OK = frozenset({"target_shape", "output_shape", "dims", "shape"})
# keys whose sizes multiply into the weights a layer allocates when built
_WEIGHT_KEYS = ("units", "filters", "input_dim", "output_dim", "kernel_size", "num_heads", "key_dim", "value_dim",
                "depth_multiplier", "num_query_heads", "num_key_value_heads", "intermediate_dim")
_WIDTH_KEYS = ("units", "filters", "output_dim")
_SHAPE_KEYS = ("batch_shape", "batch_input_shape")

# Keras modules whose functions may be named by a {"class_name": "function", "module": ...} config
# in safe mode (activations, ops, losses, metrics); any other Keras function is refused
SAFE_FUNCTION_MODULES = ("keras.activations", "keras.src.activations", "keras.ops", "keras.src.ops",
                         "keras.losses", "keras.src.losses", "keras.metrics", "keras.src.metrics")

# Keras 2 TFOpLambda functions (tf.<name>) allowed in safe mode: tensor operations only
_TF_OP_PREFIXES = ("__operators__.", "math.", "nn.", "linalg.", "signal.", "bitwise.", "image.", "dtypes.")
_TF_OP_NAMES = frozenset({
    "abs", "add", "add_n", "argmax", "argmin", "argsort", "boolean_mask", "broadcast_to", "cast", "ceil",
    "clip_by_norm", "clip_by_value", "concat", "cos", "cumsum", "einsum", "equal", "exp", "expand_dims", "eye",
    "fill", "floor", "gather", "gather_nd", "greater", "greater_equal", "identity", "less", "less_equal",
    "linspace", "logical_and", "logical_not", "logical_or", "matmul", "maximum", "minimum", "multiply", "negative",
    "norm", "not_equal", "one_hot", "ones", "ones_like", "pad", "pow", "range", "rank", "reduce_all", "reduce_any",
    "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_std", "reduce_sum",
    "reshape", "reverse", "roll", "round", "rsqrt", "shape", "sigmoid", "sign", "sin", "size", "slice", "sort",
    "split", "sqrt", "square", "squeeze", "stack", "stop_gradient", "strided_slice", "subtract", "tanh",
    "tensordot", "tile", "transpose", "truediv", "unstack", "where", "zeros", "zeros_like",
})
_TF_OP_DENIED = ("io.", "print", "py_function", "numpy_function", "py_func", "debugging.", "summary.", "load_")


def tf_op_allowed(name) -> bool:
    """Is tf.<name> (a Keras 2 TFOpLambda's function) a plain tensor operation?"""
    if not isinstance(name, str):
        return False
    if name.startswith("compat.v1.") or name.startswith("compat.v2."):
        name = name[len("compat.v1."):]
    if any(part in name for part in _TF_OP_DENIED):
        return False
    return name in _TF_OP_NAMES or (name.startswith(_TF_OP_PREFIXES) and name.count(".") == 1)


def depth(config) -> int:
    """Nesting depth of a JSON value (iterative: a hostile config cannot exhaust the stack)."""
    deepest, stack = 0, [(config, 1)]
    while stack:
        value, d = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, d)
            if d > MAX_DEPTH:
                return d
            stack.extend((v, d + 1) for v in value)
    return deepest


def _ints(value) -> list:
    """The numbers in a size value (an int, or a list/tuple of them; a dict such as a padding spec)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _ints(v)]
    return []


def _float(n) -> float:
    try:
        return float(n)
    except OverflowError:  # an int beyond any float (10**400)
        return float("inf") if n > 0 else float("-inf")


def _product(numbers) -> float:
    result = 1.0
    for n in numbers:
        result *= max(1.0, _float(n))
    return result


def problems(config) -> list[str]:
    """What makes this config unsafe to build: absurd sizes. [] when it is fine.

    Call depth() first: this walk is recursive.
    """
    found: list[str] = []
    state = {"width": 1.0, "total": 0.0}

    def where(owner):
        return f"layer {owner!r}" if owner else "the model"

    def check_sizes(key, value, owner):
        lowest = -1 if key in _INFER_OK else 0
        for n in _ints(value):
            if n != n or n in (float("inf"), float("-inf")):
                found.append(f"{where(owner)}: {key}={value!r} is not a number")
                return
            if n < lowest:
                found.append(f"{where(owner)}: {key}={_short(value)} is negative")
                return
            if n > MAX_DIM:
                found.append(f"{where(owner)}: {key}={_short(value)} is beyond tf2torch's limit of {MAX_DIM} "
                             "(a corrupt or hostile file?)")
                return

    def check_links(key, value, owner):
        """Every [layer_name, node_index, tensor_index, ...] link: indices are small whole numbers."""
        if isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str):
            if value[0] == _CONSTANT:
                return
            if not all(type(n) is int and 0 <= n < MAX_NODE_INDEX for n in value[1:3]):
                found.append(f"{where(owner)}: {key} link {_short(value[:3])} has node/tensor indices that are not "
                             f"whole numbers below {MAX_NODE_INDEX} (a corrupt or hostile file?)")
            return
        if isinstance(value, (list, dict)):
            for v in value.values() if isinstance(value, dict) else value:
                if isinstance(v, (list, dict)):
                    check_links(key, v, owner)

    def layer(cfg: dict, owner: str, built_width, width_before: float):
        """Estimated weights of one layer (the sizes in its config, times the width of its input)."""
        sizes = [_ints(cfg.get(k)) for k in _WEIGHT_KEYS if k in cfg]
        if sizes:
            if any(k in cfg for k in ("input_dim", "output_dim")) and "units" not in cfg and "filters" not in cfg:
                width = 1.0  # Embedding: input_dim x output_dim
            else:
                # the larger of the recorded build shape and the width of the layer before (a Sequential
                # is rebuilt from its own input shape: a stale build_config cannot hide a wide input)
                width = max(built_width or 1.0, width_before)
            estimate = width * _product(n for s in sizes for n in s)
            if estimate > MAX_LAYER_WEIGHTS:
                found.append(f"{where(owner)}: would hold about {estimate:.3g} weights, beyond tf2torch's limit of "
                             f"{MAX_LAYER_WEIGHTS} per layer (a corrupt or hostile file?)")
            state["total"] += estimate
        for k in _WIDTH_KEYS:
            numbers = _ints(cfg.get(k))
            if numbers:
                state["width"] = max(1.0, _float(max(numbers)))

    def walk(value, owner: str):
        if isinstance(value, dict):
            inner = value.get("config")
            is_layer = isinstance(inner, dict) and "class_name" in value
            if is_layer:
                name = inner.get("name")
                owner = name if isinstance(name, str) else owner
            for k in _SHAPE_KEYS:
                shape = value.get(k)
                if isinstance(shape, list):
                    known = _ints(shape[1:])
                    if known and all(n >= 0 for n in known) and _product(known) > MAX_INPUT_ELEMENTS:
                        found.append(f"{where(owner)}: input shape {_short(shape)} has more than {MAX_INPUT_ELEMENTS} "
                                     "elements per sample (a corrupt or hostile file?)")
                    last = _ints(shape[-1:])
                    if last:
                        state["width"] = max(1.0, _float(last[0]))
            for k, v in value.items():
                if k in SIZE_KEYS:
                    check_sizes(k, v, owner)
                if k in _LINK_KEYS:
                    check_links(k, v, owner)
            reported, width_before = len(found), state["width"]
            for k, v in value.items():
                if isinstance(v, (dict, list)):
                    walk(v, owner)
            if is_layer and len(found) == reported:  # sizes first: a huge one is named as such
                # Keras 3 records the input shape a layer was built with next to its config
                build = value.get("build_config")
                shape = build.get("input_shape") if isinstance(build, dict) else None
                last = _ints(shape[-1:]) if isinstance(shape, list) and shape and not isinstance(shape[-1], list) else []
                layer(inner, owner, max(1.0, _float(last[0])) if last else None, width_before)
        elif isinstance(value, list):
            for v in value:
                walk(v, owner)

    walk(config, "")
    if not found:
        found += unreachable_nodes(config)
    if not found and state["total"] > MAX_MODEL_WEIGHTS:
        found.append(f"the model would hold about {state['total']:.3g} weights, beyond tf2torch's limit of "
                     f"{MAX_MODEL_WEIGHTS} (a corrupt or hostile file?)")
    return found


def _links(value) -> list[tuple[str, int]]:
    """The (layer name, node index) of every [layer_name, node_index, tensor_index, ...] link inside value."""
    if isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str) and type(value[1]) is int:
        return [] if value[0] == _CONSTANT else [(value[0], value[1])]
    if isinstance(value, dict):
        return [link for v in value.values() for link in _links(v)]
    if isinstance(value, list):
        return [link for v in value for link in _links(v)]
    return []


def _layer_name(entry: dict):
    """A layer entry's name (Keras 2 and 3 keep it next to the config, or inside it), or None."""
    inner = entry.get("config")
    name = entry.get("name", inner.get("name") if isinstance(inner, dict) else None)
    return name if isinstance(name, str) else None


def unreachable_nodes(config) -> list[str]:
    """Functional graphs (of the model and of nested models) whose links name a layer call that
    cannot be built: Keras' functional deserialisation (tf_keras functional.py reconstruct_from_config)
    retries unprocessed nodes until all are built, so such a link makes it loop forever."""
    found: list[str] = []

    def check(cfg: dict, owner: str):
        layers = [entry for entry in cfg.get("layers", []) if isinstance(entry, dict)]
        nodes: dict[str, list] = {}
        for entry in layers:
            name = _layer_name(entry)
            if isinstance(name, str):
                nodes[name] = entry.get("inbound_nodes") if isinstance(entry.get("inbound_nodes"), list) else []
        # by layer, not by call: node indices count differently for nested models and shared layers
        # (tf_keras' node_index_map); a layer is buildable once one of its calls has all its inputs
        built = {_layer_name(entry) for entry in layers if entry.get("class_name") == "InputLayer"}
        changed = True
        while changed:  # at most one pass per layer
            changed = False
            for name, calls in nodes.items():
                if name not in built and any(all(link[0] in built for link in _links(call)) for call in calls):
                    built.add(name)
                    changed = True
        wanted = [link for calls in nodes.values() for call in calls for link in _links(call)]
        wanted += _links(cfg.get("output_layers", []))
        missing = sorted({layer for layer, _ in wanted if layer not in built}, key=str)
        if missing:
            found.append(f"{'model ' + repr(owner) if owner else 'the model'}: its graph uses layer {_short(missing[0])}, "
                         "which the file never builds (a corrupt or hostile file?)")

    def walk(value, owner: str):
        if isinstance(value, dict):
            inner = value.get("config")
            if isinstance(inner, dict) and isinstance(inner.get("layers"), list) and any(
                    isinstance(e, dict) and "inbound_nodes" in e for e in inner["layers"]):
                check(inner, inner.get("name") if isinstance(inner.get("name"), str) else owner)
            for v in value.values():
                walk(v, owner)
        elif isinstance(value, list):
            for v in value:
                walk(v, owner)

    walk(config, "")
    return found


def unsafe_functions(config, found: list | None = None, owner: str = "") -> list[tuple[str, str]]:
    """(layer name, why) for every function reference Keras' safe mode would resolve but tf2torch refuses:
    Keras functions outside activations/ops/losses/metrics, TFOpLambda calls of non-tensor TF functions."""
    found = [] if found is None else found
    if isinstance(config, dict):
        cls = config.get("class_name")
        inner = config.get("config")
        name = inner.get("name", owner) if isinstance(inner, dict) else owner
        name = name if isinstance(name, str) else owner
        module = config.get("module")
        if cls == "function" and isinstance(module, str) and (module == "keras" or module.startswith("keras.")) \
                and not module.startswith(SAFE_FUNCTION_MODULES):
            found.append((owner or "?", f"names the function {module}.{_short(inner)}, which is not an activation or tensor operation"))
        if cls in ("TFOpLambda", "SlicingOpLambda") and isinstance(inner, dict) and not tf_op_allowed(inner.get("function")):
            found.append((str(name or "?"), f"{cls} calls tf.{_short(inner.get('function'))}, which is not a tensor operation"))
        for v in config.values():
            unsafe_functions(v, found, name)
    elif isinstance(config, list):
        for v in config:
            unsafe_functions(v, found, owner)
    return found


def _short(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------------------------
# HDF5 files are read by libhdf5, whose C code can loop forever (or crash) on a damaged file: the
# fuzzer found a flipped byte that makes reading an attribute spin. Before h5py reads a file in
# this process (ours, or Keras'), a forked child reads everything in it (every attribute, every
# dataset) under a time limit; a child that hangs is killed and the file refused.
# ----------------------------------------------------------------------------------------------
H5_CHECK_SECONDS = 30.0  # plus 1 s per 20 MB


def _read_everything(source) -> None:
    import h5py

    def visit(_name, obj):
        for key in obj.attrs:
            obj.attrs[key]
        if isinstance(obj, h5py.Dataset):
            obj[()]

    with h5py.File(source, "r") as f:
        for key in f.attrs:
            f.attrs[key]
        f.visititems(visit)


def h5_problem(path, member: str | None = None, timeout: float | None = None) -> str | None:
    """Why libhdf5 cannot read the HDF5 file `path` (or the archive member `member` of the zip
    `path`) in full, or None when it can. The reading runs in a forked child process."""
    import os
    import select
    import signal
    import time

    size = os.path.getsize(path)
    timeout = timeout if timeout is not None else H5_CHECK_SECONDS + size / 20e6
    if not hasattr(os, "fork"):
        return None  # Windows: no cheap child; Keras reads the file in-process as before
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running any cleanup of the parent's state
        code = 0
        try:
            os.close(read_end)
            if member is None:
                _read_everything(str(path))
            else:
                import io
                import zipfile

                with zipfile.ZipFile(path) as archive:
                    _read_everything(io.BytesIO(archive.read(member)))
        except BaseException as exc:  # noqa: BLE001 - every failure is the file's
            lines = str(exc).strip().splitlines()
            os.write(write_end, (lines[0] if lines else type(exc).__name__)[:300].encode(errors="replace"))
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    message = b""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return f"reading it did not finish in {timeout:.0f}s (a damaged HDF5 file?)"
            ready, _, _ = select.select([read_end], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(read_end, 4096)
                if not chunk:  # the child closed the pipe: it is exiting
                    break
                message += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(read_end)
    if os.WIFSIGNALED(status):
        return f"libhdf5 crashed reading it (signal {os.WTERMSIG(status)}: a damaged HDF5 file?)"
    if os.WEXITSTATUS(status) != 0:
        return message.decode(errors="replace") or "unreadable HDF5 data"
    return None

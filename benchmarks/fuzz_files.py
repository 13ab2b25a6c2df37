"""Mutation fuzzer for model files: broken or hostile inputs must end cleanly.

    python benchmarks/fuzz_files.py --cases 10000 --seed 0 --jobs 2 --timeout 60

Builds a few tiny seed models (Dense, Conv2D with odd sizes, LSTM, Embedding(mask_zero)+GRU as
.keras files; a tf_keras Dense/Conv1D model as a legacy .h5; Lambda models whose code writes a
marker file), then mutates them: config.json / model_config edits (values and types changed,
keys deleted, huge/negative numbers, wrong class names, deep nesting, Lambda/bytecode payloads),
truncation, byte flips in the zip and in model.weights.h5, swapped/dropped archive members,
wrong extensions. Each case runs `tf2torch convert CASE -o OUT` in a worker process
(`tf2torch.cli.main` in-process, TensorFlow imported once per worker) under a per-case timeout.

Outcomes: ok (converted and verified), ok-unverified (--no-verify, a fraction of the cases),
clean-error (exit 1, `error: ...`, no traceback), and the bad ones: traceback, internal-error,
hang, payload-ran (the marker file appeared), half-written (output left after an error, or
incomplete after success), bad-exit (an exit code other than 0/1, or a crash of the worker).
Prints the counts, the time per case, and the first example of each bad outcome; exits 1 if any.
tests/test_fuzz_files.py runs a short deterministic run.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
import zipfile
from multiprocessing.connection import wait
from pathlib import Path

BAD = ("traceback", "internal-error", "hang", "payload-ran", "half-written", "bad-exit")
GOOD = ("ok", "ok-unverified", "clean-error")
NO_VERIFY_FRACTION = 0.3
RECYCLE_AFTER = 400  # cases per worker process before a fresh one (memory of many loaded models)


def _env() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


# ----------------------------------------------------------------------------------------------
# seeds
# ----------------------------------------------------------------------------------------------
def _writes_marker(marker: str):
    """A function that creates `marker` when called; the path is a constant of its code (Keras 3
    cannot load a serialised lambda with default arguments)."""
    return eval(f"lambda x: (open({marker!r}, 'w').close(), x)[1]")


def build_seeds(folder: Path, marker: Path) -> dict[str, str]:
    """Tiny models saved in `folder`: {name: file name}. Lambda seeds write `marker` when run."""
    _env()
    import warnings

    warnings.filterwarnings("ignore")
    import keras
    import tf_keras as K

    keras.utils.set_random_seed(0)
    seeds = {}

    def save(model, name):
        model.save(folder / name)
        seeds[name.split(".")[0]] = name

    L = keras.layers
    save(keras.Sequential([keras.Input((5,)), L.Dense(4, activation="relu"), L.Dense(3)], name="dense"), "dense.keras")
    save(keras.Sequential([keras.Input((7, 9, 3)), L.Conv2D(4, (3, 2), padding="same", activation="relu"),
                           L.MaxPooling2D(2, padding="same"), L.Conv2D(3, 3, strides=2), L.Flatten(), L.Dense(2)],
                          name="conv"), "conv.keras")
    save(keras.Sequential([keras.Input((6, 3)), L.LSTM(4), L.Dense(2)], name="lstm"), "lstm.keras")
    save(keras.Sequential([keras.Input((5,), dtype="int32"), L.Embedding(11, 4, mask_zero=True), L.GRU(3)],
                          name="embgru"), "embgru.keras")
    save(keras.Sequential([keras.Input((4,)), L.Dense(3), L.Lambda(_writes_marker(str(marker)), name="payload")],
                          name="lambda3"), "lambda3.keras")
    inp = K.Input((6, 3))
    x = K.layers.Conv1D(4, 3, activation="tanh", name="conv1d")(inp)
    x = K.layers.GlobalAveragePooling1D(name="gap")(x)
    save(K.Model(inp, K.layers.Dense(2, name="head")(x) * 2.0, name="k2"), "k2.h5")
    save(K.Sequential([K.Input((4,)), K.layers.Dense(3), K.layers.Lambda(_writes_marker(str(marker)), name="payload")],
                      name="lambda2"), "lambda2.h5")
    K.backend.clear_session()
    keras.utils.clear_session()
    marker.unlink(missing_ok=True)  # building the Lambda models called their functions
    return seeds


# ----------------------------------------------------------------------------------------------
# mutations (pure functions of bytes and a random.Random: case i is the same for every run)
# ----------------------------------------------------------------------------------------------
CLASS_NAMES = ["Dense", "Conv2D", "LSTM", "GRU", "Embedding", "Lambda", "TFOpLambda", "Functional", "Sequential",
               "NoSuchLayer", "", "__lambda__", "function", "Bidirectional", "TimeDistributed", "Reshape", "InputLayer"]
HUGE = [10**12, 10**13, -1, -10**9, 0, 2**31, 2**63, 2**64 + 1, 10**400, 1e308, -0.5, 3.7]


def _paths(value, prefix=()):
    """Every (path, value) in a JSON value."""
    out = [(prefix, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _set(root, path, value):
    if not path:
        return value
    parent = root
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value
    return root


def _random_value(rng: random.Random, payloads: dict):
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(HUGE)
    if kind == 1:
        return rng.randint(-5, 70)
    if kind == 2:
        return rng.choice([None, True, False, [], {}, "", "same", "relu", "float64", "int8"])
    if kind == 3:
        return "".join(rng.choice("abcXYZ_.-/\\\x00é{}") for _ in range(rng.randint(1, 12)))
    if kind == 4:  # deep nesting: written into the JSON text by _deep (json.dumps would recurse)
        return f"__DEEP_{rng.choice([5, 50, 300, 3000, 100000])}__"
    if kind == 5:
        return [rng.choice(HUGE) for _ in range(rng.randint(1, 4))]
    if kind == 6:
        return {"class_name": rng.choice(CLASS_NAMES), "config": {}}
    if kind == 7 and payloads:
        return copy.deepcopy(rng.choice(list(payloads.values())))
    if kind == 8:
        return rng.uniform(-1e6, 1e6)
    if kind == 9:
        return [None, rng.randint(-3, 50), rng.randint(1, 9)]
    if kind == 10:
        return {"module": rng.choice(["keras.utils", "os", "keras.src.saving.serialization_lib", "builtins"]),
                "class_name": "function", "config": rng.choice(["plot_model", "system", "enable_unsafe_deserialization", "relu"]),
                "registered_name": None}
    return rng.choice(["lambda", "function", "raw"])


def mutate_config(config, rng: random.Random, payloads: dict):
    """1 to 3 random edits of a JSON config (a deep copy)."""
    config = copy.deepcopy(config)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(config)
        path, value = rng.choice(paths[1:] or paths)
        op = rng.randrange(9)
        if op == 0 and path:  # delete
            parent = config
            for p in path[:-1]:
                parent = parent[p]
            if isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent.pop(path[-1])
        elif op == 1:  # a class name
            dicts = [(p, v) for p, v in paths if isinstance(v, dict) and "class_name" in v]
            if dicts:
                p, v = rng.choice(dicts)
                v["class_name"] = rng.choice(CLASS_NAMES)
        elif op == 2:  # a size key
            sized = [(p, v) for p, v in paths if p and p[-1] in ("units", "filters", "input_dim", "output_dim", "kernel_size",
                                                                  "batch_shape", "batch_input_shape", "strides", "pool_size")]
            if sized:
                p, _ = rng.choice(sized)
                config = _set(config, p, rng.choice([rng.choice(HUGE), [rng.choice(HUGE)] * 2, [None] * rng.randint(0, 5)]))
        elif op == 3 and payloads:  # a payload: a Lambda layer config or a bytecode key spliced in
            layers = [(p, v) for p, v in paths if p and p[-1] == "layers" and isinstance(v, list)]
            payload = copy.deepcopy(rng.choice(list(payloads.values())))
            if layers and rng.random() < 0.6:
                p, v = rng.choice(layers)
                v.insert(rng.randint(0, len(v)), payload)
            else:
                dicts = [(p, v) for p, v in paths if isinstance(v, dict)]
                p, v = rng.choice(dicts)
                v[rng.choice(["activation", "function", "cell", "layer", "config"])] = payload
        elif op == 4:  # bytecode marker keys
            dicts = [v for _, v in paths if isinstance(v, dict)]
            rng.choice(dicts)[rng.choice(["function_type", "output_shape_type", "mask_type"])] = rng.choice(["lambda", "raw", "function"])
        elif op == 5:  # swap two values
            a, b = rng.choice(paths[1:] or paths), rng.choice(paths[1:] or paths)
            if a[0] and b[0] and a[0][: len(b[0])] != b[0] and b[0][: len(a[0])] != a[0]:
                config = _set(config, a[0], copy.deepcopy(b[1]))
                config = _set(config, b[0], copy.deepcopy(a[1]))
        elif op == 6 and isinstance(value, list) and value:  # duplicate an element
            value.append(copy.deepcopy(rng.choice(value)))
        else:
            config = _set(config, path, _random_value(rng, payloads))
    return config


def _deep(text: str) -> str:
    """Replace the "__DEEP_N__" strings of mutate_config by N nested lists."""
    while '"__DEEP_' in text:
        start = text.index('"__DEEP_')
        end = text.index('__"', start + 8)
        n = int(text[start + 8:end])
        text = text[:start] + "[" * n + "]" * n + text[end + 3:]
    return text


def dumps(config) -> str:
    return _deep(json.dumps(config))


def flip_bytes(data: bytes, rng: random.Random, start: int = 0) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        i = rng.randrange(start, len(buf)) if len(buf) > start else 0
        buf[i] = rng.randrange(256) if rng.random() < 0.5 else buf[i] ^ (1 << rng.randrange(8))
    return bytes(buf)


def _zip(members: dict[str, bytes], order=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order or members:
            z.writestr(name, members[name])
    return out.getvalue()


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _h5_with_config(data: bytes, config_text: str, folder: Path) -> bytes:
    import h5py

    path = folder / "edit.h5"
    path.write_bytes(data)
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = config_text
    return path.read_bytes()


def _h5_config(data: bytes, folder: Path):
    import h5py

    path = folder / "read.h5"
    path.write_bytes(data)
    with h5py.File(path, "r") as f:
        raw = f.attrs["model_config"]
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def make_case(index: int, seed: int, seeds: dict[str, bytes], payloads: dict, folder: Path) -> tuple[str, bytes, str, bool]:
    """(file name, bytes, description, verify?) of case `index`: deterministic."""
    rng = random.Random(f"{seed}:{index}")
    name = rng.choice(sorted(seeds))
    data = seeds[name]
    ext = ".h5" if name.endswith(".h5") else ".keras"
    verify = rng.random() >= NO_VERIFY_FRACTION
    choice = rng.random()
    if ext == ".keras":
        members = _unzip(data)
        config = json.loads(members["config.json"])
        if choice < 0.45:
            members["config.json"] = dumps(mutate_config(config, rng, payloads)).encode()
            return f"case{ext}", _zip(members), f"{name}: config.json edited", verify
        if choice < 0.55:
            cut = rng.randrange(len(data))
            return f"case{ext}", data[:cut], f"{name}: truncated at {cut}/{len(data)}", verify
        if choice < 0.67:
            return f"case{ext}", flip_bytes(data, rng), f"{name}: bytes flipped in the zip", verify
        if choice < 0.8:
            weights = members.get("model.weights.h5", b"")
            members["model.weights.h5"] = flip_bytes(weights, rng, start=rng.choice([0, min(512, len(weights) - 1)]))
            return f"case{ext}", _zip(members), f"{name}: bytes flipped in model.weights.h5", verify
        if choice < 0.9:
            how = rng.randrange(4)
            other = _unzip(seeds[rng.choice([s for s in sorted(seeds) if s.endswith(".keras")])])
            if how == 0:
                members["config.json"], members["metadata.json"] = members["metadata.json"], members["config.json"]
            elif how == 1:
                members["model.weights.h5"] = other["model.weights.h5"]
            elif how == 2:
                members.pop(rng.choice(sorted(members)))
            else:
                members["config.json"] = other["config.json"]
            return f"case{ext}", _zip(members), f"{name}: archive members swapped/dropped ({how})", verify
        if choice < 0.95:
            return "case.h5", data, f"{name}: .keras bytes named .h5", verify
        return rng.choice(["case.keras", "case.h5", "case.txt"]), rng.randbytes(rng.choice([0, 1, 100, 5000])), \
            "random bytes", verify
    # legacy .h5
    if choice < 0.45:
        config = _h5_config(data, folder)
        text = dumps(mutate_config(config, rng, payloads))
        return f"case{ext}", _h5_with_config(data, text, folder), f"{name}: model_config edited", verify
    if choice < 0.55:
        config = _h5_config(data, folder)
        text = json.dumps(config)
        cut = rng.randrange(len(text))
        return f"case{ext}", _h5_with_config(data, text[:cut], folder), f"{name}: model_config cut at {cut}", verify
    if choice < 0.7:
        cut = rng.randrange(len(data))
        return f"case{ext}", data[:cut], f"{name}: truncated at {cut}/{len(data)}", verify
    if choice < 0.95:
        return f"case{ext}", flip_bytes(data, rng), f"{name}: bytes flipped", verify
    return "case.keras", data, f"{name}: .h5 bytes named .keras", verify


def payload_configs(folder: Path, seeds: dict[str, str]) -> dict:
    """Lambda layer configs (Keras 3 and Keras 2) whose code writes the marker, to splice into configs."""
    import h5py

    out = {}
    with zipfile.ZipFile(folder / seeds["lambda3"]) as z:
        cfg = json.loads(z.read("config.json"))
    out["keras3-lambda"] = cfg["config"]["layers"][-1]
    out["keras3-function"] = out["keras3-lambda"]["config"]["function"]  # the {"class_name": "__lambda__"} dict
    with h5py.File(folder / seeds["lambda2"], "r") as f:
        raw = f.attrs["model_config"]
    cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    out["keras2-lambda"] = cfg["config"]["layers"][-1]
    out["keras2-bytecode"] = {"class_name": "Lambda", "config": {"name": "bytecode", "function": out["keras2-lambda"]["config"]["function"],
                                                                  "function_type": "lambda", "arguments": {}}}
    # the same bytecode under an unexpected key: only the "_type" marker makes it code
    out["keras2-odd-key"] = {"odd_fn": out["keras2-lambda"]["config"]["function"], "odd_fn_type": "lambda"}
    return out


# ----------------------------------------------------------------------------------------------
# worker
# ----------------------------------------------------------------------------------------------
def classify(code, stderr: str, out_dir: Path, verify: bool, marker: Path, leftovers: list) -> str:
    if marker.exists():
        return "payload-ran"
    if "Traceback" in stderr:
        return "traceback"
    if "internal error" in stderr:
        return "internal-error"
    if code == 0:
        files = {p.name for p in out_dir.iterdir()} if out_dir.is_dir() else set()
        if files != {"model.py", "weights.safetensors", "report.json"} or leftovers:
            return "half-written"
        return "ok" if verify else "ok-unverified"
    if code != 1:
        return "bad-exit"
    if out_dir.exists() or leftovers:
        return "half-written"
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("tf2torch:")]
    # one error line; a ConversionError lists its problems below it, one "  - " line each
    if not lines or not lines[0].startswith("error: ") or not all(line.startswith("  - ") for line in lines[1:]):
        return "traceback"
    return "clean-error"


def worker(conn, folder: str, seed: int, marker: str) -> None:
    _env()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)  # TensorFlow's C++ logging: the case's own stderr is captured below
    import warnings

    warnings.filterwarnings("ignore")
    from tf2torch import cli

    cli.quiet_tensorflow()
    import keras
    import tf_keras

    folder, marker = Path(folder), Path(marker)
    seeds = json.loads((folder / "seeds.json").read_text())
    seed_bytes = {f: (folder / f).read_bytes() for f in seeds.values() if not f.startswith("lambda")}
    payloads = payload_configs(folder, seeds)
    work = Path(tempfile.mkdtemp(prefix=f"w{os.getpid()}.", dir=folder))
    conn.send(("ready", None))
    while True:
        index = conn.recv()
        if index is None:
            break
        case_dir = work / f"case{index}"
        case_dir.mkdir()
        try:
            name, data, what, verify = make_case(index, seed, seed_bytes, payloads, case_dir)
        except Exception as exc:  # a bug of the fuzzer, not of tf2torch
            conn.send((index, "fuzzer-error", f"{type(exc).__name__}: {exc}", ""))
            shutil.rmtree(case_dir, ignore_errors=True)
            continue
        src = case_dir / name
        src.write_bytes(data)
        out_dir = case_dir / "out"
        argv = ["convert", str(src), "-o", str(out_dir)] + ([] if verify else ["--no-verify"])
        err = io.StringIO()
        code = None
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code
                print(f"SystemExit({exc.code})", file=sys.stderr)
            except BaseException:  # escaped main: the user would see a traceback
                import traceback

                traceback.print_exc()
        leftovers = [p.name for p in case_dir.iterdir() if p.name.startswith(".out")]
        outcome = classify(code, err.getvalue(), out_dir, verify, marker, leftovers)
        if outcome == "payload-ran":
            marker.unlink(missing_ok=True)
        conn.send((index, outcome, what, err.getvalue()[-3000:]))
        shutil.rmtree(case_dir, ignore_errors=True)
        if index % 50 == 0:
            keras.utils.clear_session()
            tf_keras.backend.clear_session()
    shutil.rmtree(work, ignore_errors=True)


def run(cases: int, seed: int, jobs: int, timeout: float, folder: Path | None = None, log=print) -> dict:
    """Run the fuzzer; returns {"counts", "examples", "seconds", "cases"}."""
    _env()
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="fuzz_files.")) if own else folder
    marker = folder / "PAYLOAD-RAN"
    start = time.perf_counter()
    seeds = build_seeds(folder, marker)
    (folder / "seeds.json").write_text(json.dumps(seeds))
    log(f"seeds built in {time.perf_counter() - start:.1f}s: {', '.join(sorted(seeds.values()))}")
    ctx = mp.get_context("spawn")
    counts = {k: 0 for k in (*GOOD, *BAD, "fuzzer-error")}
    examples: dict[str, tuple] = {}
    pending = list(range(cases))[::-1]
    workers = {}  # conn -> [process, index or None, started, done]

    def spawn():
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker, args=(child, str(folder), seed, str(marker)), daemon=True)
        proc.start()
        child.close()
        workers[parent] = [proc, None, time.monotonic(), 0]

    def feed(conn):
        state = workers[conn]
        if not pending or state[3] >= RECYCLE_AFTER:
            conn.send(None)
            return False
        state[1], state[2] = pending.pop(), time.monotonic()
        conn.send(state[1])
        return True

    def record(index, outcome, what, err):
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome not in GOOD and outcome not in examples:
            examples[outcome] = (index, what, err)

    for _ in range(max(1, jobs)):
        spawn()
    run_start = time.perf_counter()
    finished = 0
    while workers:
        ready = wait(list(workers), timeout=1.0)
        for conn in ready:
            proc, index, _, _ = workers[conn]
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the worker died (killed by the OS, segfault...)
                if index is not None:
                    record(index, "bad-exit", f"worker died with exit code {proc.exitcode}", "")
                    finished += 1
                del workers[conn]
                proc.join()
                if pending:
                    spawn()
                continue
            if message[0] != "ready":
                record(*message)
                finished += 1
                workers[conn][3] += 1
                workers[conn][1] = None
                if finished % 500 == 0:
                    rate = (time.perf_counter() - run_start) / finished
                    log(f"{finished}/{cases} cases, {rate:.3f}s per case: "
                        + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
            if not feed(conn):
                del workers[conn]
                proc.join(timeout=30)
                if pending:
                    spawn()
        now = time.monotonic()
        for conn, (proc, index, started, _) in list(workers.items()):
            if index is not None and now - started > timeout:
                proc.kill()
                proc.join()
                record(index, "hang", f"no result after {timeout:g}s", "")
                finished += 1
                del workers[conn]
                if pending:
                    spawn()
    seconds = time.perf_counter() - run_start
    if own:
        shutil.rmtree(folder, ignore_errors=True)
    return {"counts": counts, "examples": examples, "seconds": seconds, "cases": cases}


def describe(index: int, seed: int) -> str:
    return f"case {index} (seed {seed})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per case before it counts as a hang")
    p.add_argument("--write-case", nargs=2, metavar=("INDEX", "DIR"), help="only write case INDEX (and its seeds) to DIR")
    args = p.parse_args(argv)
    if args.write_case:
        folder = Path(args.write_case[1])
        folder.mkdir(parents=True, exist_ok=True)
        seeds = build_seeds(folder, folder / "PAYLOAD-RAN")
        seed_bytes = {f: (folder / f).read_bytes() for f in seeds.values() if not f.startswith("lambda")}
        name, data, what, verify = make_case(int(args.write_case[0]), args.seed, seed_bytes, payload_configs(folder, seeds), folder)
        (folder / name).write_bytes(data)
        print(f"{folder / name}: {what}{'' if verify else ' (--no-verify)'}")
        return 0
    result = run(args.cases, args.seed, args.jobs, args.timeout)
    counts, seconds = result["counts"], result["seconds"]
    print(f"\n{args.cases} cases in {seconds:.0f}s ({seconds / max(1, args.cases):.3f}s per case, {args.jobs} jobs)")
    print(f"{'outcome':<16}{'cases':>8}")
    for k, v in counts.items():
        if v or k in GOOD or k in BAD:
            print(f"{k:<16}{v:>8}{'   <- bad' if v and k not in GOOD else ''}")
    for outcome, (index, what, err) in result["examples"].items():
        print(f"\nfirst {outcome}: {describe(index, args.seed)}: {what}\n{err.strip()[-2000:]}")
    return 1 if any(counts[k] for k in counts if k not in GOOD) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Side-by-side benchmark: tf2torch against the ONNX route on keras.applications models.

    python benchmarks/zoo.py                       # the five models, writes docs/benchmarks.md
    python benchmarks/zoo.py ResNet50 --rounds 5   # a quick look, no docs written
    make bench                                     # installs the optional tools, then runs it

Needs the benchmark extra: `pip install -e '.[bench]'` and `pip install --no-deps onnx2torch`
(plain `pip install onnx2torch` pulls torchvision, which drags in a CUDA build of torch). onnx2torch
imports torchvision only for its NMS/RoiAlign converters; a stub stands in for it here.

What is measured, in one run on one machine (2 threads everywhere, random weights, default input
size, include_top=True, float32):
  latency    median wall time of one forward pass at batch 1 and 8. Every candidate runs in
             its own process, loaded from the files the conversions wrote, idle between calls;
             they take turns (round-robin after warm-up, a 0.1 s pause before each call so that
             the previous one's spinning thread pools are idle), so drifts in machine load hit
             all alike:
             - tf2torch eager: the generated module as `tf2torch convert` writes it
             - tf2torch eager, BN folded: `--fold-batchnorm` (inference only)
             - tf2torch compiled: the folded module under torch.compile (inductor, with
               torch._inductor.config.freezing = True, the inference setting)
             - Keras on TensorFlow: model call under tf.function (graph mode, as predict runs it)
             - Keras on the torch backend: the same .keras file
             - onnx2torch: model.export(format="onnx") -> onnx2torch.convert, the torch.fx module
             - onnxruntime: the same ONNX file, CPU provider
  conversion wall time and peak RSS, each in a fresh process that has built the Keras model:
             - tf2torch.convert(model) with verification (the default)
             - model.export(format="onnx") + onnx2torch.convert(file)
             baseline RSS = the frameworks imported, the Keras model built and run once;
             overhead = peak - baseline, reported against the size of the weights
  layout     permute/transpose calls in the generated forward, Transpose nodes in the ONNX route
  graphs     torch.export.export and torch.compile(fullgraph=True) on the generated module
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
THREADS = 2
MODELS = ("ResNet50", "MobileNetV2", "EfficientNetB0", "ConvNeXtTiny", "InceptionV3")
BATCHES = (1, 8)
# before each timed call: the thread pools of the previous candidate (OpenMP, onnxruntime, Eigen)
# spin for a while after their work (in their own process); without a pause they would steal the
# next candidate's cores
PAUSE = 0.1
DOCS = HERE.parent / "docs" / "benchmarks.md"


# ---------------------------------------------------------------------------------------------
# set-up shared by the processes
# ---------------------------------------------------------------------------------------------
def setup_frameworks(backend: str = "tensorflow") -> None:
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"  # TensorFlow's default on x86 (tf2torch turns it off to verify reproducibly)
    os.environ["OMP_NUM_THREADS"] = str(THREADS)
    import torch

    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    if backend == "tensorflow":
        from tf2torch.cli import quiet_tensorflow

        quiet_tensorflow()
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.get_logger().setLevel("ERROR")


def import_onnx2torch():
    """onnx2torch without torchvision (needed only by its NMS/RoiAlign converters)."""
    import types

    try:
        import torchvision  # noqa: F401
    except ImportError:
        def missing(*args, **kwargs):
            raise RuntimeError("torchvision is not installed (onnx2torch needs it for NMS/RoiAlign only)")

        stub, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
        ops.nms = ops.box_convert = ops.roi_align = missing
        stub.ops = ops
        sys.modules.setdefault("torchvision", stub)
        sys.modules.setdefault("torchvision.ops", ops)
    import onnx2torch

    return onnx2torch


def memory_bytes(key: str) -> int:
    """A /proc/self/status figure (Linux): VmRSS, the resident set now; VmHWM, its peak since the
    process started or since clear_refs was reset."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    return 0


def build(name: str):
    import zoo_models

    return zoo_models.Case(name, "top").build()


def load_keras(path):
    import keras
    from keras.src.applications.convnext import LayerScale, StochasticDepth
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    custom = {c.__name__: c for c in (LayerScale, StochasticDepth, CustomScaleLayer)}
    return keras.saving.load_model(path, compile=False, custom_objects=custom)


def onnx_route(model, folder: Path):
    path = folder / "model.onnx"
    model.export(str(path), format="onnx", verbose=False)
    return path, import_onnx2torch().convert(str(path))


# ---------------------------------------------------------------------------------------------
# workers (fresh processes)
# ---------------------------------------------------------------------------------------------
def conversion_worker(name: str, route: str, folder: str) -> dict:
    """Wall time and memory of one conversion, in this fresh process; its result saved in `folder`
    (ours: folder/tf2torch/, the ONNX route: folder/model.onnx; and folder/model.keras)."""
    setup_frameworks()
    import numpy as np

    import tf2torch

    if route == "onnx":
        import onnx  # noqa: F401
        import_onnx2torch()
    imported = memory_bytes("VmRSS")  # frameworks imported, nothing built
    model = build(name)
    weights = int(sum(np.asarray(w.numpy()).nbytes for w in model.weights))
    side = int(model.inputs[0].shape[1])
    model(np.zeros((1, side, side, 3), np.float32))  # a model one has used (the ONNX export needs a called model)
    baseline = memory_bytes("VmRSS")  # the frameworks' baseline: imported, the Keras model built and run once
    # peak from here: reset the high-water mark (Linux >= 4.0: write 5 to clear_refs)
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    start = time.perf_counter()
    if route == "ours":
        conversion = tf2torch.convert(model)
        detail = {"max_rel_error": conversion.report["verification"]["max_rel_error"],
                  "permutes": conversion.report["permutes_in_forward"]}
    else:
        _, module = onnx_route(model, Path(folder))
        detail = {"permutes": count_fx_transposes(module)}
    seconds = time.perf_counter() - start
    peak = memory_bytes("VmHWM")
    if route == "ours":  # outside the measures: what the latency process loads
        conversion.save(Path(folder) / "tf2torch", force=True)
        folded = tf2torch.convert(model, fold_batch_norm=True)
        folded.save(Path(folder) / "tf2torch-folded", force=True)
        detail["folded_batch_norm"] = len(folded.report["folded_batch_norm"])
        model.save(Path(folder) / "model.keras")
    return {"seconds": seconds, "imported": imported, "baseline": baseline, "peak": peak, "weights": weights, **detail}


def count_fx_transposes(module) -> int:
    count = 0
    for node in module.graph.nodes:
        text = f"{node.target}".lower()
        if node.op == "call_module":
            text += type(module.get_submodule(node.target)).__name__.lower()
        if any(k in text for k in ("transpose", "permute", "movedim")):
            count += 1
    return count


CANDIDATES = ("tf2torch eager", "tf2torch eager, BN folded", "tf2torch compiled", "Keras on TensorFlow",
              "Keras on torch", "onnx2torch", "onnxruntime")


def latency_worker(kind: str, folder: str) -> None:
    """One candidate in its own process: load it from the files in `folder`, say "ready {json}",
    then for each batch size read on stdin run one forward pass and print its seconds."""
    setup_frameworks("torch" if kind == "Keras on torch" else "tensorflow")  # before numpy: thread settings
    import numpy as np
    import torch

    folder = Path(folder)
    info: dict = {}
    side = json.loads((folder / "tf2torch" / "report.json").read_text())["inputs"][0]["keras_shape"][1]
    nhwc = False
    if kind.startswith("tf2torch"):
        from safetensors.torch import load_file

        from tf2torch.pipeline import instantiate

        saved = folder / ("tf2torch" if kind == "tf2torch eager" else "tf2torch-folded")
        report = json.loads((saved / "report.json").read_text())
        module = instantiate((saved / "model.py").read_text(), report["class_name"], load_file(str(saved / "weights.safetensors")))
        if kind == "tf2torch compiled":
            example = torch.randn(1, 3, side, side)
            try:
                torch.export.export(module, (example,))
                info["export"] = "ok"
            except Exception as exc:  # reported, not fatal
                info["export"] = type(exc).__name__
            import torch._inductor.config

            torch._inductor.config.freezing = True  # inference: weights as constants, prepacked for oneDNN
            start = time.perf_counter()
            module = torch.compile(module, fullgraph=True)
            with torch.inference_mode():
                module(example)
            info["compile"], info["compile_seconds"] = "ok", time.perf_counter() - start
        run = module
    elif kind == "onnx2torch":
        run, nhwc = import_onnx2torch().convert(str(folder / "model.onnx")), True
    elif kind == "onnxruntime":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
        session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        run, nhwc = (lambda x: session.run(None, {name: x})), True
    elif kind == "Keras on TensorFlow":
        import tensorflow as tf

        model = load_keras(folder / "model.keras")
        graph_fn = tf.function(lambda x: model(x, training=False))  # graph mode, as predict() runs it
        run, nhwc = (lambda x: graph_fn(x).numpy()), True
    elif kind == "Keras on torch":
        model = load_keras(folder / "model.keras")
        run, nhwc = (lambda x: model(x, training=False)), True
    else:
        raise SystemExit(f"unknown candidate {kind!r}")
    print("ready " + json.dumps(info), flush=True)
    inputs = {}
    with torch.inference_mode():
        for line in sys.stdin:
            batch = int(line)
            if batch not in inputs:
                x = np.random.default_rng(batch).standard_normal((batch, side, side, 3)).astype(np.float32)
                if kind == "onnxruntime":
                    inputs[batch] = x
                elif kind == "Keras on TensorFlow":
                    import tensorflow as tf

                    inputs[batch] = tf.constant(x)
                else:
                    inputs[batch] = torch.from_numpy(x if nhwc else x.transpose(0, 3, 1, 2).copy())
            start = time.perf_counter()
            run(inputs[batch])
            print(time.perf_counter() - start, flush=True)


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------
def run_worker(args: list[str]) -> dict:
    """Run this script as a worker (fresh process); its last JSON line, or the error."""
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env={**os.environ})
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(lines[-1])


def latency(name: str, rounds: int, folder: Path) -> dict:
    """Medians (seconds) per candidate and batch size, the candidates taking turns.

    Each candidate lives in its own process (thread pools and allocators of one framework must not
    slow another: onnxruntime's, created in the same process, made every torch call after it 2x
    slower, measured), idle between calls; this process only asks each in turn for one timed call.
    """
    workers, results = {}, {"graphs": {}, "batches": {}, "failures": {}}
    failures = results["failures"]

    def log_of(kind: str) -> Path:
        return folder / f"{kind.replace(' ', '_').replace(',', '')}.log"

    def why(kind: str) -> str:
        lines = log_of(kind).read_text().strip().splitlines()
        return (lines or ["exited"])[-1][:200]

    for kind in CANDIDATES:
        if kind in ("onnx2torch", "onnxruntime") and not (folder / "model.onnx").exists():
            failures[kind] = "no ONNX file: the export failed (see the conversion table)"
            continue
        log = open(log_of(kind), "w")
        proc = subprocess.Popen([sys.executable, __file__, "--latency-worker", kind, str(folder)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        line = proc.stdout.readline().strip()
        if not line.startswith("ready"):
            proc.kill()
            proc.wait()
            failures[kind] = f"did not start: {why(kind)}"
            print(f"  {name}: {kind} {failures[kind]}", flush=True)
            continue
        info = json.loads(line[len("ready"):])
        if "compile" in info:
            results["graphs"] = {"export": info["export"], "compile": info["compile"]}
            results["compile_seconds"] = info["compile_seconds"]
        workers[kind] = proc

    def call(kind: str, batch: int) -> float | None:
        proc = workers[kind]
        time.sleep(PAUSE)
        try:
            proc.stdin.write(f"{batch}\n")
            proc.stdin.flush()
            return float(proc.stdout.readline())
        except (OSError, ValueError):  # the worker died: say why, go on without it
            failures[kind] = why(kind)
            print(f"  {name}: {kind} failed: {failures[kind]}", flush=True)
            workers.pop(kind).kill()
            return None

    for batch in BATCHES:
        for kind in list(workers):  # warm-up (tracing, allocation, caches)
            if call(kind, batch) is not None:
                call(kind, batch)
        times: dict = {k: [] for k in workers}
        for _ in range(rounds):
            for kind in list(workers):
                value = call(kind, batch)
                if value is not None:
                    times[kind].append(value)
        results["batches"][batch] = {k: statistics.median(v) for k, v in times.items() if k in workers and v}
        print(f"  {name} batch {batch}: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in results["batches"][batch].items()),
              flush=True)
    for proc in workers.values():
        proc.stdin.close()
        proc.wait(timeout=60)
    return results


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def report(rows: dict, rounds: int, machine: str) -> str:
    lines = ["# Benchmarks: tf2torch against the ONNX route", "",
             "Written by `benchmarks/zoo.py` (`make bench`) from one run on one machine; do not edit by hand.", "",
             f"Machine: {machine}. {THREADS} threads for every framework, float32, random weights, default input size, "
             f"include_top=True. Latency: median of {rounds} alternating rounds after warm-up.", ""]
    lines += ["## Latency (ms per forward pass)", "",
              "eager: the generated module as `tf2torch convert` writes it; folded: `--fold-batchnorm` (inference only: "
              "each BatchNormalization after a convolution folded into its weights, as the ONNX route's optimiser does); "
              "compiled: the folded module under `torch.compile(fullgraph=True)` (inductor, `freezing=True`).", "",
              "| model | batch | eager | folded | compiled | Keras on TF | Keras on torch | onnx2torch | onnxruntime |"
              " eager / onnx2torch | folded / onnx2torch | eager / Keras on TF | folded / Keras on TF | compiled / onnxruntime |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        for batch, t in row["latency"].get("batches", {}).items():
            def ms(key):
                return f"{t[key] * 1e3:.1f}" if key in t else "n/a"
            eager, folded, compiled = t.get("tf2torch eager"), t.get("tf2torch eager, BN folded"), t.get("tf2torch compiled")
            lines.append(f"| {name} | {batch} | {ms('tf2torch eager')} | {ms('tf2torch eager, BN folded')} | "
                         f"{ms('tf2torch compiled')} | {ms('Keras on TensorFlow')} | {ms('Keras on torch')} | {ms('onnx2torch')} | "
                         f"{ms('onnxruntime')} | {ratio(eager, t.get('onnx2torch'))} | {ratio(folded, t.get('onnx2torch'))} | "
                         f"{ratio(eager, t.get('Keras on TensorFlow'))} | {ratio(folded, t.get('Keras on TensorFlow'))} | "
                         f"{ratio(compiled, t.get('onnxruntime'))} |")
    failed = [(name, kind, why) for name, row in rows.items() for kind, why in row["latency"].get("failures", {}).items()]
    if failed:
        lines += ["", "Candidates that could not run (n/a above):", ""]
        lines += [f"- {name}, {kind}: `{why}`" for name, kind, why in failed]
    lines += ["", "## Conversion (fresh process each)", "",
              "| model | weights (MB) | tf2torch s (verification incl.) | ONNX route s | time ratio | "
              "tf2torch overhead / weights | ONNX route overhead / weights | permutes: tf2torch / onnx2torch | "
              "torch.export | torch.compile(fullgraph) | max rel. error |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        ours, theirs, lat = row["ours"], row["onnx"], row["latency"]
        mb = ours.get("weights", 0) / 1e6

        def overhead(r):
            if "peak" not in r:
                return f"failed: `{r.get('error', '?')[:120]}`"
            return f"{(r['peak'] - r['baseline']) / r['weights']:.2f}x ({(r['peak'] - r['baseline']) / 1e6:.0f} MB)"

        lines.append(f"| {name} | {mb:.0f} | {ours.get('seconds', float('nan')):.1f} | {theirs.get('seconds', float('nan')):.1f} | "
                     f"{ratio(ours.get('seconds'), theirs.get('seconds'))} | {overhead(ours)} | {overhead(theirs)} | "
                     f"{ours.get('permutes', '?')} / {theirs.get('permutes', '?')} | {lat.get('graphs', {}).get('export', '?')} | "
                     f"{lat.get('graphs', {}).get('compile', '?')} ({lat.get('compile_seconds', 0):.0f} s to compile) | "
                     f"{ours.get('max_rel_error', float('nan')):.1e} |")
    lines += ["", "Overhead = peak RSS during conversion - the frameworks' baseline (RSS once the frameworks are "
              "imported and the Keras model is built and has run once).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--conversion-worker"]:
        print(json.dumps(conversion_worker(argv[1], argv[2], argv[3])))
        return 0
    if argv[:1] == ["--latency-worker"]:
        latency_worker(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description="tf2torch against the ONNX route on keras.applications models.")
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--rounds", type=int, default=15, help="alternating timed rounds per batch size (default 15)")
    parser.add_argument("--no-docs", action="store_true", help=f"do not write {DOCS.relative_to(HERE.parent)}")
    args = parser.parse_args(argv)  # this process only orchestrates: the workers import the frameworks
    import platform

    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            print(f"{name}: conversion (tf2torch, then the ONNX route)", flush=True)
            folder = Path(tmp) / name
            folder.mkdir()
            rows[name] = {"ours": run_worker(["--conversion-worker", name, "ours", str(folder)]),
                          "onnx": run_worker(["--conversion-worker", name, "onnx", str(folder)])}
            print(f"  {json.dumps(rows[name])}", flush=True)
            if "error" in rows[name]["ours"]:
                rows[name]["latency"] = {}
                continue  # (where the ONNX route failed, its two candidates fail to start: n/a)
            print(f"{name}: latency", flush=True)
            rows[name]["latency"] = latency(name, args.rounds, folder)
    text = report(rows, args.rounds, machine)
    print(text)
    if not args.no_docs and list(args.models) == list(MODELS):
        DOCS.write_text(text, encoding="utf-8")
        print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

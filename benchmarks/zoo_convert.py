"""`make zoo`: convert and verify every keras.applications constructor, print a table.

    python benchmarks/zoo_convert.py                        # the whole zoo, every configuration
    python benchmarks/zoo_convert.py ResNet50 MobileNetV2   # some constructors
    python benchmarks/zoo_convert.py --configs top odd      # some configurations (see zoo_models)
    python benchmarks/zoo_convert.py --no-graph-check       # skip torch.export / torch.compile
    python benchmarks/zoo_convert.py --write-docs           # also write the table to docs/zoo.md

Each case runs in its own process (a fresh TensorFlow, memory given back; a crash is that case's
failure, with its exit status), `--jobs` at a time.
Columns: parameters, the worst relative error against Keras, the number of permute/transpose/
movedim calls in the generated forward, whether torch.export.export and
torch.compile(fullgraph=True) capture the module whole (dynamo with the eager backend: graph
capture is what is checked, not inductor's code generation), and the conversion wall time
(verification included). Exits 1 if any case fails, has a permute, or fails a graph check.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo_models  # noqa: E402

TOLERANCE = 1e-4


def graph_checks(module, example) -> dict:
    """Whether torch.export and dynamo (fullgraph) capture the module; the first error otherwise."""
    import torch

    out = {}
    try:
        torch.export.export(module, (example,))
        out["export"] = "ok"
    except Exception as exc:  # report, do not stop the zoo
        out["export"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    try:
        torch._dynamo.reset()
        compiled = torch.compile(module, fullgraph=True, backend="eager")
        with torch.inference_mode():
            compiled(example)
        out["compile"] = "ok"
    except Exception as exc:
        out["compile"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return out


def run_case(case: zoo_models.Case, graph_check: bool = True) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    row = {"case": case.name, "params": None, "error": None, "permutes": None, "seconds": None, "problem": None}
    try:
        import torch

        import tf2torch
        from tf2torch.cli import quiet_tensorflow

        quiet_tensorflow()
        torch.set_num_threads(int(os.environ.get("ZOO_THREADS", "1")))
        model = case.build()
        row["params"] = int(model.count_params())
        start = time.perf_counter()
        conversion = tf2torch.convert(model, tolerance=TOLERANCE, dynamic_sizes=case.verify_sizes or None)
        row["seconds"] = time.perf_counter() - start
        row["error"] = conversion.report["verification"]["max_rel_error"]
        row["permutes"] = conversion.report["permutes_in_forward"]
        row["warnings"] = conversion.report["warnings"]
        if graph_check:
            side = case.input_size or case.verify_sizes[0]
            row.update(graph_checks(conversion.module, torch.randn(1, 3, side, side)))
    except Exception as exc:
        row["problem"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        if os.environ.get("ZOO_DEBUG"):
            traceback.print_exc()
    return row


def run_in_process(case: zoo_models.Case, graph_check: bool) -> dict:
    args = [sys.executable, __file__, "--case", case.constructor, case.config] + ([] if graph_check else ["--no-graph-check"])
    result = subprocess.run(args, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if lines:
        return json.loads(lines[-1])
    why = "killed (out of memory?)" if result.returncode < 0 else (result.stderr.strip().splitlines() or ["no output"])[-1]
    return {"case": case.name, "params": None, "error": None, "permutes": None, "seconds": None,
            "problem": f"the worker process exited with status {result.returncode}: {why[:200]}"}


def failed(row: dict) -> bool:
    return bool(row["problem"] or row["permutes"] or any(row.get(k, "ok") != "ok" for k in ("export", "compile")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Convert and verify the keras.applications zoo.")
    parser.add_argument("constructors", nargs="*", help="constructor names (default: all 40)")
    parser.add_argument("--configs", nargs="+", choices=zoo_models.CONFIGS, default=list(zoo_models.CONFIGS))
    parser.add_argument("--jobs", type=int, default=2, help="cases converted at once (default 2)")
    parser.add_argument("--no-graph-check", action="store_true", help="skip torch.export / torch.compile checks")
    parser.add_argument("--write-docs", action="store_true", help="write the table to docs/zoo.md (whole zoo only)")
    parser.add_argument("--case", nargs=2, metavar=("CONSTRUCTOR", "CONFIG"), help=argparse.SUPPRESS)  # worker
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(zoo_models.Case(*args.case), not args.no_graph_check)))
        return 0
    cases = zoo_models.all_cases(args.constructors or None, tuple(args.configs))
    header = f"{'model':<32} {'params':>12} {'rel. error':>10} {'permutes':>8} {'export':>6} {'compile':>7} {'seconds':>7}"
    print(header)
    print("-" * len(header), flush=True)
    rows = []
    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_in_process, case, not args.no_graph_check) for case in cases]
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            if row["problem"]:
                print(f"{row['case']:<32} FAILED {row['problem']}", flush=True)
                continue
            params = f"{row['params']:,}"
            print(f"{row['case']:<32} {params:>12} {row['error']:>10.2e} {row['permutes']:>8} {row.get('export', '-')[:6]:>6} "
                  f"{row.get('compile', '-')[:7]:>7} {row['seconds']:>7.1f}", flush=True)
            for key in ("export", "compile"):
                if row.get(key, "ok") != "ok":
                    print(f"    {key}: {row[key]}", flush=True)
    bad = [r for r in rows if failed(r)]
    worst = max((r["error"] for r in rows if r["error"] is not None), default=0.0)
    summary = (f"{len(rows)} cases, {len(bad)} failed, worst relative error {worst:.2e}, "
               f"{sum(r['permutes'] or 0 for r in rows)} permutes, {time.perf_counter() - start:.0f} s")
    print(f"\n{summary}")
    if args.write_docs and not args.constructors and len(args.configs) == len(zoo_models.CONFIGS):
        write_docs(rows, summary)
    return 1 if bad else 0


def write_docs(rows: list[dict], summary: str) -> None:
    order = {c.name: i for i, c in enumerate(zoo_models.all_cases())}
    lines = ["# The keras.applications zoo", "",
             "Written by `python benchmarks/zoo_convert.py --write-docs` (`make zoo` prints the same table); "
             "do not edit by hand.", "", "```", zoo_models.__doc__[zoo_models.__doc__.index("Each constructor"):].strip(), "```", "",
             "Random weights (see `zoo_models.randomize`/`calibrate`), tolerance 1e-4 relative to the largest output.",
             "Seconds: `tf2torch.convert` including verification, one thread.", "",
             f"**{summary}**", "",
             "| case | parameters | max rel. error | permutes | torch.export | torch.compile(fullgraph) | seconds |",
             "|---|---|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: order.get(r["case"], 0)):
        if row["problem"]:
            lines.append(f"| {row['case']} | | FAILED: {row['problem']} | | | | |")
            continue
        lines.append(f"| {row['case']} | {row['params']:,} | {row['error']:.1e} | {row['permutes']} | "
                     f"{row.get('export', '-')} | {row.get('compile', '-')} | {row['seconds']:.1f} |")
    path = Path(__file__).resolve().parent.parent / "docs" / "zoo.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())

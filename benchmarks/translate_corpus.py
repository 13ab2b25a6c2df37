"""How much of the translation corpus `tf2torch translate` translates fully.

Translates every script of tests/translate/corpus/ (never runs them) and prints, per script, the
number of translated notes, the number of TODOs and whether it is fully translated (no TODO, no
TensorFlow/Keras import left: `Translation.complete`), then the fraction fully translated and the
most frequent TODO reasons.

    python benchmarks/translate_corpus.py               # the table, on stdout
    python benchmarks/translate_corpus.py --write-docs  # also rewrite the table of docs/translation.md
    python benchmarks/translate_corpus.py --run         # also run the fully translated full programs
    python benchmarks/translate_corpus.py -v gan_two_optimizers.py   # one script's TODOs and notes

--run executes each fully translated translation that is a full program (no free names) in a
subprocess, in a scratch folder, with a time limit, and reports whether it ran.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import symtable
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "translate" / "corpus"
DOCS = ROOT / "docs" / "translation.md"
START, END = "<!-- corpus-table:start -->", "<!-- corpus-table:end -->"


@dataclass
class Row:
    script: str
    notes: list[str]
    todos: list[str]
    complete: bool
    snippet: bool  # has free names (x_train, timesteps): not runnable on its own
    error: str | None = None
    ran: str | None = None  # "yes", "no: <why>", or None when not run


def _quiet() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import warnings

    warnings.filterwarnings("ignore")


def _is_snippet(source: str) -> bool:
    import builtins

    bound, read = set(), set()

    def walk(table):
        for sym in table.get_symbols():
            if table.get_type() == "module":
                (bound if sym.is_assigned() or sym.is_imported() else read if sym.is_referenced() else set()).add(sym.get_name())
            elif sym.is_global() and sym.is_referenced():
                read.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(source, "<script>", "exec"))
    return bool(read - bound - set(dir(builtins)) - {"__name__", "__file__", "__doc__"})


def translate_one(path: str) -> tuple[Row, str]:
    """(row, translated source); run in a worker process."""
    _quiet()
    from tf2torch.translate import translate_source

    source = Path(path).read_text()
    try:
        t = translate_source(source, path)
    except Exception as exc:  # translate_source must never raise: report it as this script's error
        return Row(Path(path).name, [], [], False, _is_snippet(source), f"translate_source raised {type(exc).__name__}: {exc}"), ""
    row = Row(Path(path).name, list(t.notes), [why for _, why in t.todos], t.complete, _is_snippet(source), t.error)
    return row, t.source


def translate_all(paths: list[Path], jobs: int) -> list[tuple[Row, str]]:
    if jobs <= 1:
        return [translate_one(str(p)) for p in paths]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(translate_one, [str(p) for p in paths], chunksize=max(1, len(paths) // (4 * jobs))))


def run_translation(source: str, timeout: float) -> str:
    """Run one translated script in a scratch folder: "yes" or "no: <last line of its error>"."""
    with tempfile.TemporaryDirectory() as work:
        script = Path(work) / "translated.py"
        script.write_text(source)
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        try:
            proc = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return f"no: timed out after {timeout:g} s"
    if proc.returncode == 0:
        return "yes"
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return f"no: {lines[-1] if lines else f'exit code {proc.returncode}'}"


def _reason(why: str) -> str:
    """A TODO's reason without the code it quotes, so that equal reasons group together."""
    leftover = re.match(r"no PyTorch translation for `[^`]*` \(([\w.]+)\)", why)
    if leftover:  # the last step's catch-all: what matters is which API is missing
        return f"no PyTorch translation for {leftover.group(1)}"
    why = re.sub(r"`[^`]*`", "`…`", why)
    why = re.sub(r"\([\w.]+\)", "(…)", why)
    return why[:110]


def table(rows: list[Row]) -> str:
    ran = any(r.ran is not None for r in rows)
    head = "| script | translated notes | TODOs | fully translated |" + (" translation runs |" if ran else "")
    rule = "|---|---:|---:|:---:|" + ("---|" if ran else "")
    lines = [head, rule]
    for r in rows:
        status = "error" if r.error else ("yes" if r.complete else "no")
        cells = f"| `{r.script}` | {len(r.notes)} | {len(r.todos)} | {status} |"
        if ran:
            run = (r.ran or "-").replace("|", "\\|")
            cells += f" {run[:80]} |"
        lines.append(cells)
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    full = sum(r.complete for r in rows)
    programs = [r for r in rows if not r.snippet]
    text = (f"**{full} of {len(rows)} corpus scripts fully translated ({100 * full / len(rows):.0f} %)**: "
            f"no TODO and no TensorFlow/Keras import left. "
            f"{sum(len(r.todos) for r in rows)} TODOs in all; "
            f"{len(rows) - len(programs)} of the scripts are snippets with free names.")
    tried = [r for r in rows if r.ran is not None]
    if tried:
        ok = sum(r.ran == "yes" for r in tried)
        text += f" Of the {len(tried)} fully translated full programs, {ok} ran to completion."
    return text


def with_table(docs: str, rows: list[Row]) -> str:
    """`docs` with the text between the markers replaced by the summary and the table of `rows`."""
    if START not in docs or END not in docs:
        raise ValueError(f"the markers {START} and {END} are missing")
    block = (f"{START}\n<!-- generated by `python benchmarks/translate_corpus.py --write-docs`; do not edit by hand -->\n\n"
             f"{summary(rows)}\n\n{table(rows)}\n\n{END}")
    before, rest = docs.split(START, 1)
    return before + block + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scripts", nargs="*", help="corpus script names (default: all)")
    p.add_argument("--write-docs", action="store_true", help=f"rewrite the table between the markers of {DOCS.relative_to(ROOT)}")
    p.add_argument("--run", action="store_true", help="run the fully translated full programs (subprocesses)")
    p.add_argument("--timeout", type=float, default=120, help="time limit of each --run (default 120 s)")
    p.add_argument("-j", "--jobs", type=int, default=min(4, os.cpu_count() or 1), help="translation processes")
    p.add_argument("--reasons", type=int, default=25, metavar="N", help="how many of the most frequent TODO reasons to list")
    p.add_argument("-v", "--verbose", action="store_true", help="list every TODO of every script")
    args = p.parse_args(argv)

    paths = sorted(CORPUS.glob("*.py"))
    if args.scripts:
        wanted = {Path(s).name for s in args.scripts}
        paths = [q for q in paths if q.name in wanted]
        missing = wanted - {q.name for q in paths}
        if missing:
            raise SystemExit(f"not in the corpus: {sorted(missing)}")
        if args.write_docs:
            raise SystemExit("--write-docs needs the whole corpus")
    start = time.perf_counter()
    results = translate_all(paths, args.jobs)
    rows = [r for r, _ in results]
    elapsed = time.perf_counter() - start
    if args.run:
        for row, source in results:
            if row.complete and not row.snippet:
                row.ran = run_translation(source, args.timeout)
                print(f"ran {row.script}: {row.ran}", file=sys.stderr)

    print(table(rows))
    print()
    print(summary(rows).replace("**", ""))
    print(f"(translated in {elapsed:.1f} s)")
    errors = [r for r in rows if r.error]
    by_error = collections.defaultdict(list)
    for r in errors:
        by_error[r.error.split(": ", 1)[-1] if r.error.startswith(str(CORPUS)) else r.error].append(r.script)
    for error, scripts in by_error.items():
        print(f"ERROR in {len(scripts)} script(s) ({', '.join(scripts[:3])}{', ...' if len(scripts) > 3 else ''}): {error}")
    reasons = collections.Counter(_reason(w) for r in rows for w in r.todos)
    if reasons:
        print("\nmost frequent TODO reasons:")
        for why, n in reasons.most_common(args.reasons):
            print(f"{n:5d}  {why}")
    if args.verbose:
        for row in rows:
            print(f"\n== {row.script}: {len(row.notes)} notes, {len(row.todos)} TODO")
            for note in row.notes:
                print(f"  translated: {note}")
            for why in row.todos:
                print(f"  TODO {why}")
    if args.write_docs:
        DOCS.write_text(with_table(DOCS.read_text(), rows))
        print(f"\nwrote {DOCS.relative_to(ROOT)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

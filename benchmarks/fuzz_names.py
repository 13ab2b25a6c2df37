"""Names are data: convert small Keras models whose names (model, layers, inputs, outputs) are hostile.

    python benchmarks/fuzz_names.py --names 1000 --seed 0

Draws at least N names (keywords, builtins, torch and inline-helper names, our own locals, dunders,
digits first, quotes, backslashes, newlines, NUL, U+2028, surrogates, confusables, 10k characters,
random unicode), puts them in small models of several families (some of which inline helpers)
and converts each. For each conversion: the source parses and compiles (as the UTF-8 bytes that
model.py holds), defines the class, binds no name that hides a keyword, builtin, import, inline
helper or the class, keeps code outside string literals and comments ASCII, never carries a
hostile name outside them, every module attribute is a valid identifier, the folder saves and
verification against Keras passes; or the converter refuses cleanly (ConversionError/InputError).
Prints the counts; exits 1 on any bad outcome. tests/test_fuzz_names.py reuses these checks.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import io
import keyword
import os
import random
import sys
import tempfile
import time
import tokenize
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

# ---- names ---------------------------------------------------------------------------------------
OWN_LOCALS = ["x", "y", "z", "mask", "self", "super", "__init__", "_", "h_n", "c_n", "seq", "h", "c", "tmp",
              "scores", "attention", "keep", "folded", "out", "input", "layer", "torch", "nn", "F", "math", "np",
              "forward", "training", "inputs", "outputs", "Module", "Tensor", "register_buffer", "parameters",
              "state_dict", "cls", "Model", "Converted", "T_destination", "__class__", "__dict__", "__builtins__"]
WEIRD = ['"""', "'''", '"', "'", "\\", "\\\\", '\\"', "a\nb", "\r\n", "\n", "\t", "\x00", "nul\x00byte", "\u2028",
         "ls\u2028sep", "\u2029", "\x0c", "\x1b[31mred", "\ud800", "sur\udfffrogate", "\ufeff", "\u202eevil",
         "ＳＥＬＦ", "ｓｅｌｆ", "ﬁ", "𝐭𝐨𝐫𝐜𝐡", "ℌ", "café", "名前", "Ωmega", "ⅸ", "٣", "x" * 10000, "a" * 65,
         "1", "0abc", "123_456", "9lives", "1 bad; import os", "os.system('rm -rf /')", "'); import os; ('",
         '"""; import os; """', "# comment", "a#b", "${x}", "{x}", "%s", "a b", "-", "a-b", ".", "..", "a.b",
         "None", "True", "False", "__", "___", "__x__", "_x", "__import__", "lambda", "match", "case", "type",
         " ", "", "  lead", "trail  ", "😀", "e\u0301", "\u200b", "A\u0300", "x\x7f", "\x85next"]


def _helpers() -> list[str]:
    from tf2torch.names import helper_names

    return sorted(helper_names())


def hostile_names(n: int, seed: int = 0) -> list[str]:
    """At least `n` names: every fixed hostile name first, then random mixes of them and random unicode."""
    rng = random.Random(seed)
    fixed = (list(keyword.kwlist) + list(keyword.softkwlist) + sorted(n for n in dir(builtins) if not n.startswith("__"))[:80]
             + _helpers() + OWN_LOCALS + WEIRD)
    names = list(dict.fromkeys(fixed))
    pool = [c for c in fixed if c]
    while len(names) < n:
        kind = rng.randrange(6)
        if kind == 0:  # random unicode text, surrogates and controls included
            text = "".join(chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0, 0x20), rng.randrange(0x80, 0x3000),
                                           rng.randrange(0xD800, 0xE000), rng.randrange(0x10000, 0x11000)]))
                           for _ in range(rng.randrange(1, 12)))
        elif kind == 1:  # two hostile names glued
            text = rng.choice(pool) + rng.choice(["", "_", " ", "\n", '"', "\\"]) + rng.choice(pool)
        elif kind == 2:  # digits first
            text = f"{rng.randrange(1000)}{rng.choice(pool)}"
        elif kind == 3:  # dunder / underscores
            text = rng.choice(["__", "_", "___"]) + rng.choice(pool) + rng.choice(["__", "_", ""])
        elif kind == 4:  # a keyword, builtin or helper with a suffix the sanitiser may strip
            text = rng.choice(pool) + rng.choice(["_", "__", "!", "()", "\x00", "\u2028", "_1"])
        else:
            text = rng.choice(pool)[: rng.randrange(1, 30)] * rng.randrange(1, 4)
        names.append(text)
    return names


# ---- models --------------------------------------------------------------------------------------
FAMILIES = ["dense", "conv_same", "lstm_mask", "gru_v1", "mha", "avgpool_same"]


def build(family: str, names: list[str]):
    """A small model whose model/input/layer names are `names` (used in order; output names are those
    of the output layers). Returns (model, names used)."""
    import keras
    from keras import layers as L

    it = iter(names)
    used: list[str] = []

    def nm():
        v = next(it)
        used.append(v)
        return v

    model_name = nm()
    if family == "dense":
        a, b = keras.Input((4,), name=nm()), keras.Input((4,), name=nm())
        h = L.Dense(5, activation="relu", name=nm())(L.Add(name=nm())([a, b]))
        outs, ins = [L.Dense(3, name=nm())(h), L.Dense(2, use_bias=False, name=nm())(h)], [a, b]
    elif family == "conv_same":
        a = keras.Input((9, 9, 3), name=nm())
        h = L.Conv2D(4, 3, strides=2, padding="same", name=nm())(a)
        h = L.MaxPooling2D(2, padding="same", name=nm())(h)
        outs, ins = [L.Dense(2, name=nm())(L.GlobalAveragePooling2D(name=nm())(h))], [a]
    elif family == "lstm_mask":
        a = keras.Input((6,), dtype="int32", name=nm())
        h = L.Embedding(10, 4, mask_zero=True, name=nm())(a)
        h = L.LSTM(3, return_sequences=True, name=nm())(h)
        outs, ins = [L.GRU(2, go_backwards=True, name=nm())(h)], [a]
    elif family == "gru_v1":
        a = keras.Input((5, 3), name=nm())
        h = L.GRU(3, reset_after=False, return_sequences=True, name=nm())(a)
        outs, ins = [L.Dense(2, name=nm())(h), L.SimpleRNN(2, name=nm())(h)], [a]
    elif family == "mha":
        q, v = keras.Input((4, 6), name=nm()), keras.Input((3, 6), name=nm())
        h = L.MultiHeadAttention(2, 3, name=nm())(q, v)
        outs, ins = [L.LayerNormalization(name=nm())(h)], [q, v]
    elif family == "avgpool_same":
        a = keras.Input((7, 7, 2), name=nm())
        h = L.AveragePooling2D(3, strides=2, padding="same", name=nm())(a)
        h = L.Conv1D(3, 2, dilation_rate=2, padding="causal", name=nm())(L.Reshape((16, 2), name=nm())(h))
        outs, ins = [L.Flatten(name=nm())(h)], [a]
    else:
        raise ValueError(family)
    return keras.Model(ins, outs if len(outs) > 1 else outs[0], name=model_name), used


def names_needed(family: str) -> int:
    return {"dense": 7, "conv_same": 6, "lstm_mask": 5, "gru_v1": 5, "mha": 5, "avgpool_same": 6}[family]


# ---- checks --------------------------------------------------------------------------------------
def _module_level_names(tree: ast.Module) -> set[str]:
    found = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return found


def source_problems(source: str, class_name: str, raw_names=()) -> list[str]:
    """What is wrong with a generated model.py (empty if nothing)."""
    from tf2torch.names import reserved

    try:
        compile(source.encode("utf-8"), "model.py", "exec")
        tree = ast.parse(source)
    except (SyntaxError, ValueError, UnicodeError) as exc:
        return [f"does not compile: {type(exc).__name__}: {exc}"]
    problems = []
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    if len(classes) != 1:
        return [f"class {class_name!r} defined {len(classes)} times"]
    top = _module_level_names(tree)
    if sum(1 for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == class_name) != 1:
        problems.append("the class name is also a helper's")
    forbidden = (top | set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist) | reserved()) - {"self"}
    cls = classes[0]
    for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        bound = {a.arg for a in fn.args.args[1:]}
        bound |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound -= {"_"}
        for name in sorted(bound & forbidden):
            problems.append(f"{fn.name} binds {name!r}, a name the file already uses")
        for n in ast.walk(fn):
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store):
                if not (n.attr.isidentifier() and n.attr.isascii()) or n.attr.startswith("__") or keyword.iskeyword(n.attr):
                    problems.append(f"attribute {n.attr!r}")
    # code outside string literals and comments: ASCII, no hostile name carried into it
    code = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type not in (tokenize.STRING, tokenize.COMMENT):
                code.append(tok.string)
    except (tokenize.TokenError, SyntaxError) as exc:
        return problems + [f"tokenize: {exc}"]
    code_text = " ".join(code)
    if not code_text.isascii():
        problems.append("non-ASCII characters outside string literals")
    for raw in raw_names:
        raw = str(raw)
        risky = any(c in raw for c in "\"'\\#;\n\r\x00") or ("import" in raw and " " in raw.strip())
        if risky and len(raw.strip()) >= 3 and raw in code_text:
            problems.append(f"name {raw[:40]!r} appears in code")
    return problems


def module_problems(module) -> list[str]:
    problems = []
    for key in list(dict(module.named_modules())) + [k for k, _ in module.named_parameters()] + [k for k, _ in module.named_buffers()]:
        for part in filter(None, key.split(".")):
            if not (part.isidentifier() and part.isascii()) or keyword.iskeyword(part) or part.startswith("__"):
                if not part.isdigit():  # nn.Sequential / ModuleList children
                    problems.append(f"module attribute {part!r}")
    return problems


def check_model(model, raw_names=(), save_to: str | None = None, verify: bool = True) -> tuple[str, str]:
    """("ok" | "refused" | "bad", detail) for one conversion."""
    import tf2torch
    from tf2torch.errors import ConversionError, InputError

    try:
        conversion = tf2torch.convert(model, verify=verify)
    except (ConversionError, InputError) as exc:
        problems = getattr(exc, "problems", None)
        text = str(exc)
        if not text.strip() or (isinstance(exc, ConversionError) and not problems):
            return "bad", f"refusal without a message: {type(exc).__name__}"
        return "refused", text.splitlines()[0][:200]
    except Exception as exc:  # noqa: BLE001 - any other exception is a bug
        return "bad", f"{type(exc).__name__}: {str(exc)[:300]}"
    problems = source_problems(conversion.source, conversion.class_name, raw_names) + module_problems(conversion.module)
    if type(conversion.module).__name__ != conversion.class_name:
        problems.append("the module is not of the generated class")
    if verify and not conversion.report["verification"]["passed"]:
        problems.append("verification failed")
    if save_to is not None:
        try:
            conversion.save(save_to, force=True)
            Path(save_to, "report.json").read_text(encoding="utf-8")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"save: {type(exc).__name__}: {exc}")
    return ("bad", "; ".join(problems)) if problems else ("ok", "")


def run(n_names: int, seed: int, verbose: bool = False) -> dict:
    import warnings

    import keras

    warnings.filterwarnings("ignore")  # Keras' notes on input structures: noise here

    names = hostile_names(n_names, seed)
    rng = random.Random(seed)
    rng.shuffle(names)
    counts = {"ok": 0, "refused": 0, "bad": 0, "keras_rejected": 0}
    tried, bad = 0, []
    i, k = 0, 0
    tmp = tempfile.mkdtemp(prefix="fuzz_names.")
    while i < len(names):
        family = FAMILIES[k % len(FAMILIES)]
        k += 1
        need = names_needed(family)
        chunk = names[i:i + need]
        i += need
        chunk += [f"filler_{k}_{j}" for j in range(need - len(chunk))]
        keras.utils.clear_session()
        try:
            model, used = build(family, chunk)
        except Exception:  # noqa: BLE001 - Keras' own refusal ('/', duplicates...): try them one by one
            counts["keras_rejected"] += 1
            model = None
            for j in range(need):
                safe = [f"ok_{k}_{m}" if m != j else chunk[j] for m in range(need)]
                try:
                    keras.utils.clear_session()
                    m, u = build(family, safe)
                except Exception:  # noqa: BLE001
                    continue
                outcome, detail = check_model(m, u, os.path.join(tmp, "out"))
                tried += 1
                counts[outcome] += 1
                if outcome == "bad":
                    bad.append((family, chunk[j], detail))
            continue
        for layer in model.layers:  # a fresh random weight per run: verification means something
            for w in layer.weights:
                w.assign(np.random.default_rng(seed + k).normal(0, 0.5, tuple(w.shape)).astype(w.dtype))
        outcome, detail = check_model(model, used, os.path.join(tmp, "out"))
        tried += 1
        counts[outcome] += 1
        if outcome == "bad":
            bad.append((family, used, detail))
        if verbose:
            print(family, outcome, detail[:100], [u[:20] for u in used])
    counts["names"] = len(names)
    counts["conversions"] = tried
    counts["problems"] = bad
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1000, help="how many names to draw (at least)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts = run(args.names, args.seed, args.verbose)
    elapsed = time.perf_counter() - start
    for family, names, detail in counts["problems"]:
        print(f"BAD {family} {ascii(names)[:200]}: {detail}")
    print(f"names {counts['names']}  conversions {counts['conversions']}  ok {counts['ok']}  refused {counts['refused']}  "
          f"bad {counts['bad']}  models Keras rejected {counts['keras_rejected']}  {elapsed:.1f} s")
    return 1 if counts["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())

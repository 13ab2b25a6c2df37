"""`tf2torch translate --verify`: train the original and the translation the same way, compare losses.

Both scripts run in subprocesses (with a timeout), in a scratch working folder:
- the original, with keras.Model.fit wrapped: at each fit call the model's initial weights are
  converted (tf2torch convert) and saved, and every epoch trains on a batch order drawn from a seeded
  permutation (the data is permuted, then Keras trains that epoch with shuffle=False);
- the translation, with its `fit` function wrapped: the k-th fit call loads the k-th initial weights
  strictly, and torch.randperm (which the translated fit calls once per epoch) replays the same
  permutations.
Per-epoch losses are printed side by side with their maximum relative difference.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TOLERANCE = 1e-4
SEED = 1234


def permutation(n: int, call: int, epoch: int):
    import numpy as np

    return np.random.default_rng([SEED, call, epoch]).permutation(n)


# ------------------------------------------------------------------------------------------------
# inside the subprocesses
# ------------------------------------------------------------------------------------------------
def _run_keras(script: str, work: str) -> None:
    import keras
    import numpy as np

    from tf2torch.pipeline import convert

    original_fit = keras.Model.fit
    calls = []

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0, **kwargs):
        k = len(calls)
        state = convert(self, verify=False).state_dict
        from safetensors.torch import save_file

        save_file({name: t.contiguous() for name, t in state.items()}, os.path.join(work, f"initial_{k}.safetensors"))
        x, y = np.asarray(x), (None if y is None else np.asarray(y))
        weights = kwargs.pop("sample_weight", None)
        weights = None if weights is None else np.asarray(weights)
        if validation_split and validation_data is None:  # Keras: the last fraction, before shuffling
            cut = int(len(x) * (1 - validation_split))
            validation_data = (x[cut:], y[cut:])
            x, y = x[:cut], y[:cut]
            weights = None if weights is None else weights[:cut]
        losses = []
        history = None
        for epoch in range(initial_epoch, epochs):
            order = permutation(len(x), k, epoch) if shuffle else np.arange(len(x))
            if weights is not None:
                kwargs["sample_weight"] = weights[order]
            history = original_fit(self, x[order], None if y is None else y[order], batch_size=batch_size, epochs=epoch + 1,
                                   initial_epoch=epoch, verbose=0, callbacks=callbacks, validation_data=validation_data,
                                   shuffle=False, **kwargs)
            losses.append(float(history.history["loss"][-1]))
        calls.append(losses)
        with open(os.path.join(work, "keras_losses.json"), "w") as f:
            json.dump(calls, f)
        return history

    keras.Model.fit = fit
    _exec_script(script, lambda namespace: None)


def _run_torch(script: str, work: str) -> None:
    import numpy as np
    import torch
    from safetensors.torch import load_file

    calls: list[list[float]] = []
    current = {"call": -1, "epoch": 0}
    original_randperm = torch.randperm

    def randperm(n, *args, **kwargs):
        if current["call"] < 0:
            return original_randperm(n, *args, **kwargs)
        order = permutation(int(n), current["call"], current["epoch"])
        current["epoch"] += 1
        return torch.from_numpy(order)

    torch.randperm = randperm

    def wrap(namespace):
        fit = namespace.get("fit")
        if not callable(fit) or getattr(fit, "_tf2torch_wrapped", False):
            return

        def wrapped(*args, **kwargs):
            model = kwargs.get("model", args[0] if args else None)
            k = len(calls)
            model.load_state_dict(load_file(os.path.join(work, f"initial_{k}.safetensors")), strict=True)
            current.update(call=k, epoch=kwargs.get("initial_epoch", 0))
            history = fit(*args, **kwargs)
            current["call"] = -1
            record = history.history if hasattr(history, "history") else history
            calls.append([float(v) for v in record["loss"]])
            with open(os.path.join(work, "torch_losses.json"), "w") as f:
                json.dump(calls, f)
            return history

        wrapped._tf2torch_wrapped = True
        namespace["fit"] = wrapped

    _exec_script(script, wrap)
    del np


def _exec_script(script: str, after_statement) -> None:
    """Run a script as __main__ statement by statement, calling `after_statement(namespace)`."""
    import ast

    source = Path(script).read_text(encoding="utf-8")
    tree = ast.parse(source, script)
    namespace = {"__name__": "__main__", "__file__": script}
    sys.argv = [script]
    for stmt in tree.body:
        code = compile(ast.Module([stmt], type_ignores=[]), script, "exec")
        exec(code, namespace)  # the user asked for --verify: running their script is the point
        after_statement(namespace)


# ------------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------------
def verify_paths(results, timeout: float = 600) -> bool:
    ok = True
    for inp, target, translation in results:
        ok = verify_script(Path(inp), Path(target), timeout) and ok
    return ok


def verify_script(original: Path, translated: Path, timeout: float = 600, out=None) -> bool:
    out = out or sys.stdout  # looked up at call time: stdout may be redirected
    with tempfile.TemporaryDirectory(prefix="tf2torch-verify-") as work:
        for side, script in (("keras", original), ("torch", translated)):
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0", PYTHONHASHSEED="0")
            code = f"from tf2torch.translate import parity; parity._run_{side}({str(script.resolve())!r}, {work!r})"
            try:
                proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"{original}: --verify: the {side} run took longer than {timeout:g}s", file=out)
                return False
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                print(f"{original}: --verify: the {side} run failed: {last}", file=out)
                return False
        try:
            keras_calls = json.loads(Path(work, "keras_losses.json").read_text())
            torch_calls = json.loads(Path(work, "torch_losses.json").read_text())
        except FileNotFoundError:
            print(f"{original}: --verify: no fit call to compare (both scripts must call fit)", file=out)
            return False
    return report(original, keras_calls, torch_calls, out)


def report(name, keras_calls, torch_calls, out=None, tolerance: float = TOLERANCE) -> bool:
    out = out or sys.stdout
    if len(keras_calls) != len(torch_calls):
        print(f"{name}: --verify: {len(keras_calls)} fit call(s) in Keras, {len(torch_calls)} in the translation", file=out)
        return False
    worst = 0.0
    for k, (a, b) in enumerate(zip(keras_calls, torch_calls)):
        print(f"{name}: fit call {k + 1}: epoch  keras loss      torch loss      rel diff", file=out)
        for epoch, (ka, tb) in enumerate(zip(a, b)):
            rel = abs(ka - tb) / max(abs(ka), 1e-12)
            worst = max(worst, rel)
            print(f"  {epoch + 1:5d}  {ka:.8e}  {tb:.8e}  {rel:.2e}", file=out)
        if len(a) != len(b):
            print(f"  epochs differ: {len(a)} in Keras, {len(b)} in the translation", file=out)
            return False
    passed = worst <= tolerance
    print(f"{name}: max relative difference {worst:.2e} ({'within' if passed else 'ABOVE'} {tolerance:g})", file=out)
    return passed

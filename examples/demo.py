"""`make demo`: train the seed examples briefly, save them as .keras, convert with tf2torch, and
print the verification table. Outputs land in demo_out/<name>/ (model.py, weights, report)."""
from __future__ import annotations

import importlib.util
import shutil
import sys
import time
from pathlib import Path

from tf2torch.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "demo_out"
EXAMPLES = [("linear_regression", "mse", "sgd"), ("cnn", "sparse_categorical_crossentropy", "adam"),
            ("lstm", "categorical_crossentropy", "adam"), ("text_classifier", "sparse_categorical_crossentropy", "adam")]


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    import tf2torch
    from tf2torch.errors import Tf2TorchError

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    rows, errors = [], []
    for name, loss, optimizer in EXAMPLES:
        example = load_example(name)
        model = example.build_model()
        model.compile(optimizer=optimizer, loss=loss)
        model.fit(example.x_train, example.y_train, epochs=1, verbose=0)  # trained, not random, weights
        path = OUT / f"{name}.keras"
        model.save(path)
        start = time.perf_counter()
        try:
            conv = tf2torch.convert(path)
            conv.save(OUT / name)
            v = conv.report["verification"]
            params = sum(p.numel() for p in conv.module.parameters())
            rows.append((name, conv.class_name, params, f"{v['max_abs_error']:.2e}", f"{v['max_rel_error']:.2e}",
                         "yes" if v["passed"] else "NO", f"{time.perf_counter() - start:.1f}s"))
        except Tf2TorchError as exc:
            errors.append(f"{name}: {exc}")
            rows.append((name, "-", "-", "-", "-", "NO (see below)", f"{time.perf_counter() - start:.1f}s"))
    header = ("model", "class", "params", "max abs err", "max rel err", "verified", "time")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths)] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print(f"\ngenerated code: {OUT}/<model>/model.py")
    for e in errors:
        print(f"\nerror: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

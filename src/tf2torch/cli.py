"""tf2torch command line. Thin: parses arguments, calls the API, maps errors to exit codes.

Exit codes: 0 success; 1 conversion impossible, verification failed or bad input (one line per
problem); 2 usage error. No traceback unless --debug.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

EPILOG = """\
exit codes: 0 converted and verified, 1 conversion impossible / verification failed / bad input,
2 usage error.

examples:
  tf2torch convert model.keras -o out/           # out/model.py, out/weights.safetensors, out/report.json
  tf2torch convert legacy.h5 -o out/ --input-layout keras
  tf2torch translate train.py -o train_torch.py  # a TF/Keras script to a PyTorch script
  tf2torch support                               # list the supported Keras layers
"""


def _tolerance(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a relative error >= 0, got {text}")
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"expected a size between 1 and 100000, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tf2torch",
        description="Convert TensorFlow/Keras models to readable, standalone PyTorch, verified numerically against Keras.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("convert", help="convert a .keras or legacy Keras 2 .h5 model file",
                       description="Convert a Keras model file to OUT/model.py (imports only torch), "
                                   "OUT/weights.safetensors and OUT/report.json, then verify it against Keras.")
    c.add_argument("src", metavar="SRC", help="a .keras file or a legacy Keras 2 full-model .h5 file")
    c.add_argument("-o", "--output", metavar="OUT", required=True, help="output folder (must be empty or absent unless --force)")
    c.add_argument("--class-name", metavar="NAME", help="name of the generated nn.Module class (default: from the model name)")
    c.add_argument("--input-layout", choices=("torch", "keras"), default="torch",
                   help="torch (default): image/feature-map inputs and outputs are channels-first at the boundary; "
                        "keras: keep Keras' channels-last layout at the boundary (the body still runs channels-first)")
    c.add_argument("--no-verify", action="store_true", help="skip the numerical comparison with Keras")
    c.add_argument("--tolerance", type=_tolerance, default=None, metavar="REL",
                   help="max relative error allowed by verification (default 1e-4)")
    c.add_argument("--verify-size", type=_size, nargs="+", default=None, metavar="N",
                   help="sizes verification gives the input dims the model leaves unknown (None), one per sample "
                        "(default 11 8; a CNN with a dynamic image size needs sizes it accepts, e.g. 97 112)")
    c.add_argument("--fold-batchnorm", action="store_true",
                   help="inference only: fold each BatchNormalization that directly follows a convolution or Dense "
                        "into its weights (fewer layers, faster; the module no longer trains like the Keras model)")
    c.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    c.add_argument("--unsafe", action="store_true",
                   help="allow loading layers that carry Python code (Lambda); runs that code: only for files you trust")
    c.add_argument("--debug", action="store_true", help="show tracebacks")

    t = sub.add_parser("translate", help="translate a TensorFlow/Keras script (or a folder of them) to PyTorch",
                       description="Translate TensorFlow/Keras Python code to PyTorch code. The input is never executed "
                                   "(only --verify runs it, in a subprocess). What cannot be translated stays as it was "
                                   "under a '# TODO(tf2torch): why' comment, and is listed.")
    t.add_argument("src", metavar="IN", help="a .py file, or a folder (every .py file below it)")
    t.add_argument("-o", "--output", metavar="OUT", required=True, help="the output .py file (or folder, for a folder IN)")
    t.add_argument("--strict", action="store_true", help="exit 1 if any TODO remains")
    t.add_argument("--verify", action="store_true",
                   help="run the original and the translation with the same initial weights and batch order, "
                        "and compare their per-epoch losses (runs the input!)")
    t.add_argument("--timeout", type=float, default=600, metavar="S", help="time limit of each --verify run (default 600 s)")
    t.add_argument("--debug", action="store_true", help="show tracebacks")

    s = sub.add_parser("support", help="print the table of supported Keras layers and ops")
    s.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return p


def quiet_tensorflow() -> None:
    """Reproducible (oneDNN off) and quiet TensorFlow: call before anything imports it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # reproducible reference numbers
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import warnings

    warnings.filterwarnings("ignore")
    # TensorFlow's C++ runtime writes start-up noise straight to fd 2 (absl, CUDA stubs) whatever
    # the log level: import it with fd 2 pointed at /dev/null, then restore it.
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow

                tensorflow.get_logger().setLevel("ERROR")  # e.g. Keras' own tf.function retracing warnings
            except ImportError:
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _status(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _convert(args) -> int:
    from .errors import InputError, VerificationError
    from .pipeline import check_output, convert
    from .verify import DEFAULT_TOLERANCE

    start = time.perf_counter()
    check_output(args.output, args.force, args.src)  # before the slow part, checked again when writing
    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance  # 0 is a valid tolerance
    _status(f"tf2torch: {args.src}")
    try:
        conv = convert(args.src, input_layout=args.input_layout, verify=not args.no_verify,
                       class_name=args.class_name, unsafe=args.unsafe, tolerance=tolerance, dynamic_sizes=args.verify_size,
                       fold_batch_norm=args.fold_batchnorm,
                       progress=lambda message: _status(f"tf2torch: {message} ..."))
    except VerificationError as exc:  # nothing is written: an unverified model must be asked for
        print(f"error: {args.src}: {exc} (nothing written; --no-verify writes the unverified conversion)", file=sys.stderr)
        return 1
    try:
        out = conv.save(args.output, force=args.force)
    except OSError as exc:  # permissions, full disk: the user's problem, not a bug of ours
        raise InputError(f"{args.output}: cannot write the output ({exc.strerror or exc})") from None
    v = conv.report["verification"]
    checked = (f"verified: max abs error {v['max_abs_error']:.2e}, max rel error {v['max_rel_error']:.2e} "
               f"(tolerance {v['tolerance']:g}, {v['n_samples']} samples)") if v else "not verified (--no-verify)"
    print(f"{out}/model.py: class {conv.class_name}, {len(conv.report['layers'])} layer(s), {checked}")
    for w in conv.report["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    _status(f"tf2torch: done in {time.perf_counter() - start:.1f}s")
    return 0


def _translate(args) -> int:
    from .translate.files import translate_paths, write

    results = translate_paths(args.src, args.output)
    errors = [t.error for _, _, t in results if t.error]
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return 1
    write(results)
    todo_count = 0
    for inp, target, translation in results:
        print(f"{inp} -> {target}: {len(translation.notes)} translated, {len(translation.todos)} TODO")
        for note in translation.notes:
            print(f"  translated: {note}")
        for line, why in translation.todos:
            print(f"  {target}:{line}: TODO {why}" if line else f"  {target}: TODO {why}")
        todo_count += len(translation.todos)
    if args.verify:
        from .translate.parity import verify_paths

        if not verify_paths(results, timeout=args.timeout):
            return 1
    return 1 if (args.strict and todo_count) else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"tf2torch {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    quiet_tensorflow()
    from .errors import Tf2TorchError

    try:
        if args.command == "convert":
            return _convert(args)
        if args.command == "translate":
            return _translate(args)
        if args.command == "support":
            from .registry import support_table

            print(support_table(), end="")
            return 0
    except Tf2TorchError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: still one line, unless --debug
        if getattr(args, "debug", False):
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())

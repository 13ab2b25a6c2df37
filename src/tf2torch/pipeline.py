"""The public pipeline: load -> IR -> program -> source + weights -> module -> verification."""
from __future__ import annotations

import json
import linecache
import shutil
import tempfile
import types
from pathlib import Path

import torch

from . import fold, names
from . import verify as verifier
from .emit import emit, render
from .errors import InputError, VerificationError
from .frontend import load
from .program import build_program
from .weights import state_dict as build_state_dict

INPUT_LAYOUTS = ("torch", "keras")


class Conversion:
    """A converted model: `.source` (model.py), `.module` (weights loaded, eval mode), `.report`."""

    def __init__(self, source: str, class_name: str, state: dict, report: dict):
        self.source = source
        self.class_name = class_name
        self.state_dict = state
        self.report = report
        self.module = instantiate(source, class_name, state)

    def save(self, out, force: bool = False) -> Path:
        """Write model.py, weights.safetensors and report.json to `out`, atomically."""
        from safetensors.torch import save_file

        given = Path(out)
        out = check_output(given, force)  # resolved: `-o .` has no name to rename
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            (tmp / "model.py").write_text(self.source, encoding="utf-8")
            save_file({k: v.contiguous() for k, v in self.state_dict.items()}, str(tmp / "weights.safetensors"))
            (tmp / "report.json").write_text(json.dumps(self.report, indent=2, default=_json_default) + "\n", encoding="utf-8")
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
                old.rmdir()
                out.rename(old)
                try:
                    tmp.rename(out)
                except BaseException:
                    old.rename(out)  # put the user's folder back
                    raise
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
            else:
                tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return given


def check_output(out, force: bool = False, source=None) -> Path:
    """The resolved output folder; refuses one that exists and is not an empty folder (unless
    `force`), and one that holds the model file being converted (even with `force`)."""
    resolved = Path(out).resolve()
    if isinstance(source, (str, Path)):
        src = Path(source).resolve()
        if src == resolved or resolved in src.parents:
            raise InputError(f"{out}: holds the model being converted ({source}); choose another output folder")
    if resolved.exists() and (not resolved.is_dir() or any(resolved.iterdir())) and not force:
        raise InputError(f"{out}: exists and is not empty (use --force to replace it)")
    return resolved


def instantiate(source: str, class_name: str, state: dict) -> torch.nn.Module:
    """Build the generated class from its source and load the weights strictly."""
    filename = f"<tf2torch:{class_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = types.ModuleType(f"tf2torch_generated_{class_name}")
    exec(compile(source, filename, "exec"), namespace.__dict__)  # our own emitted code, names sanitised
    cls = getattr(namespace, class_name)
    # built on the meta device, the weights then assigned: no random initialisation to compute and
    # throw away, no second copy of the weights (the module's tensors are those of `state`)
    with torch.device("meta"):
        module = cls()
    expected = module.state_dict()
    wrong = [k for k, v in state.items() if k in expected and tuple(expected[k].shape) != tuple(v.shape)]
    if wrong:  # a file whose weights do not fit its own config (edited or corrupt)
        k = wrong[0]
        raise InputError(f"the model's weights do not match its configuration: {k} has shape {tuple(state[k].shape)}, "
                         f"its layer needs {tuple(expected[k].shape)}" + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""))
    module.load_state_dict(state, strict=True, assign=True)
    if any(t.is_meta for t in (*module.parameters(), *module.buffers())):  # a tensor the state does not hold
        module = cls()
        module.load_state_dict(state, strict=True)
    return module.eval()


def convert(model_or_path, *, input_layout: str = "torch", verify: bool = True, class_name: str | None = None,
            unsafe: bool = False, tolerance: float = verifier.DEFAULT_TOLERANCE, progress=None,
            dynamic_sizes=None, fold_batch_norm: bool = False) -> Conversion:
    """Convert a Keras model (live object, .keras or legacy .h5 path) to PyTorch.

    Raises ConversionError (listing every unsupported layer), InputError, or VerificationError
    (with `.conversion` attached) when the result does not match Keras within `tolerance`.
    `progress`, if given, is called with a short message at each stage. `dynamic_sizes`: the
    sizes verification gives the input dims Keras leaves unknown, one per sample (default
    verify.DYNAMIC_DIMS, small: give sizes the architecture accepts, e.g. (97, 112) for a CNN).
    `fold_batch_norm`: inference only, fold each BatchNormalization that directly follows a
    convolution or Dense into its weights (fold.py); the report lists them.
    """
    say = progress or (lambda message: None)
    if input_layout not in INPUT_LAYOUTS:
        raise InputError(f"Invalid value for input_layout. Expected one of {INPUT_LAYOUTS}. Received: {input_layout!r}")
    say("loading the model")
    loaded = load(model_or_path, unsafe=unsafe)
    graph = loaded.graph
    folded = fold.fold_batch_norm(graph) if fold_batch_norm else []
    say(f"converting {len(graph.nodes)} layer calls")
    name = class_name or names.class_identifier(graph.name)  # build_program refuses an unsafe one
    program = build_program(graph, name, input_layout)
    source = emit(program)
    state = build_state_dict(program)
    report = _report(program, source)
    report["folded_batch_norm"] = folded
    try:
        conversion = Conversion(source, name, state, report)
    except InputError as exc:  # the file's weights do not fit its config
        raise InputError(f"{model_or_path}: {exc}" if isinstance(model_or_path, (str, Path)) else str(exc)) from None
    if verify:
        say("verifying against Keras")
        try:
            sizes = tuple(dynamic_sizes or verifier.DYNAMIC_DIMS)
            result = verifier.verify(conversion.module, loaded.reference, _specs(report["inputs"]), _specs(report["outputs"]),
                                     tolerance, n_samples=max(2, len(sizes)), dynamic_dims=sizes)
        except Exception as exc:  # Keras (or torch) cannot run the model on the verification inputs
            hint = ""
            if any(d is None for e in report["inputs"] for d in e["keras_shape"][1:]):
                hint = (f" (the unknown input dims were given sizes {', '.join(map(str, sizes))}: "
                        "give sizes the model accepts with --verify-size / dynamic_sizes=)")
            raise VerificationError(f"verification could not run: {type(exc).__name__}: {_first_line(exc)}{hint}",
                                    conversion) from exc
        report["verification"] = {k: result[k] for k in ("max_abs_error", "max_rel_error", "tolerance", "passed", "n_samples")}
        report["verification"]["outputs"] = result["outputs"]
        report["warnings"] += result["warnings"]
        if not result["passed"]:
            why = "; ".join(result["problems"]) or f"max relative error {result['max_rel_error']:.3g} > tolerance {tolerance:g}"
            raise VerificationError(f"verification failed: {why}", conversion)
    return conversion


def _specs(entries) -> list[verifier.Spec]:
    return [verifier.Spec(e["name"], tuple(e["keras_shape"]), e["dtype"], tuple(e["permutation"]), e.get("value_range"), e.get("padding")) for e in entries]


def _report(program, source: str) -> dict:
    def boundary(b):
        entry = {"name": b.name, "keras_shape": list(b.keras_shape), "torch_shape": list(b.layout.torch_shape(b.keras_shape)),
                 "dtype": b.dtype, "permutation": list(b.layout.perm)}
        if b.value_range is not None:
            entry["value_range"] = list(b.value_range)
        if b.padding is not None:
            entry["padding"] = b.padding
        return entry

    ctor = {sm.attr: render(sm.ctor) for sm in program.submodules}
    forward = source.split("def forward(", 1)[-1]
    layers = []
    for rec in program.layer_records:
        became = [f"self.{m} = {ctor[m]}" for m in rec["modules"] if m in ctor]
        became = became or ([rec["description"]] if rec["description"] else [render(e) for e in rec["expressions"]])
        layers.append({"name": rec["name"], "class": rec["class"], "torch": became})
    return {
        "class_name": program.class_name,
        "model_name": program.model_name,
        "inputs": [boundary(b) for b in program.inputs],
        "outputs": [boundary(b) for b in program.outputs],
        "verification": None,
        "layers": layers,
        "permutes_in_forward": sum(forward.count(f".{op}(") for op in ("permute", "transpose", "movedim")),
        "warnings": program.warnings,
    }


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)

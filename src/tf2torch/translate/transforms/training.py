"""Keras training code -> explicit PyTorch with Keras' semantics written out.

- `model.compile(optimizer=..., loss=..., metrics=...)` becomes the objects themselves, Keras'
  defaults spelled out: `optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # Keras 'sgd'`,
  `loss_fn = SparseCategoricalCrossentropy(from_logits=False)`, `metrics = [...]`. torch.optim is
  used where its update is Keras' own (SGD without momentum, Adadelta, NAdam); otherwise a small
  Keras-exact optimizer of translate/runtime/optimizers.py (Adam's epsilon-hat, RMSprop's epsilon
  inside the sqrt, SGD's lr-scaled velocity, per-tensor clipnorm, decoupled weight decay, schedules).
- `model.fit/evaluate/predict(...)` become calls of the runtime loops `fit(model, x, y, loss_fn,
  optimizer, ...)` (batch 32, reshuffle each epoch, ... written out at the call).
- Keras losses, metrics, callbacks and learning-rate schedules become the runtime classes of the
  same name and arguments; `model.save/save_weights/load_weights` -> state_dict with torch.save/load.

Which `.fit`/`.evaluate`/`.predict` calls are Keras' (conservative): the receiver is a model the
models transform converted, a variable `.compile(...)`d with Keras arguments, or bound to a keras.*
call; or the call has Keras-only keywords (epochs=, validation_data=, ...) and the receiver is not
bound to another library's object (`clf = RandomForestClassifier(); clf.fit(X, y)` stays as is).

Where compile and fit share a scope (the module, or one function), compile's objects are local
variables; a compile inside a function that returns the model instead stores them on the model
(`model.optimizer`, `model.loss_fn`, `model.metrics`) so that the caller's fit finds them.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import PositionProvider, QualifiedNameProvider

from ... import inline
from .. import runtime as runtime_package
from ..base import Transform
from ..qualnames import is_tensorflow

NOT_LITERAL = object()

FIT_PARAMS = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
              "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
              "validation_batch_size", "validation_freq", "max_queue_size", "workers", "use_multiprocessing"]
EVALUATE_PARAMS = ["x", "y", "batch_size", "verbose", "sample_weight", "steps", "callbacks", "max_queue_size", "workers",
                   "use_multiprocessing", "return_dict"]
PREDICT_PARAMS = ["x", "batch_size", "verbose", "steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing"]
ON_BATCH_PARAMS = {"train_on_batch": ["x", "y", "sample_weight", "class_weight", "reset_metrics", "return_dict"],
                   "test_on_batch": ["x", "y", "sample_weight", "reset_metrics", "return_dict"],
                   "predict_on_batch": ["x"]}
LOADING_ONLY = {"max_queue_size", "workers", "use_multiprocessing"}  # tf.keras generator loading: no effect on results
KERAS_ONLY_KEYWORDS = {"fit": {"epochs", "validation_split", "validation_data", "callbacks", "initial_epoch", "steps_per_epoch",
                               "validation_steps", "validation_batch_size", "validation_freq"},
                       "evaluate": {"return_dict", "steps", "callbacks"},
                       "predict": {"steps", "callbacks", "batch_size", "verbose"},
                       "train_on_batch": set(), "test_on_batch": set(), "predict_on_batch": set()}

# ---- optimizers (keras/src/optimizers/*.py: constructor order and defaults) -----------------------------
OPTIMIZER_ARGS = {
    "SGD": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "Adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "AdamW": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "RMSprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
    "Adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "Adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "Nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Lion": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99},
}
OPTIMIZER_COMMON = ["weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "ema_momentum",
                    "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps", "name"]
OPTIMIZER_EXTRAS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")  # handled by the Keras* classes
OPTIMIZER_UNSUPPORTED = {"use_ema": False, "loss_scale_factor": None, "gradient_accumulation_steps": None, "decay": 0.0}
OPTIMIZER_STRINGS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                     "adadelta": "Adadelta", "nadam": "Nadam", "adamax": "Adamax", "lion": "Lion"}
KERAS_OPTIMIZER_CLASS = {"SGD": "KerasSGD", "Adam": "KerasAdam", "AdamW": "KerasAdam", "RMSprop": "KerasRMSprop",
                         "Adagrad": "KerasAdagrad", "Adadelta": "KerasAdadelta", "Nadam": "KerasNadam", "Adamax": "KerasAdamax",
                         "Lion": "KerasLion"}

# ---- losses (keras/src/losses/losses.py) -----------------------------------------------------------------
LOSS_CLASSES = {  # Keras class -> its constructor arguments in order (runtime class of the same name)
    "MeanSquaredError": [], "MeanAbsoluteError": [], "MeanAbsolutePercentageError": [], "MeanSquaredLogarithmicError": [],
    "Huber": ["delta"], "LogCosh": [], "KLDivergence": [], "Poisson": [], "CosineSimilarity": ["axis"], "Hinge": [],
    "SquaredHinge": [], "CategoricalHinge": [], "BinaryCrossentropy": ["from_logits", "label_smoothing", "axis"],
    "CategoricalCrossentropy": ["from_logits", "label_smoothing", "axis"],
    "SparseCategoricalCrossentropy": ["from_logits", "ignore_class"],
}
LOSS_ALIASES = {"KLD": "KLDivergence", "KLDivergence": "KLDivergence", "LogCosh": "LogCosh"}
LOSS_FUNCTIONS = {  # string identifiers and keras.losses functions -> class
    "mean_squared_error": "MeanSquaredError", "mse": "MeanSquaredError", "MSE": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError", "mae": "MeanAbsoluteError", "MAE": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError", "mape": "MeanAbsolutePercentageError",
    "MAPE": "MeanAbsolutePercentageError", "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "msle": "MeanSquaredLogarithmicError", "MSLE": "MeanSquaredLogarithmicError", "huber": "Huber", "huber_loss": "Huber",
    "log_cosh": "LogCosh", "logcosh": "LogCosh", "kl_divergence": "KLDivergence", "kld": "KLDivergence",
    "KLD": "KLDivergence", "kullback_leibler_divergence": "KLDivergence", "poisson": "Poisson",
    "cosine_similarity": "CosineSimilarity", "hinge": "Hinge", "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge", "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy", "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}
CROSSENTROPIES = {"BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"}

# ---- metrics (keras/src/metrics/) ------------------------------------------------------------------------
METRIC_CLASSES = {  # Keras class -> (runtime class, its constructor arguments in order)
    "Accuracy": ["name"], "BinaryAccuracy": ["name", "threshold"], "CategoricalAccuracy": ["name"],
    "SparseCategoricalAccuracy": ["name"], "TopKCategoricalAccuracy": ["k", "name"],
    "SparseTopKCategoricalAccuracy": ["k", "name"], "RootMeanSquaredError": ["name"], "Mean": ["name"],
    "Precision": ["thresholds", "top_k", "class_id", "name"], "Recall": ["thresholds", "top_k", "class_id", "name"],
    "AUC": ["num_thresholds", "curve", "summation_method", "name", "dtype", "thresholds", "multi_label", "num_labels",
            "label_weights", "from_logits"],
}
METRIC_LOSS_CLASSES = {  # keras.metrics classes that average a loss function
    "MeanSquaredError": ("MeanSquaredError", "mean_squared_error"),
    "MeanAbsoluteError": ("MeanAbsoluteError", "mean_absolute_error"),
    "MeanAbsolutePercentageError": ("MeanAbsolutePercentageError", "mean_absolute_percentage_error"),
    "MeanSquaredLogarithmicError": ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error"),
    "KLDivergence": ("KLDivergence", "kl_divergence"), "Poisson": ("Poisson", "poisson"), "Hinge": ("Hinge", "hinge"),
    "SquaredHinge": ("SquaredHinge", "squared_hinge"), "CategoricalHinge": ("CategoricalHinge", "categorical_hinge"),
    "LogCoshError": ("LogCosh", "logcosh"), "BinaryCrossentropy": ("BinaryCrossentropy", "binary_crossentropy"),
    "CategoricalCrossentropy": ("CategoricalCrossentropy", "categorical_crossentropy"),
    "SparseCategoricalCrossentropy": ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"),
}
METRIC_STRINGS = {"binary_accuracy": "BinaryAccuracy", "categorical_accuracy": "CategoricalAccuracy",
                  "sparse_categorical_accuracy": "SparseCategoricalAccuracy",
                  "top_k_categorical_accuracy": "TopKCategoricalAccuracy",
                  "sparse_top_k_categorical_accuracy": "SparseTopKCategoricalAccuracy"}

# ---- callbacks and schedules (same names and arguments in the runtime) -------------------------------------
CALLBACKS = {
    "EarlyStopping": ["monitor", "min_delta", "patience", "verbose", "mode", "baseline", "restore_best_weights",
                      "start_from_epoch"],
    "ModelCheckpoint": ["filepath", "monitor", "verbose", "save_best_only", "save_weights_only", "mode", "save_freq",
                        "initial_value_threshold"],
    "ReduceLROnPlateau": ["monitor", "factor", "patience", "verbose", "mode", "min_delta", "cooldown", "min_lr"],
    "LearningRateScheduler": ["schedule", "verbose"], "CSVLogger": ["filename", "separator", "append"],
    "TerminateOnNaN": [], "History": [],
    "LambdaCallback": ["on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
                       "on_train_batch_end"],
}
CALLBACK_UNSUPPORTED = {
    "TensorBoard": "TensorBoard logging is not translated (torch.utils.tensorboard.SummaryWriter can log the history)",
    "BackupAndRestore": "BackupAndRestore (resuming an interrupted fit) is not translated",
    "ProgbarLogger": "ProgbarLogger is not translated (fit prints one line per epoch)",
    "RemoteMonitor": "RemoteMonitor is not translated", "SwapEMAWeights": "SwapEMAWeights (EMA) is not translated",
}
SCHEDULES = {
    "ExponentialDecay": ["initial_learning_rate", "decay_steps", "decay_rate", "staircase"],
    "PiecewiseConstantDecay": ["boundaries", "values"],
    "PolynomialDecay": ["initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle"],
    "InverseTimeDecay": ["initial_learning_rate", "decay_steps", "decay_rate", "staircase"],
    "CosineDecay": ["initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps"],
    "CosineDecayRestarts": ["initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha"],
}
IMPORT_OF_NAME = {"np": "import numpy as np", "torch": "import torch", "F": "import torch.nn.functional as F",
                  "nn": "from torch import nn", "math": "import math", "time": "import time", "itertools": "import itertools",
                  "copy": "import copy", "csv": "import csv", "os": "import os"}


class Untranslatable(Exception):
    """Why a Keras construct stays as it is (becomes the TODO text)."""


# ----------------------------------------------------------------------------------------------------------
# small builders
# ----------------------------------------------------------------------------------------------------------
def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def literal(node):
    """The Python value of a literal expression, or NOT_LITERAL."""
    if node is None:
        return NOT_LITERAL
    try:
        return ast.literal_eval(code_of(node).strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return NOT_LITERAL


def value_node(value) -> cst.BaseExpression:
    """A cst expression for a Python literal (or a cst node as is); strings in double quotes."""
    if isinstance(value, cst.CSTNode):
        return value
    if isinstance(value, str):
        return cst.SimpleString(json.dumps(value))
    if isinstance(value, float):
        return cst.parse_expression(re.sub(r"e-0(\d)$", r"e-\1", repr(value)))  # 1e-07 -> 1e-7
    return cst.parse_expression(repr(value))


def same_quotes(original, value: str) -> cst.BaseExpression:
    """A string literal for `value`, quoted like the `original` literal."""
    if isinstance(original, cst.SimpleString) and original.value.startswith("'"):
        return cst.SimpleString(repr(value))
    return value_node(value)


def rename_call(call: cst.Call, name: str, params: list[str], drop=(), replace=None) -> cst.Call:
    """`call` with another callee, its arguments kept as written except those dropped or replaced."""
    args = []
    for i, arg in enumerate(call.args):
        param = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else None)
        if param in drop:
            continue
        if param in (replace or {}):
            arg = arg.with_changes(value=value_node(replace[param]))
        args.append(arg)
    if args:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(func=dotted(name), args=args)


def dotted(name: str) -> cst.BaseExpression:
    return cst.parse_expression(name)


def make_call(func: str, args=(), kwargs=None) -> cst.Call:
    items = [cst.Arg(value_node(a)) for a in args]
    no_space = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    items += [cst.Arg(value_node(v), keyword=cst.Name(k), equal=no_space) for k, v in (kwargs or {}).items()]
    return cst.Call(dotted(func), items)


def assign(target: str, value: cst.BaseExpression, comment: str | None = None) -> cst.SimpleStatementLine:
    trailing = cst.TrailingWhitespace()
    if comment:
        trailing = cst.TrailingWhitespace(cst.SimpleWhitespace("  "), cst.Comment("# " + " ".join(comment.split())))
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(dotted(target))], value)], trailing_whitespace=trailing)


def bind_args(call: cst.Call, params: list[str], aliases=None) -> dict[str, cst.BaseExpression]:
    """Keyword -> argument node for a call, positionals mapped through `params`."""
    out: dict[str, cst.BaseExpression] = {}
    for i, arg in enumerate(call.args):
        if arg.star:
            raise Untranslatable("*args/**kwargs in the call")
        if arg.keyword is None:
            if i >= len(params):
                raise Untranslatable(f"too many positional arguments ({code_of(call)})")
            out[params[i]] = arg.value
        else:
            key = arg.keyword.value
            out[(aliases or {}).get(key, key)] = arg.value
    return out


def metric_kwargs(names: dict) -> dict:
    """The metrics/weighted_metrics arguments fit and evaluate pass on, when compile had them."""
    kwargs = {}
    if names.get("has_metrics"):
        kwargs["metrics"] = dotted(names["metrics"])
    if names.get("has_weighted_metrics"):
        kwargs["weighted_metrics"] = dotted(names["weighted_metrics"])
    return kwargs


def receiver_code(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, (cst.Name, cst.Attribute)):
        text = code_of(func.value)
        return text if re.fullmatch(r"[A-Za-z_][\w.]*", text) else None
    return None


def base_name(receiver: str) -> str:
    return receiver.rsplit(".", 1)[-1]


def names_prefix(receiver: str) -> str:
    base = base_name(receiver)
    return "" if base == "model" else f"{base}_"


def literal_or(value):
    return literal(value) if isinstance(value, cst.CSTNode) else value


def loss_kind(loss_class: str | None) -> str | None:
    """Which accuracy compile(metrics=["accuracy"]) means with this loss (from the targets' shape)."""
    return {"SparseCategoricalCrossentropy": "sparse", "CategoricalCrossentropy": "categorical"}.get(loss_class)


def pt_path(path):
    """A Keras file name for torch weights: .keras / .h5 / .weights.h5 -> .pt (placeholders kept)."""
    for suffix in (".weights.h5", ".keras", ".h5", ".hdf5"):
        if path.endswith(suffix):
            return path[: -len(suffix)] + (".weights.pt" if suffix == ".weights.h5" else ".pt")
    return path


# ----------------------------------------------------------------------------------------------------------
# what the script says, before rewriting
# ----------------------------------------------------------------------------------------------------------
@dataclass
class CompileSite:
    receiver: str
    scope: tuple  # ids of the enclosing function definitions
    statement: cst.CSTNode
    call: cst.Call
    attribute_style: bool = False
    names: dict = field(default_factory=dict)  # optimizer / loss_fn / metrics / weighted_metrics -> expression code
    ok: bool = True
    moved: int | None = None  # id of the `opt = keras.optimizers.X(...)` statement built at this compile


@dataclass
class Facts:
    compiles: list = field(default_factory=list)  # CompileSite
    keras_models: set = field(default_factory=set)  # receivers known to be Keras models
    unconverted: set = field(default_factory=set)  # names still bound to Keras models (the models step kept them)
    foreign: set = field(default_factory=set)  # names bound to calls of other libraries
    trained_in: set = field(default_factory=set)  # (scope, receiver) with fit/evaluate/... calls
    bindings: dict = field(default_factory=dict)  # name -> [(scope, value node, statement)]
    loads: dict = field(default_factory=dict)  # name -> number of reads
    bound: set = field(default_factory=set)  # every name bound anywhere
    module_bound: set = field(default_factory=set)  # names bound at module level (globals)
    defs: set = field(default_factory=set)  # names of functions defined in the script
    returns: dict = field(default_factory=dict)  # function name -> names it returns
    saved: list = field(default_factory=list)  # literal paths the script saves weights to
    applied: dict = field(default_factory=dict)  # optimizer name -> variables expression of apply_gradients


class Collector(cst.CSTVisitor):
    def __init__(self, transform: "TranslateTraining"):
        self.t = transform
        self.facts = Facts()
        self.scope: list = []
        self.classes: list = []
        self.statement = None
        self.not_loads: set = set()  # ids of Name nodes that are not reads (attributes, keywords, targets)

    def visit_Attribute(self, node) -> None:
        self.not_loads.add(id(node.attr))

    def visit_Arg(self, node) -> None:
        if node.keyword is not None:
            self.not_loads.add(id(node.keyword))

    def visit_AssignTarget(self, node) -> None:
        if isinstance(node.target, cst.Name):
            self.not_loads.add(id(node.target))

    def visit_FunctionDef(self, node) -> None:
        self.facts.defs.add(node.name.value)
        self.facts.bound.add(node.name.value)
        if not self.scope and not self.classes:
            self.facts.module_bound.add(node.name.value)
        for param in node.params.params:
            self.facts.bound.add(param.name.value)
        self.scope.append(node)

    def leave_FunctionDef(self, node) -> None:
        self.scope.pop()

    def visit_SimpleStatementLine(self, node) -> None:
        self.statement = node

    def visit_Return(self, node) -> None:
        if self.scope and isinstance(node.value, cst.Name):
            self.facts.returns.setdefault(self.scope[-1].name.value, set()).add(node.value.value)
        elif self.scope and isinstance(node.value, cst.Call) and (self.t.qualname(node.value) or "").startswith("keras."):
            self.facts.returns.setdefault(self.scope[-1].name.value, set()).add("<keras>")

    def visit_ClassDef(self, node) -> None:
        if not self.scope and not self.classes:
            self.facts.module_bound.add(node.name.value)
        self.classes.append(node)

    def leave_ClassDef(self, node) -> None:
        self.classes.pop()

    def visit_Assign(self, node) -> None:
        for target in node.targets:
            for name in target_names(target.target):
                self.facts.bound.add(name)
                if not self.scope and not self.classes:
                    self.facts.module_bound.add(name)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            self.facts.bindings.setdefault(name, []).append((tuple(id(s) for s in self.scope), node.value, self.statement))
            if isinstance(node.value, cst.Call):
                qualified = self.t.qualname(node.value)
                if qualified and is_tensorflow(qualified) and qualified.split(".")[-1] in (
                        "Sequential", "Model", "load_model", "clone_model") or (qualified or "").startswith("keras.applications."):
                    self.facts.keras_models.add(name)
                    self.facts.unconverted.add(name)
                elif qualified and "." in qualified and not is_tensorflow(qualified) and not qualified.startswith("builtins."):
                    self.facts.foreign.add(name)

    def visit_Import(self, node) -> None:
        for alias in node.names:
            self.facts.bound.add(code_of(alias.asname.name if alias.asname else alias.name).split(".")[0])

    def visit_ImportFrom(self, node) -> None:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                self.facts.bound.add(code_of(alias.asname.name if alias.asname else alias.name))

    def visit_AnnAssign(self, node) -> None:
        self.facts.bound.update(target_names(node.target))

    def visit_For(self, node) -> None:
        self.facts.bound.update(target_names(node.target))

    def visit_Name(self, node) -> None:
        if id(node) not in self.not_loads:
            self.facts.loads[node.value] = self.facts.loads.get(node.value, 0) + 1

    def visit_Call(self, node) -> None:
        receiver = receiver_code(node)
        if receiver is None:
            return
        method = node.func.attr.value
        scope = tuple(id(s) for s in self.scope)
        if method == "compile" and is_keras_compile(node) and isinstance(self.statement, cst.SimpleStatementLine) \
                and len(self.statement.body) == 1 and isinstance(self.statement.body[0], cst.Expr) \
                and self.statement.body[0].value is node:
            self.facts.compiles.append(CompileSite(receiver, scope, self.statement, node))
            self.facts.keras_models.add(receiver)
        elif method in ("fit", "evaluate", "train_on_batch", "test_on_batch", "fit_generator", "evaluate_generator"):
            self.facts.trained_in.add((scope, receiver))
        elif method in ("save", "save_weights") and node.args and isinstance(literal(node.args[0].value), str):
            self.facts.saved.append(pt_path(literal(node.args[0].value)))
        elif method == "apply_gradients" and len(node.args) == 1 and isinstance(node.args[0].value, cst.Call) \
                and code_of(node.args[0].value.func) == "zip" and len(node.args[0].value.args) == 2:
            self.facts.applied[receiver] = node.args[0].value.args[1].value

    def leave_Call(self, node) -> None:  # ModelCheckpoint("ckpt/{epoch}.weights.h5") saves weights too
        if (self.t.qualname(node) or "") == "keras.callbacks.ModelCheckpoint" and node.args:
            path = literal(node.args[0].value)
            if isinstance(path, str):
                self.facts.saved.append(pt_path(path))


def walk(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from walk(child)


def target_names(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in target_names(e.value)]
    return []


def is_keras_compile(call: cst.Call) -> bool:
    """A Keras compile (torch's nn.Module.compile takes torch.compile's arguments, never these)."""
    keywords = {a.keyword.value for a in call.args if a.keyword is not None}
    if keywords & {"optimizer", "loss", "metrics", "loss_weights", "weighted_metrics"}:
        return True
    first = call.args[0].value if call.args and call.args[0].keyword is None else None
    return isinstance(literal(first), str) and literal(first).lower() in OPTIMIZER_STRINGS


# ----------------------------------------------------------------------------------------------------------
# the transformation
# ----------------------------------------------------------------------------------------------------------
class TranslateTraining(Transform):
    DESCRIPTION = "compile / fit / evaluate / predict, optimizers, losses, metrics, callbacks, save/load -> PyTorch"
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def visit_Module(self, node: cst.Module) -> bool:
        collector = Collector(self)
        node.visit(collector)
        self.facts = facts = collector.facts
        facts.keras_models |= set(self.state.models)
        self.scope: list = []
        self.callback_classes: list = []  # per enclosing class: is it a keras.callbacks.Callback subclass?
        self.names_of: dict = {}  # (scope, receiver) -> names of a local-style compile
        self.local_names: set = set()  # expressions naming compiled optimizers
        self.removed: set = set()  # ids of statements moved into a compile
        self.attribute_compiled: dict = {}  # receiver -> CompileSite stored on the model
        self.in_compile: set = set()  # calls inside compile(...): the compile translation builds them
        self.quiet = False
        for site in facts.compiles:
            self.plan_compile(site)
            self.in_compile |= {id(n) for n in walk(site.call) if isinstance(n, cst.Call) and n is not site.call}
        for site in facts.compiles:  # an optimizer moved into a compile that stays Keras must stay where it was
            if site.moved is not None and not self.translates(site):
                self.removed.discard(site.moved)
        returned = {fn for fn, names in facts.returns.items() if names & (set(self.attribute_compiled) | {"<keras>"})}
        for name, binds in facts.bindings.items():
            for _, value, _ in binds:
                if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in returned:
                    facts.keras_models.add(name)
                    if "<keras>" in facts.returns[value.func.value] and name not in self.state.models:
                        facts.unconverted.add(name)
                    sites = [self.attribute_compiled[r] for r in facts.returns[value.func.value] if r in self.attribute_compiled]
                    if sites:
                        self.attribute_compiled.setdefault(name, sites[0])
        return True

    # ---- scopes ------------------------------------------------------------------------------------------
    def visit_FunctionDef(self, node) -> None:
        self.scope.append(node)

    def leave_FunctionDef(self, original_node, updated_node):
        self.scope.pop()
        return updated_node

    def current_scope(self) -> tuple:
        return tuple(id(s) for s in self.scope)

    def todo(self, why: str) -> None:
        if not self.quiet:
            super().todo(why)

    def translates(self, site: CompileSite) -> bool:
        """Whether the compile translates (a dry run: nothing is recorded)."""
        saved = set(self.state.runtime), set(self.state.imports), list(self.state.notes), list(self.state.todos)
        self.quiet = True
        try:
            self.compile_statements(site)
            return site.receiver not in self.facts.unconverted
        except Untranslatable:
            return False
        finally:
            self.quiet = False
            self.state.runtime, self.state.imports, self.state.notes, self.state.todos = saved

    # ---- runtime entries and imports ---------------------------------------------------------------------
    def use(self, *names: str) -> None:
        self.state.use(*names)
        used, defined = set(), set()
        for source in inline.sources(names, runtime_package):
            tree = ast.parse(source)
            defined.add(tree.body[0].name)
            used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        self.state.need(*(line for name, line in IMPORT_OF_NAME.items() if name in used))
        for name in sorted(defined & self.facts.module_bound):
            self.todo(f"the script binds `{name}`, a name the inlined training code also defines: rename the script's")

    def unique(self, candidate: str, taken=()) -> str:
        name, k = candidate, 1
        while name in self.facts.bound or name in taken:
            k += 1
            name = f"{candidate}_{k}"
        self.facts.bound.add(name)
        return name

    # ---- compile -----------------------------------------------------------------------------------------
    def plan_compile(self, site: CompileSite) -> None:
        receiver, facts = site.receiver, self.facts
        site.attribute_style = bool(site.scope) and (site.scope, receiver) not in facts.trained_in
        args = {a.keyword.value: a.value for a in site.call.args if a.keyword is not None}
        if site.call.args and site.call.args[0].keyword is None:
            args.setdefault("optimizer", site.call.args[0].value)
        given = {f"has_{key}": True for key in ("metrics", "weighted_metrics") if key in args and literal(args[key]) is not None}
        if site.attribute_style:
            site.names = {k: f"{receiver}.{k}" for k in ("optimizer", "loss_fn", "metrics", "weighted_metrics")}
            site.names.update(given)
            self.attribute_compiled[receiver] = site
            return
        key = (site.scope, receiver)
        if key in self.names_of:
            site.names = {**self.names_of[key], **given}
            return
        prefix = names_prefix(receiver)
        names = {}
        optimizer = args.get("optimizer")
        binding = self.keras_binding(optimizer, "keras.optimizers.")
        if binding is not None and binding[0] == site.scope and self.move_optimizer(optimizer.value, binding):
            names["optimizer"] = optimizer.value
            site.moved = id(binding[2])
        else:
            names["optimizer"] = self.unique(prefix + "optimizer")
        loss = args.get("loss")
        if isinstance(loss, cst.Name) and self.keras_binding(loss, "keras.losses.") is not None:
            names["loss_fn"] = loss.value
        else:
            names["loss_fn"] = self.unique(prefix + "loss_fn")
        names["metrics"] = self.unique(prefix + "metrics")
        names["weighted_metrics"] = self.unique(prefix + "weighted_metrics")
        self.names_of[key] = names
        site.names = {**names, **given}
        self.local_names.add(names["optimizer"])

    def keras_binding(self, node, prefix: str):
        """(scope, call) if `node` is a Name bound once, to a call of a keras.* class under `prefix`."""
        if not isinstance(node, cst.Name):
            return None
        binds = self.facts.bindings.get(node.value, [])
        if len(binds) != 1:
            return None
        scope, value, statement = binds[0]
        if isinstance(value, cst.Call) and (self.qualname(value) or "").startswith(prefix):
            return scope, value, statement
        return None

    def compile_statements(self, site: CompileSite) -> list:
        receiver, names = site.receiver, site.names
        args = bind_args(site.call, ["optimizer", "loss"])
        unknown = set(args) - {"optimizer", "loss", "metrics", "weighted_metrics", "run_eagerly", "steps_per_execution",
                               "jit_compile", "auto_scale_loss"}
        if unknown:
            raise Untranslatable(f"compile({', '.join(sorted(unknown))}=...) is not translated")
        statements = []
        optimizer = args.get("optimizer", cst.SimpleString('"rmsprop"'))  # Keras' default optimizer
        binding = self.keras_binding(optimizer, "keras.optimizers.")
        if binding is not None:
            optimizer = binding[1]
        expr, comment = self.optimizer_expr(optimizer, f"{receiver}.parameters()")
        statements.append(assign(names["optimizer"], expr, comment))
        if "loss" not in args or literal(args["loss"]) is None:
            raise Untranslatable("compile() without a loss: fit needs one")
        loss, comment, kind = self.loss_expr(args["loss"], receiver)
        if loss is not None:
            statements.append(assign(names["loss_fn"], loss, comment))
        for key in ("metrics", "weighted_metrics"):
            if key in args and literal(args[key]) is not None:
                statements.append(assign(names[key], self.metrics_expr(args[key], kind)))
        self.state.note(f"{receiver}.compile(...) -> optimizer, loss and metric objects with Keras' defaults")
        return statements

    def move_optimizer(self, name, binding) -> bool:
        """`opt = keras.optimizers.Adam(...)` only given to compile: built at the compile, where the
        parameters are (the Keras object is dropped). False if the name is also used elsewhere."""
        uses = sum(1 for site in self.facts.compiles for a in site.call.args
                   if isinstance(a.value, cst.Name) and a.value.value == name)
        if self.facts.loads.get(name, 0) > uses:
            return False
        self.removed.add(id(binding[2]))
        return True

    # ---- optimizers --------------------------------------------------------------------------------------
    def optimizer_expr(self, node, params: str):
        value = literal(node)
        if isinstance(value, str):
            if value.lower() not in OPTIMIZER_STRINGS:
                raise Untranslatable(f"optimizer {value!r} is not translated")
            kind, given, legacy = OPTIMIZER_STRINGS[value.lower()], {}, False
            label = f"Keras {value!r}"
        elif isinstance(node, cst.Call) and (self.qualname(node) or "").startswith("keras.optimizers."):
            qualified = self.qualname(node)
            kind, legacy = qualified.split(".")[-1], ".legacy." in qualified
            if kind not in OPTIMIZER_ARGS:
                raise Untranslatable(f"{qualified} is not translated")
            if legacy and kind == "Nadam":
                raise Untranslatable("legacy Nadam (schedule_decay momentum) is not translated")
            given = bind_args(node, list(OPTIMIZER_ARGS[kind]) + [p for p in OPTIMIZER_COMMON if p not in OPTIMIZER_ARGS[kind]],
                              aliases={"lr": "learning_rate"})
            label = "Keras " + code_of(node.with_changes(func=cst.Name(kind)))
        else:
            raise Untranslatable(f"optimizer `{code_of(node)}` is not a Keras optimizer this translation knows")
        for key, default in OPTIMIZER_UNSUPPORTED.items():
            if key in given and literal(given[key]) != default:
                raise Untranslatable(f"optimizer argument {key}= is not translated")
        ignored = {"name", "ema_momentum", "ema_overwrite_frequency"}  # no effect without use_ema
        for key in set(given) - set(OPTIMIZER_ARGS[kind]) - set(OPTIMIZER_EXTRAS) - ignored - set(OPTIMIZER_UNSUPPORTED):
            raise Untranslatable(f"optimizer argument {key}= is not translated")
        args = {**OPTIMIZER_ARGS[kind], **{k: v for k, v in given.items() if k in OPTIMIZER_ARGS[kind]}}
        extras = {"weight_decay": args.pop("weight_decay")} if kind == "AdamW" else {}  # AdamW: Keras default 0.004
        extras.update({k: given[k] for k in OPTIMIZER_EXTRAS if k in given and literal(given[k]) is not None})
        lr = args.pop("learning_rate")
        lr_value = literal(lr) if isinstance(lr, cst.CSTNode) else lr
        if isinstance(lr, cst.Call) and (self.qualname(lr) or "").startswith("keras.optimizers.schedules."):
            lr = self.schedule_call(self.qualname(lr).split(".")[-1], lr)
        plain = not extras and isinstance(lr_value, (int, float))
        torch_class = None
        if plain and kind == "SGD" and literal_or(args["momentum"]) == 0:
            torch_class, kwargs = "torch.optim.SGD", {"lr": lr}
            why = None
        elif plain and kind == "Adadelta":
            torch_class, kwargs = "torch.optim.Adadelta", {"lr": lr, "rho": args["rho"], "eps": args["epsilon"]}
            why = "torch's defaults are lr 1.0, rho 0.9, eps 1e-6"
        elif plain and kind == "Nadam":
            torch_class = "torch.optim.NAdam"
            betas = cst.Tuple([cst.Element(value_node(args["beta_1"])), cst.Element(value_node(args["beta_2"]))])
            kwargs = {"lr": lr, "betas": betas,
                      "eps": args["epsilon"], "momentum_decay": 1.0}
            why = "momentum_decay=1.0: Keras' momentum schedule"
        elif plain and kind == "Adagrad" and legacy:
            torch_class = "torch.optim.Adagrad"
            kwargs = {"lr": lr, "initial_accumulator_value": args["initial_accumulator_value"], "eps": args["epsilon"]}
            why = "legacy Keras Adagrad: epsilon outside the sqrt, as torch"
        if torch_class is not None:
            self.state.need("import torch")
            return make_call(torch_class, [dotted(params)], kwargs), label + (f" ({why})" if why else "")
        runtime_class = KERAS_OPTIMIZER_CLASS[kind]
        keep = {k: v for k, v in args.items() if k not in ("amsgrad", "nesterov", "centered") or literal_or(v) is not False}
        if kind == "SGD" and literal_or(keep.get("momentum")) == 0:
            keep.pop("momentum")
        if kind == "RMSprop" and literal_or(keep.get("momentum")) == 0:
            keep.pop("momentum")
        self.use(runtime_class)
        why = {"SGD": "momentum of lr-scaled gradients, unlike torch.optim.SGD",
               "Adam": "epsilon-hat form, unlike torch.optim.Adam", "AdamW": "epsilon-hat form, decoupled weight decay",
               "RMSprop": "epsilon inside the sqrt, unlike torch.optim.RMSprop",
               "Adagrad": "epsilon inside the sqrt, unlike torch.optim.Adagrad",
               "Adamax": "epsilon outside the max, unlike torch.optim.Adamax", "Lion": "not in torch.optim",
               }.get(kind, "clipping / weight decay applied as Keras does")
        if "clipnorm" in extras:
            why += "; clipnorm per tensor"
        return make_call(runtime_class, [dotted(params)], {"lr": lr, **keep, **extras}), f"{label} ({why})"

    # ---- losses ------------------------------------------------------------------------------------------
    def loss_expr(self, node, receiver: str):
        """(expression or None if the name is reused, comment, kind) for compile(loss=...)."""
        info = self.state.models.get(receiver)
        activation = info.output_activation if info is not None else None
        value = literal(node)
        if isinstance(value, str):
            if value not in LOSS_FUNCTIONS:
                raise Untranslatable(f"loss {value!r} is not translated")
            name = LOSS_FUNCTIONS[value]
            kwargs = {"from_logits": False} if name in CROSSENTROPIES else {}
            self.check_activation(name, False, info, activation)
            self.use(name)
            return make_call(name, [], kwargs), f"Keras {value!r}", loss_kind(name)
        if isinstance(node, cst.Call) and (self.qualname(node) or "").startswith("keras.losses."):
            name = self.qualname(node).split(".")[-1]
            call = self.loss_call(name, node)
            params = LOSS_CLASSES.get(LOSS_ALIASES.get(name, name), [])
            from_logits = literal(bind_args(node, params).get("from_logits", cst.Name("False")))
            if from_logits is True and activation in ("softmax", "sigmoid") and name in CROSSENTROPIES:
                call = rename_call(call, name, params, replace={"from_logits": False})
                self.check_activation(name, False, info, activation)
                return call, (f"Keras on TensorFlow ignores from_logits=True on a {activation} output (it takes the "
                              f"{activation}'s input): from probabilities here"), loss_kind(name)
            self.check_activation(name, from_logits is True, info, activation)
            return call, None, loss_kind(name)
        if isinstance(node, cst.Attribute) and (self.qualname(node) or "").startswith("keras.losses."):
            function = self.qualname(node).split(".")[-1]
            if function not in LOSS_FUNCTIONS:
                raise Untranslatable(f"loss {self.qualname(node)} is not translated")
            name = LOSS_FUNCTIONS[function]
            self.check_activation(name, False, info, activation)
            self.use(name)
            return make_call(name), f"Keras {function}", loss_kind(name)
        if isinstance(node, cst.Name):
            binding = self.keras_binding(node, "keras.losses.")
            if binding is not None:
                name = self.qualname(binding[1]).split(".")[-1]
                return None, None, loss_kind(LOSS_ALIASES.get(name, name))
            if node.value in self.facts.defs:
                self.use("LossFunctionWrapper")
                return make_call("LossFunctionWrapper", [node]), \
                    "Keras wraps a loss function: its values are averaged over the batch", None
        if isinstance(node, cst.Lambda):
            self.use("LossFunctionWrapper")
            return make_call("LossFunctionWrapper", [node]), "Keras wraps a loss function", None
        raise Untranslatable(f"loss `{code_of(node)}` is not translated (multi-output losses and unknown objects stay as is)")

    def check_activation(self, name, from_logits, info, activation) -> None:
        if name not in CROSSENTROPIES:
            return
        matching = "sigmoid" if name == "BinaryCrossentropy" else "softmax"
        if activation in ("softmax", "sigmoid") and activation != matching:
            self.todo(f"Keras on TensorFlow computes this {name} from the logits before the model's final {activation} "
                      f"(as if from_logits=True), not from its outputs: the translation uses the outputs")
        elif info is None and from_logits:
            self.todo("from_logits=True: if the model ends with a softmax/sigmoid, Keras on TensorFlow uses that "
                      "activation's input instead (no double softmax); then use from_logits=False here")

    def loss_call(self, name: str, call: cst.Call) -> cst.Call:
        name = LOSS_ALIASES.get(name, name)
        if name not in LOSS_CLASSES:
            if name in LOSS_FUNCTIONS:
                raise Untranslatable(f"keras.losses.{name} called as a function is not translated here")
            raise Untranslatable(f"keras.losses.{name} is not translated")
        params = LOSS_CLASSES[name] + ["reduction", "name", "dtype"]
        args = bind_args(call, params)
        if literal(args.get("dtype", cst.Name("None"))) is not None:
            raise Untranslatable("a loss dtype= is not translated")
        self.use(name)
        return rename_call(call, name, params, drop={"dtype"})

    # ---- metrics -----------------------------------------------------------------------------------------
    def metrics_expr(self, node, kind) -> cst.BaseExpression:
        items = [e.value for e in node.elements] if isinstance(node, (cst.List, cst.Tuple)) else [node]
        elements = []
        for item in items:
            try:
                elements.append(cst.Element(self.metric_expr(item, kind)))
            except Untranslatable as exc:
                self.todo(f"metric `{code_of(item)}` left out: {exc}")
        return cst.List(elements)

    def metric_expr(self, node, kind) -> cst.BaseExpression:
        value = literal(node)
        if isinstance(value, str):
            if value in ("accuracy", "acc"):
                name = {"sparse": "SparseCategoricalAccuracy", "categorical": "CategoricalAccuracy"}.get(kind, "AccuracyByShape")
                self.use(name)
                return make_call(name, [], {"name": value})
            if value in METRIC_STRINGS:
                self.use(METRIC_STRINGS[value])
                return make_call(METRIC_STRINGS[value], [], {"name": value})
            if value in LOSS_FUNCTIONS:
                self.use("MeanMetricWrapper", LOSS_FUNCTIONS[value])
                loss = make_call(LOSS_FUNCTIONS[value], [], {"reduction": None})
                return make_call("MeanMetricWrapper", [loss], {"name": value})
            raise Untranslatable(f"metric {value!r} is not translated")
        qualified = self.qualname(node) or ""
        if isinstance(node, cst.Call) and qualified.startswith("keras.metrics."):
            return self.metric_call(qualified.split(".")[-1], node)
        if isinstance(node, cst.Attribute) and qualified.startswith(("keras.metrics.", "keras.losses.")):
            function = qualified.split(".")[-1]
            if function in LOSS_FUNCTIONS:
                self.use("MeanMetricWrapper", LOSS_FUNCTIONS[function])
                return make_call("MeanMetricWrapper", [make_call(LOSS_FUNCTIONS[function], [], {"reduction": None})],
                                 {"name": function})
            raise Untranslatable(f"{qualified} is not translated")
        if isinstance(node, cst.Name):
            if self.keras_binding(node, "keras.metrics.") is not None:
                return node
            if node.value in self.facts.defs:
                self.use("MeanMetricWrapper")
                return make_call("MeanMetricWrapper", [node])
        raise Untranslatable("not a Keras metric this translation knows (custom Metric subclasses are not translated)")

    def metric_call(self, name: str, call: cst.Call) -> cst.Call:
        if name in METRIC_LOSS_CLASSES:
            loss_class, default_name = METRIC_LOSS_CLASSES[name]
            args = bind_args(call, ["name", "dtype"] + LOSS_CLASSES[loss_class])
            metric_name = args.pop("name", cst.SimpleString(f'"{default_name}"'))
            args.pop("dtype", None)
            self.use("MeanMetricWrapper", loss_class)
            loss = make_call(loss_class, [], {**args, "reduction": None})
            return make_call("MeanMetricWrapper", [loss], {"name": metric_name})
        if name not in METRIC_CLASSES:
            raise Untranslatable(f"keras.metrics.{name} is not translated")
        params = METRIC_CLASSES[name] + ["dtype"]
        args = bind_args(call, params)
        for key in ("top_k", "class_id"):
            if literal(args.get(key, cst.Name("None"))) is not None:
                raise Untranslatable(f"{name}({key}=...) is not translated")
        if name in ("Precision", "Recall") and not isinstance(literal(args.get("thresholds", cst.Float("0.5"))), (int, float)):
            raise Untranslatable(f"{name} with several thresholds is not translated")
        if name == "AUC":
            for key, default in (("thresholds", None), ("multi_label", False), ("num_labels", None), ("label_weights", None)):
                if literal(args.get(key, value_node(default))) != default:
                    raise Untranslatable(f"AUC({key}=...) is not translated")
            if str(literal(args.get("curve", value_node("ROC")))).upper() not in ("ROC", "PR"):
                raise Untranslatable("AUC curves other than ROC and PR are not translated")
        self.use(name)
        drop = {"dtype", "top_k", "class_id", "thresholds", "multi_label", "num_labels", "label_weights"}
        return rename_call(call, name, params, drop=drop)

    # ---- callbacks and schedules -------------------------------------------------------------------------
    def callback_call(self, name: str, call: cst.Call) -> cst.Call:
        if name in CALLBACK_UNSUPPORTED:
            raise Untranslatable(CALLBACK_UNSUPPORTED[name])
        if name not in CALLBACKS:
            raise Untranslatable(f"keras.callbacks.{name} is not translated")
        args = bind_args(call, CALLBACKS[name])
        replace = {}
        if name == "ModelCheckpoint" and isinstance(literal(args.get("filepath")), str):
            path = literal(args["filepath"])
            replace["filepath"] = same_quotes(args["filepath"], pt_path(path))
            if pt_path(path) != path:
                self.state.note(f"ModelCheckpoint({path!r}) saves torch state_dicts to {pt_path(path)!r}")
        self.use(name)
        return rename_call(call, name, CALLBACKS[name], replace=replace)

    def schedule_call(self, name: str, call: cst.Call) -> cst.Call:
        if name not in SCHEDULES:
            raise Untranslatable(f"keras.optimizers.schedules.{name} is not translated")
        bind_args(call, SCHEDULES[name] + ["name"])
        self.use(name)
        return rename_call(call, name, SCHEDULES[name] + ["name"], drop={"name"})

    # ---- rewriting -------------------------------------------------------------------------------------------
    def leave_SimpleStatementLine(self, original_node, updated_node):
        if id(original_node) in self.removed:
            self.state.note("a Keras optimizer assigned before compile is built at the compile, with the model's parameters")
            return cst.RemoveFromParent()
        for site in self.facts.compiles:
            if site.statement is original_node:
                if site.receiver in self.facts.unconverted:
                    site.ok = False
                    self.todo(f"`{site.receiver}` is still a Keras model (not converted): its compile/fit stay Keras")
                    return original_node
                runtime, imports = set(self.state.runtime), set(self.state.imports)
                try:
                    statements = self.compile_statements(site)
                except Untranslatable as exc:
                    self.state.runtime, self.state.imports = runtime, imports  # nothing of it is emitted
                    site.ok = False
                    self.todo(f"compile kept as is: {exc}")
                    return original_node
                statements[0] = statements[0].with_changes(leading_lines=updated_node.leading_lines)
                return cst.FlattenSentinel(statements)
        small = original_node.body[0] if len(original_node.body) == 1 else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name) \
                and isinstance(small.value, cst.Call) and (self.qualname(small.value) or "").startswith("keras.optimizers.") \
                and not (self.qualname(small.value) or "").startswith("keras.optimizers.schedules."):
            return self.standalone_optimizer(small.targets[0].target.value, small.value, original_node, updated_node)
        return self.learning_rate_assignment(original_node, updated_node)

    def standalone_optimizer(self, name, call, original_node, updated_node):
        """`opt = keras.optimizers.Adam(...)` for a custom loop: built on the variables it is applied to."""
        variables = self.facts.applied.get(name)
        if variables is None:
            return updated_node  # used by compile (moved there) or not at all: the leftovers step reports it
        parts = self.parameter_parts(variables, original_node)
        if parts is None:
            self.todo(f"optimizer `{name}` kept as is: the parameters it updates (`{code_of(variables)}`) are not "
                      "models or variables defined before it")
            return updated_node
        params = parts[0] if len(parts) == 1 and parts[0].endswith(".parameters()") else \
            "[" + ", ".join(f"*{p}" if p.endswith(".parameters()") else p for p in parts) + "]"
        try:
            expr, comment = self.optimizer_expr(call, params)
        except Untranslatable as exc:
            self.todo(f"optimizer kept as is: {exc}")
            return updated_node
        self.state.note(f"optimizer {name}: Keras {self.qualname(call).split('.')[-1]} -> {code_of(expr.func)}")
        return assign(name, expr, comment).with_changes(leading_lines=updated_node.leading_lines)

    def parameter_parts(self, node, statement, depth=0):
        """What `apply_gradients(zip(grads, node))` updates, as torch parameter sources bound before
        `statement`: ["model.parameters()", "a", ...], or None."""
        if depth > 3:
            return None
        if isinstance(node, cst.Attribute) and node.attr.value in ("trainable_variables", "trainable_weights") \
                and isinstance(node.value, cst.Name) and self.bound_before(node.value.value, statement):
            return [f"{node.value.value}.parameters()"]
        if isinstance(node, (cst.List, cst.Tuple)) and node.elements and all(
                isinstance(e.value, cst.Name) and self.bound_before(e.value.value, statement) for e in node.elements):
            return [e.value.value for e in node.elements]
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left = self.parameter_parts(node.left, statement, depth + 1)
            right = self.parameter_parts(node.right, statement, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(node, cst.Name) and len(self.facts.bindings.get(node.value, [])) == 1:
            return self.parameter_parts(self.facts.bindings[node.value][0][1], statement, depth + 1)
        return None

    def bound_before(self, name: str, statement) -> bool:
        try:
            line = self.get_metadata(PositionProvider, statement).start.line
        except KeyError:
            return False
        for _, _, bound_statement in self.facts.bindings.get(name, []):
            try:
                if bound_statement is not None and self.get_metadata(PositionProvider, bound_statement).start.line < line:
                    return True
            except KeyError:
                continue
        return False

    def learning_rate_assignment(self, original_node, updated_node):
        """`opt.learning_rate.assign(v)` / `keras.backend.set_value(opt.lr, v)` -> param_groups lr."""
        if len(original_node.body) != 1 or not isinstance(original_node.body[0], cst.Expr):
            return updated_node
        call = original_node.body[0].value
        if not isinstance(call, cst.Call):
            return updated_node
        target = value = None
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "assign" and len(call.args) == 1:
            target, value = call.func.value, call.args[0].value
        elif (self.qualname(call) or "") in ("keras.ops.set_value",) and len(call.args) == 2:
            target, value = call.args[0].value, call.args[1].value
        if target is None or self.optimizer_of_lr(target) is None:
            return updated_node
        optimizer = self.optimizer_of_lr(target)
        updated_value = updated_node.body[0].value.args[-1].value
        statement = cst.parse_statement(f'for group in {optimizer}.param_groups:\n    group["lr"] = 0\n')
        body = statement.body.body[0]
        new_assign = body.body[0].with_changes(value=updated_value)
        return statement.with_changes(body=statement.body.with_changes(body=[body.with_changes(body=[new_assign])]),
                                      leading_lines=updated_node.leading_lines)

    def optimizer_of_lr(self, node) -> str | None:
        """The optimizer expression (after translation) whose learning rate `node` reads, or None."""
        if not (isinstance(node, cst.Attribute) and node.attr.value in ("learning_rate", "lr")):
            return None
        return self.optimizer_reference(node.value)

    def optimizer_reference(self, node) -> str | None:
        text = code_of(node)
        if text in self.local_names:
            return text
        if text == "self.model.optimizer" and self.callback_classes and self.callback_classes[-1]:
            return "self.optimizer"  # fit gives its callbacks the optimizer
        if isinstance(node, cst.Attribute) and node.attr.value == "optimizer" \
                and isinstance(node.value, (cst.Name, cst.Attribute)):
            names = self.compile_names(code_of(node.value))
            if names is not None and names["ok"]:
                return names["optimizer"]
        return None

    def leave_Attribute(self, original_node, updated_node):
        optimizer = self.optimizer_of_lr(original_node)
        if optimizer is not None:
            return cst.parse_expression(f'{optimizer}.param_groups[0]["lr"]')
        if original_node.attr.value == "optimizer":
            optimizer = self.optimizer_reference(original_node)
            if optimizer is not None and optimizer != code_of(original_node):
                return dotted(optimizer)
        return updated_node

    def visit_ClassDef(self, node) -> None:
        self.callback_classes.append(any((self.qualname(b.value) or "") == "keras.callbacks.Callback" for b in node.bases))

    def leave_ClassDef(self, original_node, updated_node):
        self.callback_classes.pop()
        bases = []
        changed = False
        for original, updated in zip(original_node.bases, updated_node.bases):
            if (self.qualname(original.value) or "") == "keras.callbacks.Callback":
                bases.append(updated.with_changes(value=cst.Name("Callback")))
                changed = True
            else:
                bases.append(updated)
        if not changed:
            return updated_node
        self.use("Callback")
        self.state.note(f"callback class {original_node.name.value}: base keras.callbacks.Callback -> Callback (same hooks)")
        if "self.params" in code_of(original_node):
            self.todo("self.params (Keras' fit parameters) does not exist in the translated callbacks")
        return updated_node.with_changes(bases=bases)

    def leave_Call(self, original_node, updated_node):
        if id(original_node) in self.in_compile:
            return updated_node
        qualified = self.qualname(original_node) or ""
        try:
            for prefix, build in (("keras.losses.", self.loss_call), ("keras.metrics.", self.metric_call),
                                  ("keras.callbacks.", self.callback_call), ("keras.optimizers.schedules.", self.schedule_call)):
                if qualified.startswith(prefix) and isinstance(original_node.func, (cst.Name, cst.Attribute)):
                    name = qualified[len(prefix):]
                    if "." in name or not name[:1].isupper():
                        if prefix == "keras.losses." and name in LOSS_FUNCTIONS:
                            return self.loss_function_call(name, updated_node)
                        return updated_node
                    return build(name, updated_node)
        except Untranslatable as exc:
            self.todo(f"`{code_of(original_node.func)}(...)` kept as is: {exc}")
            return original_node
        receiver = receiver_code(original_node)
        if receiver is None:
            return updated_node
        method = original_node.func.attr.value
        if receiver in self.facts.unconverted and receiver not in self.state.models:
            return original_node  # still a Keras model: the leftovers step marks it
        handler = {"fit": self.fit_call, "fit_generator": self.fit_call, "evaluate": self.evaluate_call,
                   "evaluate_generator": self.evaluate_call, "predict": self.predict_call,
                   "predict_generator": self.predict_call, "summary": self.summary_call, "save": self.save_call,
                   "save_weights": self.save_call, "load_weights": self.load_call, "train_on_batch": self.on_batch_call,
                   "test_on_batch": self.on_batch_call, "predict_on_batch": self.on_batch_call}.get(method)
        if handler is None:
            return updated_node
        try:
            return handler(receiver, original_node, updated_node)
        except Untranslatable as exc:
            self.todo(f"`{receiver}.{method}(...)` kept as is: {exc}")
            return original_node

    def loss_function_call(self, function: str, call: cst.Call) -> cst.Call:
        """`keras.losses.mse(y_true, y_pred)`: per-sample values, as the Keras function returns."""
        name = LOSS_FUNCTIONS[function]
        args = bind_args(call, ["y_true", "y_pred"] + LOSS_CLASSES[name])
        y_true, y_pred = args.pop("y_true"), args.pop("y_pred")
        self.use(name)
        return cst.Call(make_call(name, [], {**args, "reduction": None}), [cst.Arg(y_true), cst.Arg(y_pred)])

    # ---- model methods ---------------------------------------------------------------------------------------
    def is_keras_model(self, receiver: str, call: cst.Call, method: str) -> bool:
        if receiver in self.facts.keras_models or receiver in self.attribute_compiled:
            return True
        root = receiver.split(".")[0]
        keywords = {a.keyword.value for a in call.args if a.keyword is not None}
        return root not in self.facts.foreign and bool(keywords & KERAS_ONLY_KEYWORDS[method])

    def compile_names(self, receiver: str):
        """Names of the objects compile made for `receiver`, visible from here (None if none)."""
        scope = self.current_scope()
        best = None
        for site in self.facts.compiles:
            if site.receiver == receiver and not site.attribute_style and scope[:len(site.scope)] == site.scope:
                if best is None or len(site.scope) >= len(best.scope):
                    best = site
        if best is None:
            best = self.attribute_compiled.get(receiver)
            if best is not None:  # the objects travel with the model: `clone = make_model()` -> clone.optimizer
                names = {k: v if k.startswith("has_") else f"{receiver}.{k}" for k, v in best.names.items()}
                return dict(names, ok=best.ok)
        if best is None:
            return None
        return dict(best.names, ok=best.ok)

    def training_objects(self, receiver: str, call: cst.Call, method: str):
        names = self.compile_names(receiver)
        if names is None:
            self.todo(f"no compile() of `{receiver}` found: define loss_fn and optimizer (Keras' compile arguments)")
            return {"optimizer": "optimizer", "loss_fn": "loss_fn", "metrics": "metrics"}
        if not names["ok"]:
            raise Untranslatable("its compile() was not translated")
        return names

    def permutation_kwargs(self, receiver: str) -> dict:
        info = self.state.models.get(receiver)
        kwargs = {}
        if info is not None:
            perms = [tuple(p) for p in info.input_permutations]
            if any(p != tuple(range(len(p))) for p in perms):
                kwargs["input_permutations"] = cst.List([cst.Element(value_node(p)) for p in perms])
            outs = [tuple(p) for p in info.output_permutations]
            if len(outs) == 1 and outs[0] != tuple(range(len(outs[0]))):
                kwargs["output_permutation"] = value_node(outs[0])
        return kwargs

    def fit_call(self, receiver, original, updated):
        if not self.is_keras_model(receiver, original, "fit"):
            return updated
        args = bind_args(updated, FIT_PARAMS)
        if literal(args.get("shuffle")) == "batch":
            raise Untranslatable("shuffle='batch' (shuffling in batch-sized chunks) is not translated")
        names = self.training_objects(receiver, original, "fit")
        for key in LOADING_ONLY & set(args):
            args.pop(key)
        x, y = args.pop("x", cst.Name("None")), args.pop("y", cst.Name("None"))
        kwargs = metric_kwargs(names)
        if "y" in bind_args(original, FIT_PARAMS):  # arrays: Keras' batching made visible
            kwargs["batch_size"] = args.pop("batch_size", 32)
            kwargs["epochs"] = args.pop("epochs", 1)
            kwargs["shuffle"] = args.pop("shuffle", True)
        else:
            kwargs["epochs"] = args.pop("epochs", 1)
        kwargs.update(args)
        kwargs.update(self.permutation_kwargs(receiver))
        self.use("fit")
        self.state.note(f"{receiver}.fit(...) -> fit(...): Keras' loop (batch 32, reshuffled each epoch, ...) in PyTorch")
        return make_call("fit", [dotted(receiver), x, y, dotted(names["loss_fn"]), dotted(names["optimizer"])], kwargs)

    def evaluate_call(self, receiver, original, updated):
        if not self.is_keras_model(receiver, original, "evaluate"):
            return updated
        names = self.training_objects(receiver, original, "evaluate")
        args = bind_args(updated, EVALUATE_PARAMS)
        if literal(args.pop("callbacks", cst.Name("None"))) is not None:
            raise Untranslatable("callbacks in evaluate() are not translated")
        for key in LOADING_ONLY & set(args):
            args.pop(key)
        x, y = args.pop("x", cst.Name("None")), args.pop("y", cst.Name("None"))
        kwargs = metric_kwargs(names)
        if "y" in bind_args(original, EVALUATE_PARAMS):
            kwargs["batch_size"] = args.pop("batch_size", 32)
        kwargs.update(args)
        kwargs.update(self.permutation_kwargs(receiver))
        self.use("evaluate")
        self.state.note(f"{receiver}.evaluate(...) -> evaluate(...): eval mode, no gradients, means over all samples")
        return make_call("evaluate", [dotted(receiver), x, y, dotted(names["loss_fn"])], kwargs)

    def predict_call(self, receiver, original, updated):
        if not self.is_keras_model(receiver, original, "predict"):
            return updated
        args = bind_args(updated, PREDICT_PARAMS)
        if literal(args.pop("callbacks", cst.Name("None"))) is not None:
            raise Untranslatable("callbacks in predict() are not translated")
        for key in LOADING_ONLY & set(args):
            args.pop(key)
        x = args.pop("x", cst.Name("None"))
        kwargs = {"batch_size": args.pop("batch_size", 32), **args, **self.permutation_kwargs(receiver)}
        self.use("predict")
        self.state.note(f"{receiver}.predict(...) -> predict(...): eval mode, batches of 32, a NumPy array")
        return make_call("predict", [dotted(receiver), x], kwargs)

    def on_batch_call(self, receiver, original, updated):
        """train_on_batch / test_on_batch / predict_on_batch: one batch, Keras' metric reset included."""
        method = original.func.attr.value
        if not self.is_keras_model(receiver, original, method):
            return updated
        args = bind_args(updated, ON_BATCH_PARAMS[method])
        if literal(args.pop("reset_metrics", cst.Name("True"))) is not True:
            raise Untranslatable("reset_metrics=False (metrics accumulated over calls) is not translated")
        x, y = args.pop("x", cst.Name("None")), args.pop("y", cst.Name("None"))
        kwargs = {**args, **self.permutation_kwargs(receiver)}
        self.use(method)
        if method == "predict_on_batch":
            return make_call(method, [dotted(receiver), x], kwargs)
        names = self.training_objects(receiver, original, method)
        if names.get("has_metrics"):
            kwargs = {"metrics": dotted(names["metrics"]), **kwargs}
        objects = [dotted(names["loss_fn"])] + ([dotted(names["optimizer"])] if method == "train_on_batch" else [])
        self.state.note(f"{receiver}.{method}(...) -> {method}(...): one batch, metrics reset first (Keras)")
        return make_call(method, [dotted(receiver), x, y, *objects], kwargs)

    def summary_call(self, receiver, original, updated):
        if (receiver not in self.facts.keras_models and receiver not in self.attribute_compiled) or updated.args:
            return updated
        self.use("summary")
        return make_call("summary", [dotted(receiver)])

    def save_call(self, receiver, original, updated):
        if receiver not in self.facts.keras_models and receiver not in self.attribute_compiled:
            return updated
        method = original.func.attr.value
        args = bind_args(updated, ["filepath", "overwrite", "save_format"])
        if "filepath" not in args:
            raise Untranslatable("no file path")
        path = args["filepath"]
        if isinstance(literal(path), str):
            path = same_quotes(path, pt_path(literal(path)))
        self.state.need("import torch")
        what = "the whole model (architecture and weights)" if method == "save" else "the weights"
        self.state.note(f"{receiver}.{method}(...) -> torch.save({receiver}.state_dict(), ...): Keras saved {what}; "
                        f"here the weights (rebuild the class, then load_state_dict)")
        return make_call("torch.save", [make_call(f"{receiver}.state_dict"), path])

    def load_call(self, receiver, original, updated):
        if receiver not in self.facts.keras_models and receiver not in self.attribute_compiled:
            return updated
        args = bind_args(updated, ["filepath", "skip_mismatch", "by_name"])
        if set(args) - {"filepath"}:
            raise Untranslatable("load_weights(skip_mismatch/by_name) is not translated")
        path = args["filepath"]
        value = literal(path)
        if isinstance(value, str):
            path = same_quotes(path, pt_path(value))
            written = [re.sub(r"\\\{[^}]*\\\}", ".*", re.escape(saved)) for saved in self.facts.saved]  # {epoch:02d} -> .*
            if not any(re.fullmatch(pattern, pt_path(value)) for pattern in written):
                self.todo(f"{value!r} is not written by this script: a Keras weights file must be converted first "
                          "(tf2torch convert gives a state_dict for the generated class)")
        self.state.need("import torch")
        self.state.note(f"{receiver}.load_weights(...) -> {receiver}.load_state_dict(torch.load(...))")
        return make_call(f"{receiver}.load_state_dict", [make_call("torch.load", [path])])


TRANSFORM = TranslateTraining

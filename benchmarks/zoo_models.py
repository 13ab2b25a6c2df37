"""The keras.applications zoo as test cases: constructors, input sizes, random weights.

Shared by `make zoo` (benchmarks/zoo_convert.py), the benchmark (benchmarks/zoo.py) and the
CI subset (tests/test_zoo.py). No pretrained weights are ever fetched (`weights=None`).

Each constructor is checked in three configurations:
  top      its default input size, include_top=True (the ImageNet classifier, softmax)
  odd      a static odd size (199x199), include_top=False, pooling='avg'
  dynamic  input (None, None, 3), include_top=False, pooling='max', verified at 97x97 and 112x112
           (odd and even sizes give TF 'same' padding different shapes at every stride-2 layer)

NASNetMobile/NASNetLarge have no dynamic configuration: Keras itself cannot run them built with
input_shape=(None, None, 3) (their reduction cells decide at build time, from static shapes,
whether to adjust a branch; an Add then fails at every size, checked from 96 to 225).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ODD_SIZE = 199
DYNAMIC_SIZES = (97, 112)

# constructor name -> default input size
DEFAULT_SIZES = {
    "ConvNeXtTiny": 224, "ConvNeXtSmall": 224, "ConvNeXtBase": 224, "ConvNeXtLarge": 224, "ConvNeXtXLarge": 224,
    "DenseNet121": 224, "DenseNet169": 224, "DenseNet201": 224,
    "EfficientNetB0": 224, "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300,
    "EfficientNetB4": 380, "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600,
    "EfficientNetV2B0": 224, "EfficientNetV2B1": 240, "EfficientNetV2B2": 260, "EfficientNetV2B3": 300,
    "EfficientNetV2S": 384, "EfficientNetV2M": 480, "EfficientNetV2L": 480,
    "InceptionV3": 299, "InceptionResNetV2": 299,
    "MobileNet": 224, "MobileNetV2": 224, "MobileNetV3Small": 224, "MobileNetV3Large": 224,
    "NASNetMobile": 224, "NASNetLarge": 331,
    "ResNet50": 224, "ResNet101": 224, "ResNet152": 224, "ResNet50V2": 224, "ResNet101V2": 224, "ResNet152V2": 224,
    "VGG16": 224, "VGG19": 224,
    "Xception": 299,
}
CONFIGS = ("top", "odd", "dynamic")
STATIC_ONLY = {"NASNetMobile", "NASNetLarge"}  # see above


@dataclass(frozen=True)
class Case:
    constructor: str
    config: str  # one of CONFIGS

    @property
    def name(self) -> str:
        return f"{self.constructor}-{self.config}"

    @property
    def input_size(self):
        """Side of the square input, None if dynamic."""
        return {"top": DEFAULT_SIZES[self.constructor], "odd": ODD_SIZE, "dynamic": None}[self.config]

    @property
    def verify_sizes(self) -> tuple:
        return DYNAMIC_SIZES if self.config == "dynamic" else ()

    def kwargs(self) -> dict:
        side = self.input_size
        kwargs = {"weights": None, "input_shape": (side, side, 3)}
        if self.config == "top":
            kwargs["include_top"] = True
        else:
            kwargs.update(include_top=False, pooling="avg" if self.config == "odd" else "max")
        return kwargs

    def build(self, seed: int = 0):
        import keras

        keras.utils.set_random_seed(seed)
        model = getattr(keras.applications, self.constructor)(**self.kwargs())
        randomize(model, seed)
        return calibrate(model, self.input_size or DYNAMIC_SIZES[0], seed)


def all_cases(constructors=None, configs=CONFIGS) -> list[Case]:
    names = constructors or list(DEFAULT_SIZES)
    unknown = [n for n in names if n not in DEFAULT_SIZES]
    if unknown:
        raise SystemExit(f"unknown keras.applications constructor(s): {', '.join(unknown)}")
    return [Case(n, c) for n in names for c in configs if not (c == "dynamic" and n in STATIC_ONLY)]


def calibrate(model, side: int, seed: int = 0, batch: int | None = None, limit: float = 100.0):
    """Where Keras' initial moving statistics do not describe the activations, take them from data.

    At initialisation BatchNormalization assumes mean 0 and variance 1. In most of the zoo the
    activations it sees stay near that (mean square at most 5, measured). In EfficientNetV2M/L
    they grow layer after layer (mean square 1e10 to 1e19 before the last ones) and the output of
    a standard-normal image moves by 100 % from float32 rounding alone (torch float32 against
    float64 on the same module): no two implementations can agree. If any BatchNormalization
    input has a mean square above `limit`, every moving mean and variance is set to the
    statistics of a standard-normal batch (what verification feeds), jittered so their folding
    stays tested, and floored at a tenth of the layer's median (a channel the batch leaves nearly
    constant would divide rounding noise by sqrt(epsilon)).
    """
    import keras

    norms = [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return model
    if batch is None:  # about 16 images of 112x112 worth of pixels: enough statistics, bounded memory
        batch = int(min(16, max(2, round(16 * (112 / side) ** 2))))
    x = np.random.default_rng(seed).standard_normal((batch, side, side, 3)).astype(np.float32)
    seen = keras.Model(model.inputs, [layer.input for layer in norms])(x, training=False)
    if max(float(np.mean(np.square(np.asarray(v, np.float64)))) for v in seen) <= limit:
        return model
    saved = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0  # moving statistics := this batch's
    model(x, training=True)  # BatchNormalization normalises with the batch statistics, layer after layer
    rng = np.random.default_rng(seed + 1)
    for layer, momentum in zip(norms, saved):
        layer.momentum = momentum
        mean, variance = np.asarray(layer.moving_mean.numpy()), np.asarray(layer.moving_variance.numpy())
        variance = np.maximum(variance, 0.1 * np.median(variance))
        layer.moving_mean.assign((mean + rng.normal(0.0, 0.02, mean.shape) * np.sqrt(variance)).astype(np.float32))
        layer.moving_variance.assign((variance * rng.uniform(0.9, 1.1, variance.shape)).astype(np.float32))
    return model


def randomize(model, seed: int = 0):
    """Jitter the weights Keras initialises to constants, so verification sees every one of them.

    Keras' own initializers stay for kernels (random, scaled for depth). BatchNormalization
    statistics and affine parameters, zero biases and LayerScale factors (1e-6 at initialisation:
    the residual branch would vanish) get values near their initial ones: a mapping mistake
    (channel order, mean and variance swapped, a missed epsilon) moves the output by 1e-2 or more,
    while the network stays as well conditioned as at initialisation. Larger random values make
    deep residual nets chaotic: with BatchNormalization parameters drawn from U(0.5, 1.5),
    EfficientNetV2B2's output changes by 30 % between float32 and float64 in torch itself.
    """
    rng = np.random.default_rng(seed)
    for w in model.weights:
        value = np.asarray(w.numpy())
        if value.size == 0 or np.ptp(value) > 0:
            continue  # already random
        path = w.path
        if "layer_scale" in path:  # ConvNeXt's LayerScale gamma (named "variable"), 1e-6 at initialisation
            new = rng.uniform(0.05, 0.15, value.shape)
        elif path.endswith("moving_variance") or path.endswith("gamma"):
            new = value * rng.uniform(0.9, 1.1, value.shape)
        elif path.endswith("moving_mean") or path.endswith("beta") or path.endswith("bias"):
            new = value + rng.normal(0.0, 0.02, value.shape)
        elif path.endswith("mean") or path.endswith("variance") or path.endswith("count"):
            continue  # Normalization layers carry ImageNet statistics: keep them
        else:
            new = value + rng.normal(0.0, 0.02, value.shape)
        w.assign(new.astype(value.dtype))
    return model

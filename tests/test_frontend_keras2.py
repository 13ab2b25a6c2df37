"""Legacy Keras 2 (tf_keras) models and .h5 files, against tf_keras itself.

Models are built with tf_keras, given random weights, saved as .h5 and converted from the path;
the front-end's IR (Keras 3 classes, configs in Keras 3 spelling, weight paths) is checked
directly so that it is covered even for layers whose converter does not exist yet.
"""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as K
import torch
from keras.src.ops import numpy as knp

import tf2torch
from kerascheck import TOLERANCE, forward_source, randomize
from tf2torch.errors import ConversionError, InputError
from tf2torch.frontend import keras2, keras3
from tf2torch.ir import TensorRef
from tf2torch.registry import lookup

L = K.layers

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")


@pytest.fixture(autouse=True)
def fresh_names():
    """tf_keras layer names ("lstm", "dense_1"...) restart per test, and after the last one."""
    K.backend.clear_session()
    yield
    K.backend.clear_session()


def needs(*classes):
    """Run only when every Keras 3 class has a converter: a visible skip (with reason) otherwise."""
    missing = [c.__name__ for c in classes if lookup(c) is None]
    return pytest.mark.skipif(bool(missing), reason=f"no converter yet for {', '.join(missing)}")


def convert_h5(model, tmp_path, seed=0, **kwargs):
    """Random weights, save as legacy .h5, convert the path, verified at 1e-5 against tf_keras."""
    randomize(model, seed)
    path = tmp_path / "model.h5"
    model.save(path)
    conversion = tf2torch.convert(path, tolerance=TOLERANCE, **kwargs)
    v = conversion.report["verification"]
    assert v["passed"] and v["max_rel_error"] <= TOLERANCE, v
    log = os.environ.get("TF2TORCH_ERROR_LOG")  # as kerascheck.check: the worst errors of a whole run
    if log:
        with open(log, "a") as f:
            f.write(f"{v['max_rel_error']:.3e} {v['max_abs_error']:.3e} {os.environ.get('PYTEST_CURRENT_TEST', '?')}\n")
    return conversion


def seq(shape, *layers, name=None):
    return K.Sequential([K.Input(shape), *layers], name=name)


# ----------------------------------------------------------------------------------------------
# .h5 files end to end
# ----------------------------------------------------------------------------------------------
H5_CASES = [
    pytest.param(lambda: seq((9, 11, 3), L.Conv2D(4, 3, padding="same"), L.Conv2D(5, (3, 2), strides=2, padding="same"),
                             L.Conv2D(2, 3, padding="valid")), id="conv2d-same-valid-odd"),
    pytest.param(lambda: seq((13, 7, 2), L.Conv2D(3, 3, activation="relu"), L.MaxPooling2D(2), L.MaxPooling2D(3, 1, padding="same"),
                             L.Flatten(), L.Dense(6, activation="tanh")), id="conv-pool-flatten-dense"),
    pytest.param(lambda: seq((11, 9, 3), L.Conv2D(4, 3, padding="same"), L.Activation("hard_sigmoid"), L.Flatten(), L.Dense(2)),
                 id="hard-sigmoid-activation"),
    pytest.param(lambda: seq((8,), L.Dense(7, activation="hard_sigmoid"), L.Dropout(0.5), L.Dense(3, activation="softmax")),
                 id="dense-hard-sigmoid-softmax"),
    pytest.param(lambda: seq((11, 5), L.Conv1D(4, 3, padding="same"), L.MaxPooling1D(2, padding="same")), id="conv1d-pool1d"),
]


@pytest.mark.parametrize("build", H5_CASES)
def test_h5_file_converts_and_verifies(build, tmp_path):
    conversion = convert_h5(build(), tmp_path)
    assert ".permute(" not in forward_source(conversion)


def test_hard_sigmoid_uses_keras2_formula(tmp_path):
    # tf_keras/src/activations.py: hard_sigmoid = clip(0.2 x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6
    conversion = convert_h5(seq((6,), L.Dense(5), L.Activation("hard_sigmoid")), tmp_path)
    forward = forward_source(conversion)
    assert "torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)" in forward and "hardsigmoid" not in forward


@pytest.mark.parametrize("build", [
    pytest.param(lambda: seq((9, 7, 3), L.Conv2D(4, 3, padding="same"), L.BatchNormalization(), L.Flatten(), L.Dense(2)), id="after-conv"),
    pytest.param(lambda: seq((6,), L.Dense(5), L.BatchNormalization(epsilon=1e-2, momentum=0.9)), id="rank2"),
])
@needs(keras.layers.BatchNormalization)
def test_batch_normalization_h5(build, tmp_path):
    convert_h5(build(), tmp_path)


@needs(keras.layers.LeakyReLU)
def test_leaky_relu_default_alpha_h5(tmp_path):
    conversion = convert_h5(seq((9, 7, 2), L.Conv2D(3, 3), L.LeakyReLU()), tmp_path)
    assert "0.3" in conversion.source  # Keras' 0.3, never torch's default 0.01


@needs(keras.layers.Embedding, keras.layers.LSTM, keras.layers.GRU)
def test_embedding_lstm_gru_h5(tmp_path):
    model = seq((7,), L.Embedding(10, 4, input_length=7), L.LSTM(5, return_sequences=True), L.GRU(3))
    conversion = convert_h5(model, tmp_path)
    assert "nn.LSTM(4, 5, batch_first=True)" in conversion.source


@needs(keras.layers.LSTM)
def test_lstm_keras2_hard_sigmoid_gate_is_exact_or_refused(tmp_path):
    """Keras 2's hard_sigmoid differs from Keras 3's: verified exactly, or refused by name."""
    model = seq((5, 3), L.LSTM(4, recurrent_activation="hard_sigmoid"))
    try:
        convert_h5(model, tmp_path)
    except ConversionError as exc:
        assert [p.where for p in exc.problems] == ["lstm"] and "hard_sigmoid" in str(exc)


def test_live_tf_keras_model_converts():
    model = randomize(seq((7, 9, 2), L.Conv2D(3, 3, padding="same", activation="relu"), L.Flatten(), L.Dense(4)))
    conversion = tf2torch.convert(model, tolerance=TOLERANCE)
    assert conversion.report["verification"]["max_rel_error"] <= TOLERANCE


def test_sequential_built_without_input_converts():
    model = K.Sequential([L.Dense(3, activation="relu"), L.Dense(2)])
    with pytest.raises(InputError, match="is not built"):
        tf2torch.convert(model)
    model.build((None, 5))
    assert tf2torch.convert(randomize(model), tolerance=TOLERANCE).report["verification"]["passed"]


def test_subclassed_tf_keras_model_is_refused():
    class Net(K.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ConversionError, match="net: subclassed model Net has no graph to read"):
        tf2torch.convert(Net())


def test_nested_model_and_shared_layer(tmp_path):
    inner = seq((6,), L.Dense(4, activation="relu", name="inner_dense"), L.Dense(6, name="inner_out"), name="inner")
    inp = K.Input((6,), name="features")
    shared = L.Dense(6, activation="tanh", name="shared")
    x = shared(shared(inp))
    y = inner(x)
    model = K.Model(inp, [y, x], name="outer")
    conversion = convert_h5(model, tmp_path)

    graph = keras2.read_model(model)
    names = [n.layer.name for n in graph.nodes]
    assert names == ["shared", "shared", "inner_dense", "inner_out"]  # inner model inlined
    assert graph.nodes[0].layer is graph.nodes[1].layer  # one Layer object for a shared layer
    assert conversion.source.count("nn.Linear(6, 6)") == 1  # the shared layer is defined once
    assert conversion.class_name == "Outer"
    assert [o["name"] for o in conversion.report["outputs"]] == ["inner", "shared"]


def test_multiple_inputs_keep_their_names(tmp_path):
    a, b = K.Input((5,), name="left"), K.Input((9, 7, 2), name="image")
    y = L.Dense(3)(L.Flatten()(L.Conv2D(2, 3)(b)))
    model = K.Model([a, b], [L.Dense(2)(a), y])
    conversion = convert_h5(model, tmp_path)
    assert [i["name"] for i in conversion.report["inputs"]] == ["left", "image"]
    assert "def forward(self, left, image)" in conversion.source


# ----------------------------------------------------------------------------------------------
# The IR: Keras 3 classes, Keras 3 config spellings, Keras 3 weight paths
# ----------------------------------------------------------------------------------------------
def only_layer(model):
    graph = keras2.read_model(model)
    assert len(graph.nodes) == 1
    return graph.nodes[0].layer


@pytest.mark.parametrize("layer, input_shape, cls, expected", [
    pytest.param(L.LeakyReLU(), (4,), keras.layers.LeakyReLU, {"negative_slope": pytest.approx(0.3)}, id="leaky-relu-alpha"),
    pytest.param(L.LeakyReLU(alpha=0.1), (4,), keras.layers.LeakyReLU, {"negative_slope": pytest.approx(0.1)}, id="leaky-relu-0.1"),
    pytest.param(L.BatchNormalization(), (5, 3), keras.layers.BatchNormalization, {"axis": 2, "epsilon": 1e-3}, id="bn-axis-list"),
    pytest.param(L.LayerNormalization(), (5, 3), keras.layers.LayerNormalization, {"axis": 2}, id="ln-axis-list"),
    pytest.param(L.Embedding(10, 4, input_length=6), (6,), keras.layers.Embedding, {"input_dim": 10, "output_dim": 4}, id="embedding"),
    pytest.param(L.ReLU(max_value=6.0), (4,), keras.layers.ReLU, {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, id="relu-floats"),
    pytest.param(L.SpatialDropout2D(0.2), (5, 5, 2), keras.layers.SpatialDropout2D, {"data_format": "channels_last"}, id="data-format-filled"),
    pytest.param(L.Activation("hard_sigmoid"), (4,), keras.layers.Activation, {"activation": "hard_sigmoid"}, id="activation-kept"),
    pytest.param(L.LSTM(3), (5, 2), keras.layers.LSTM, {"units": 3, "recurrent_activation": "sigmoid"}, id="lstm"),
])
def test_config_is_normalised_to_keras3(layer, input_shape, cls, expected):
    ir_layer = only_layer(K.Sequential([K.Input(input_shape), layer]))
    assert ir_layer.cls is cls and ir_layer.origin == "keras2"
    config = ir_layer.config
    for key, value in expected.items():
        assert config[key] == value, (key, config)
        assert type(config[key]) in (int, float, str), (key, type(config[key]))
    for key in ("alpha", "batch_input_shape", "input_length", "time_major", "implementation"):
        assert key not in config
    cls.from_config({k: v for k, v in config.items() if k != "dtype"})  # Keras 3 accepts it as is


def test_time_major_rnn_is_refused():
    model = K.Sequential([K.Input((5, 2)), L.LSTM(3, time_major=True)])
    with pytest.raises(ConversionError, match="time_major"):
        keras2.read_model(model)


@pytest.mark.parametrize("make, shape", [
    pytest.param(lambda m: m.Conv2D(3, 2), (7, 5, 3), id="conv2d"),
    pytest.param(lambda m: m.BatchNormalization(), (7, 5, 3), id="batch-norm"),
    pytest.param(lambda m: m.Embedding(10, 3), (5,), id="embedding"),
    pytest.param(lambda m: m.LSTM(3, return_sequences=True), (5, 3), id="lstm"),
    pytest.param(lambda m: m.Bidirectional(m.GRU(2, return_sequences=True, name="gru")), (5, 3), id="bidirectional"),
    pytest.param(lambda m: m.TimeDistributed(m.Dense(2, name="dense")), (5, 3), id="time-distributed"),
])
def test_weight_paths_match_keras3(make, shape):
    k2 = K.Sequential([K.Input(shape), make(L)])
    k3 = keras.Sequential([keras.Input(shape), make(keras.layers)])
    paths2 = [(p, lay.weight(p).shape) for lay in [only_layer(k2)] for p, _ in lay.weights]
    paths3 = [(p, lay.weight(p).shape) for lay in [keras3.read_model(k3).nodes[0].layer] for p, _ in lay.weights]
    assert paths2 == paths3
    assert all(":" not in p for p, _ in paths2)


def tf_ops_model():
    a, b = K.Input((5, 6), name="a"), K.Input((5, 6), name="b")
    x = L.Dense(6)(a)
    outputs = [x + b, x - b, 2.0 - x, x * 2.0, x / (tf.abs(b) + 1.0), -x, tf.maximum(x, 0.0),
               x[..., 0], x[:, None, 1:3], x[:, ::2, 1], tf.concat([x, b], axis=-1), tf.reshape(x, (-1, 30)),
               tf.transpose(x, [0, 2, 1]), tf.expand_dims(x, 1), tf.nn.relu(x), tf.sigmoid(x), tf.tanh(x),
               tf.nn.softmax(x), tf.reduce_mean(x, axis=1), tf.reduce_sum(x, axis=[1, 2], keepdims=True), tf.reduce_max(x, 2)]
    return K.Model([a, b], outputs)


def test_tf_ops_become_keras3_ops(tmp_path):
    model = tf_ops_model()
    graph = keras2.read_model(model)
    classes = {n.layer.cls for n in graph.nodes[1:]}
    assert not any(issubclass(c, keras2.TFOpLambda) for c in classes), classes
    missing = sorted(c.__name__ for c in classes if lookup(c) is None)
    if missing:
        pytest.skip(f"no converter yet for {', '.join(missing)}")
    conversion = convert_h5(model, tmp_path)
    forward = forward_source(conversion)
    for text in (" + b\n", "= 2.0 - ", "[:, None, 1:3]\n", "torch.cat([", ", b], dim=-1)\n", ".mean(dim=1)\n"):
        assert text in forward, forward


def test_tf_op_node_arguments_follow_the_keras3_op():
    x = K.Input((4, 6))
    model = K.Model(x, [tf.maximum(x, 0.5), x[:, 1:, ::2], tf.concat([x, x], axis=1)])
    nodes = keras2.read_model(model).nodes
    by_class = {n.layer.cls.__name__: n for n in nodes}
    maximum, getitem, concat = by_class["Maximum"], by_class["GetItem"], by_class["Concatenate"]
    assert maximum.args == (TensorRef(0), 0.5) and maximum.kwargs == {} and maximum.inputs == [0]
    assert getitem.args == (TensorRef(0), (slice(None), slice(1, None), slice(None, None, 2)))
    assert concat.layer.config["axis"] == 1 and concat.args == ([TensorRef(0), TensorRef(0)],) and concat.inputs == [0, 0]
    assert all(n.layer.origin == "keras2" for n in nodes)


def test_unmapped_tf_ops_are_each_reported():
    x, ids = K.Input((5,), name="x"), K.Input((5,), dtype="int32", name="ids")
    model = K.Model([x, ids], [tf.math.cumsum(x, axis=1), tf.math.floormod(x, 2.0), ids + 1])
    graph = keras2.read_model(model)
    assert all(issubclass(n.layer.cls, keras2.TFOpLambda) for n in graph.nodes)  # int + 1: TF and Keras 3 differ
    with pytest.raises(ConversionError) as info:
        tf2torch.convert(model)
    assert sorted(p.where for p in info.value.problems) == ["tf.__operators__.add", "tf.math.cumsum", "tf.math.floormod"]
    assert all("TFOpLambda is not supported" in p.why for p in info.value.problems)


def test_keras2_only_layer_is_reported_by_class_name():
    model = K.Sequential([K.Input((4,)), L.ThresholdedReLU(0.5), L.Dense(2)])
    layer = keras2.read_model(model).nodes[0].layer
    assert layer.cls.__name__ == "ThresholdedReLU" and lookup(layer.cls) is None
    with pytest.raises(ConversionError, match="ThresholdedReLU is not supported"):
        tf2torch.convert(model)


def test_reference_runs_tf_keras_in_inference_mode():
    model = randomize(K.Sequential([K.Input((4,)), L.Dense(3), L.Dropout(0.9)]))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    (out,) = keras2.reference(model)([x])
    np.testing.assert_array_equal(out, model(x, training=False).numpy())


def _mask_graph(model):
    graph = keras2.read_model(model)
    return graph, {n.layer.name: n for n in graph.nodes}


def test_keras2_masks_are_rebuilt_as_nodes():
    """tf_keras keeps no record of how a mask was made: Embedding(mask_zero) and Masking masks are
    rebuilt as the ops Keras 3 records, passed on by mask-preserving layers, ANDed by merges."""
    ids = K.Input((7,), dtype="int32")
    x = L.Dense(4, name="dense")(L.Embedding(10, 4, mask_zero=True, name="embedding")(ids))
    graph, nodes = _mask_graph(K.Model(ids, L.GRU(3, name="gru")(x)))
    mask = nodes["embedding_mask"]
    assert mask.layer.cls is knp.NotEqual and mask.args == (TensorRef(ids_t := nodes["embedding"].inputs[0]), 0)
    assert nodes["gru"].masks == {nodes["dense"].outputs[0]: mask.outputs[0]}  # through Dense, unchanged
    assert ids_t == graph.inputs[0]

    seq = K.Input((5, 3))
    masked = L.Masking(0.0, name="masking")(seq)
    both = L.Concatenate(name="concatenate")([L.GRU(2, return_sequences=True, name="rnn")(masked), masked])
    graph, nodes = _mask_graph(K.Model(seq, L.LSTM(2, name="lstm")(both)))
    assert nodes["masking_mask"].layer.cls is knp.Any
    assert nodes["lstm"].masks == {nodes["concatenate"].outputs[0]: nodes["masking_mask"].outputs[0]}
    assert "concatenate_mask" not in nodes  # the same mask twice: no AND with itself


def test_keras2_mask_that_cannot_be_rebuilt_is_refused():
    seq = K.Input((5, 3))
    masked = L.Masking(0.0)(seq)
    repeated = L.Lambda(lambda t: t, mask=lambda t, m: m, name="custom")(masked)  # a mask made by user code
    with pytest.raises(ConversionError, match="cannot rebuild for a Keras 2 file") as info:
        keras2.read_model(K.Model(seq, L.LSTM(2, name="lstm")(repeated)))
    assert [p.where for p in info.value.problems] == ["lstm"]


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_keras2_masked_text_model_h5(tmp_path):
    """A Keras 2 file with a mask: Embedding(mask_zero) -> Bidirectional GRU(reset_after=False)
    -> Dense (passes the mask on) -> LSTM; verification feeds padded rows, and an explicit
    pre-padded batch (pad_sequences' default) matches tf_keras."""
    ids = K.Input((11,), dtype="int32", name="ids")
    x = L.Embedding(20, 6, mask_zero=True)(ids)
    x = L.Bidirectional(L.GRU(4, return_sequences=True, reset_after=False))(x)
    x = L.LSTM(5)(L.Dense(3)(x))
    model = K.Model(ids, L.Dense(2)(x))
    conversion = convert_h5(model, tmp_path)
    assert conversion.report["inputs"][0]["padding"] == 0
    batch = K.utils.pad_sequences([[3, 4, 5], [1] * 11, [7, 2, 9, 9, 1, 4]], maxlen=11).astype("int32")
    with torch.inference_mode():
        got = conversion.module(torch.from_numpy(batch)).numpy()
    expected = model(batch, training=False).numpy()
    assert np.abs(got - expected).max() <= TOLERANCE * np.abs(expected).max()

"""Model definitions -> nn.Module classes through the model converter (static: the script never runs)."""
import importlib.util
import runpy
from pathlib import Path

import keras
import numpy as np
import pytest
import torch

import tf2torch
from tf2torch.translate import translate_source

ROOT = Path(__file__).resolve().parents[2]


def translate(code: str):
    result = translate_source(code)
    assert result.error is None
    compile(result.source, "out.py", "exec")
    return result


def run_translation(source: str, tmp_path, name: str = "translated") -> dict:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return runpy.run_path(str(path), run_name=name)


def build_example(name: str):
    keras.utils.clear_session()  # layer names as a fresh run of the script gives them
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model()


@pytest.mark.parametrize("name", ["cnn", "lstm"])
def test_seed_model_translation_loads_converted_weights_strictly(name, tmp_path):
    translated = translate((ROOT / "examples" / f"{name}.py").read_text())
    namespace = run_translation(translated.source, tmp_path)
    torch_model = namespace["build_model"]().eval()
    keras_model = build_example(name)
    conversion = tf2torch.convert(keras_model)
    torch_model.load_state_dict(conversion.state_dict, strict=True)
    shape = (3,) + tuple(keras_model.inputs[0].shape[1:])
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    with torch.no_grad():  # translated models take arrays in Keras' layout and permute once inside
        got = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, keras_model(x).numpy(), atol=1e-5, rtol=0)


def test_cnn_class_is_the_readable_one():
    src = translate((ROOT / "examples" / "cnn.py").read_text()).source
    assert "nn.Conv2d(1, 32, kernel_size=3)" in src and "nn.Linear(5408, 10)" in src
    assert src.count(".permute(0, 3, 1, 2)") == 1  # NHWC arrays enter the model, permuted once
    assert "def build_model():\n    return Cnn()" in src


@pytest.mark.parametrize("code, expected", [
    pytest.param("import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(4,))])\n",
                 "nn.Linear(4, 3)", id="tf.keras-input_shape"),
    pytest.param("from tensorflow import keras\nm = keras.models.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n",
                 "nn.Linear(4, 3)", id="keras.models-Input"),
    pytest.param("from tensorflow.keras import layers, models\nm = models.Sequential()\nm.add(layers.Dense(3, input_dim=4))\n",
                 "nn.Linear(4, 3)", id="add-input_dim"),
    pytest.param("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(3)])\n", "nn.LazyLinear(3)", id="lazy"),
    pytest.param("import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Dense(n_out, input_shape=(n_in,))])\n",
                 "nn.Linear(n_in, n_out)", id="free-names"),
    pytest.param("import tensorflow as tf\nN = 7\nm = tf.keras.Sequential([tf.keras.layers.Dense(N, input_shape=(4,))])\n",
                 "nn.Linear(4, N)", id="named-constant"),
    pytest.param("import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.LeakyReLU(input_shape=(4,)), tf.keras.layers.Dense(2)])\n",
                 "nn.LeakyReLU(0.3)", id="registry-defaults"),
])
def test_sequential_forms(code, expected):
    result = translate(code)
    assert expected in result.source
    assert "tensorflow" not in result.source and "keras" not in result.source.replace("Keras model", "")
    assert result.complete


def test_functional_model_in_a_function_takes_its_parameters():
    code = '''from tensorflow import keras
from tensorflow.keras import layers

def make(n_in, n_out=3):
    inputs = keras.Input(shape=(n_in,))
    h = layers.Dense(16, activation="relu")(inputs)
    return keras.Model(inputs, layers.Dense(n_out)(h), name="mlp")

model = make(4)
'''
    result = translate(code)
    assert "def __init__(self, n_in, n_out):" in result.source
    assert "return Mlp(n_in, n_out)" in result.source and "keras" not in result.source.replace("Keras model", "")


def test_functional_multi_input_shared_layer(tmp_path):
    code = '''import tensorflow as tf
a = tf.keras.Input((5,), name="a")
b = tf.keras.Input((5,), name="b")
shared = tf.keras.layers.Dense(3, name="shared")
merged = tf.keras.layers.Concatenate()([shared(a), shared(b)])
model = tf.keras.Model([a, b], tf.keras.layers.Dense(1)(merged))
'''
    result = translate(code)
    namespace = run_translation(result.source, tmp_path)
    module = namespace["model"]
    assert sorted(k.split(".")[0] for k in module.state_dict()) == ["dense", "dense", "shared", "shared"]
    assert module(torch.ones(2, 5), torch.ones(2, 5)).shape == (2, 1)


@pytest.mark.parametrize("code", [
    pytest.param("def Sequential(layers):\n    return layers\nm = Sequential([1, 2])\n", id="user-function-named-Sequential"),
    pytest.param("import numpy as np\nx = np.ones(3)\n", id="no-keras"),
    pytest.param("from sklearn.pipeline import Pipeline\np = Pipeline([])\n", id="other-library"),
])
def test_no_op(code):
    assert translate(code).source == code


def test_unbuildable_model_is_left_with_a_todo():
    code = "import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Dense(3, activation=my_fn, input_shape=(4,))])\n"
    result = translate(code)
    assert "tf.keras.Sequential" in result.source and result.todos


def test_flatten_of_free_sizes_is_refused_not_guessed():
    code = ("import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Conv2D(4, 3, input_shape=(h, w, 1)), "
            "tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)])\n")
    result = translate(code)
    assert "tf.keras.Sequential" in result.source
    assert any("free names" in why for _, why in result.todos)


def test_weight_regularizers_become_the_penalty_keras_adds_to_the_loss(tmp_path):
    code = '''import tensorflow as tf
model = tf.keras.Sequential([
    tf.keras.layers.Conv2D(3, 3, input_shape=(9, 7, 2), kernel_regularizer=tf.keras.regularizers.L1L2(0.1, 0.2)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(2, kernel_regularizer="l2", bias_regularizer=tf.keras.regularizers.l1(0.05)),
])
'''
    result = translate(code)
    assert "def regularization_loss(self):" in result.source
    module = run_translation(result.source, tmp_path)["model"]
    keras.utils.clear_session()
    keras_model = keras.Sequential([
        keras.Input((9, 7, 2)),
        keras.layers.Conv2D(3, 3, kernel_regularizer=keras.regularizers.L1L2(0.1, 0.2)),
        keras.layers.Flatten(),
        keras.layers.Dense(2, kernel_regularizer="l2", bias_regularizer=keras.regularizers.l1(0.05)),
    ])
    for w in keras_model.weights:
        w.assign(np.random.default_rng(len(w.path)).normal(size=w.shape).astype("float32"))
    module.load_state_dict(tf2torch.convert(keras_model, verify=False).state_dict, strict=True)
    expected = float(sum(keras_model.losses))
    assert abs(float(module.regularization_loss()) - expected) <= 1e-5 * abs(expected)


def test_activity_regularizer_is_refused_not_dropped():
    code = "import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,), activity_regularizer='l2')])\n"
    result = translate(code)
    assert "tf.keras.Sequential" in result.source
    assert any("activity_regularizer" in why for _, why in result.todos)

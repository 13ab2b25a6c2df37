import os

# Reproducible TensorFlow reference numbers, quiet logs; set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_keras_names():
    """Layer names come from global counters: reset them so tests do not depend on their order."""
    import keras

    keras.utils.clear_session()
    if "tf_keras" in sys.modules:
        sys.modules["tf_keras"].backend.clear_session()
    yield

"""--verify's harness: same initial weights, same batch order, per-epoch losses compared."""
import io
import textwrap

from tf2torch.translate import parity

KERAS = textwrap.dedent('''
    import numpy as np
    import tensorflow as tf
    rng = np.random.default_rng(0)
    x = rng.normal(size=(13, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3).astype("float32")
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=4, batch_size=4, verbose=0)
''')

# a hand-written translation with Keras' fit semantics: one randperm per epoch, last partial batch kept,
# the epoch loss is the mean of batch losses weighted by batch size
TORCH = textwrap.dedent('''
    import numpy as np
    import torch
    from torch import nn

    def fit(model, x, y, loss_fn, optimizer, epochs=1, batch_size=32):
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        history = {"loss": []}
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(x))
            total, seen = 0.0, 0
            for start in range(0, len(x), batch_size):
                idx = order[start:start + batch_size]
                optimizer.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
                seen += len(idx)
            history["loss"].append(total / seen)
        return history

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(3, 1)

        def forward(self, x):
            return self.dense(x)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(13, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3).astype("float32")
    model = Model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    fit(model, x, y, nn.MSELoss(), optimizer, epochs=4, batch_size=4)
''')


def test_same_training_gives_the_same_losses(tmp_path):
    (tmp_path / "orig.py").write_text(KERAS)
    (tmp_path / "trans.py").write_text(TORCH)
    out = io.StringIO()
    assert parity.verify_script(tmp_path / "orig.py", tmp_path / "trans.py", timeout=300, out=out), out.getvalue()
    text = out.getvalue()
    assert "max relative difference" in text and text.count("\n  ") == 4  # one line per epoch


def test_a_different_training_is_caught(tmp_path):
    (tmp_path / "orig.py").write_text(KERAS)
    (tmp_path / "trans.py").write_text(TORCH.replace("lr=0.01", "lr=0.02"))
    out = io.StringIO()
    assert not parity.verify_script(tmp_path / "orig.py", tmp_path / "trans.py", timeout=300, out=out)
    assert "ABOVE" in out.getvalue()


def test_report_flags_missing_epochs():
    out = io.StringIO()
    assert not parity.report("s", [[1.0, 2.0]], [[1.0]], out)

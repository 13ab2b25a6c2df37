"""GradientTape loops, tf.function and train_step overrides (translate/transforms/tape.py).

Before/after cases, no-op cases, and training runs: the same loop in TensorFlow and, translated, in
PyTorch from the same initial weights (copied by tf2torch.convert), compared step by step.
"""
from __future__ import annotations

import textwrap
import types

import libcst as cst
import numpy as np
import pytest
import torch
from libcst.codemod import CodemodContext

from tf2torch.translate.base import state_of
from tf2torch.translate.state import ModelInfo
from tf2torch.translate.transforms.tape import TRANSFORM

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")  # float(loss)

MODELS = ("model", "generator", "discriminator", "net")


def translate(source: str, models=MODELS):
    """This transformation alone; `models` are known model variables (as the models step records them)."""
    context = CodemodContext()
    state = state_of(context)
    for name in models:
        state.models[name] = ModelInfo(name, "Net")
    code = TRANSFORM(context).transform_module(cst.parse_module(textwrap.dedent(source))).code
    return code, state


def body(code: str) -> str:
    """The code without its import lines (kept here: the runner removes unused TensorFlow imports)."""
    return "\n".join(line for line in code.splitlines() if not line.startswith(("import ", "from "))).strip() + "\n"


CASES = [
    pytest.param("""
        import tensorflow as tf


        @tf.function
        def train_step(x, y):
            # one step
            with tf.GradientTape() as tape:
                pred = model(x, training=True)
                loss = loss_fn(y, pred)
            grads = tape.gradient(loss, model.trainable_variables)  # d loss / d weights
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        """, """
        def train_step(x, y):
            # one step
            optimizer.zero_grad()
            model.train()
            pred = model(x)
            loss = loss_fn(y, pred)
            loss.backward()  # d loss / d weights
            optimizer.step()
            return loss
        """, id="backward"),
    pytest.param("""
        import tensorflow as tf

        for x, y in batches:
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            grads, norm = tf.clip_by_global_norm(grads, 5.0)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
        """, """
        for x, y in batches:
            optimizer.zero_grad()
            model.train()
            loss = loss_fn(y, model(x))
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        """, id="clip-by-global-norm"),
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = compute_loss(net, x)
        grads = tape.gradient(loss, net.trainable_variables)
        grads = [tf.clip_by_norm(g, 1.0) for g in grads]
        opt.apply_gradients(zip(grads, net.trainable_variables))
        """, """
        opt.zero_grad()
        loss = compute_loss(net, x)
        loss.backward()
        for param in net.parameters():
            torch.nn.utils.clip_grad_norm_(param, 1.0)
        opt.step()
        """, id="clip-by-norm-per-tensor"),
    pytest.param("""
        import tensorflow as tf


        @tf.function(jit_compile=True)
        def train_step(real, noise):
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = generator(noise, training=True)
                real_logits = discriminator(real, training=True)
                fake_logits = discriminator(fake, training=True)
                d_loss = d_loss_fn(real_logits, fake_logits)
                g_loss = g_loss_fn(fake_logits)
            d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
            g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
            d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
            g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
            return d_loss, g_loss
        """, """
        def train_step(real, noise):
            generator.train()
            fake = generator(noise)
            discriminator.train()
            real_logits = discriminator(real)
            fake_logits = discriminator(fake)
            d_loss = d_loss_fn(real_logits, fake_logits)
            g_loss = g_loss_fn(fake_logits)
            d_grads = torch.autograd.grad(d_loss, discriminator.parameters(), retain_graph=True)
            g_grads = torch.autograd.grad(g_loss, generator.parameters())
            for param, grad in zip(discriminator.parameters(), d_grads):
                param.grad = grad
            d_optimizer.step()
            for param, grad in zip(generator.parameters(), g_grads):
                param.grad = grad
            g_optimizer.step()
            return d_loss, g_loss
        """, id="gan-two-tapes"),
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = x * x
            z = y * x
            with tape.stop_recording():
                log(y)
        dy_dx = tape.gradient(y, x)
        dz_dx = tape.gradient(z, x)
        del tape
        """, """
        x.requires_grad_(True)
        y = x * x
        z = y * x
        with torch.no_grad():
            log(y)
        dy_dx = torch.autograd.grad(y.sum(), x, retain_graph=True)[0]
        dz_dx = torch.autograd.grad(z.sum(), x)[0]
        """, id="persistent-watch-stop-recording"),
    pytest.param("""
        import tensorflow as tf

        t = tf.Variable(0.5)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                f = t ** 4
            df = inner.gradient(f, t)
        d2f = outer.gradient(df, t)
        """, """
        t = tf.Variable(0.5)
        f = t ** 4
        df = torch.autograd.grad(f.sum(), t, create_graph=True)[0]
        d2f = torch.autograd.grad(df.sum(), t)[0]
        """, id="nested-second-derivative"),
    pytest.param("""
        import tensorflow as tf
        from tensorflow import keras


        class Regressor(keras.Model):
            def train_step(self, data):
                x, y = data
                with tf.GradientTape() as tape:
                    y_pred = self(x, training=True)
                    loss = self.loss_fn(y, y_pred)
                trainable_vars = self.trainable_variables
                gradients = tape.gradient(loss, trainable_vars)
                self.optimizer.apply_gradients(zip(gradients, trainable_vars))
                return {"loss": loss}

            def test_step(self, data):
                x, y = data
                return {"loss": self.loss_fn(y, self(x, training=False))}
        """, """
        class Regressor(keras.Model):
            # Keras' fit() called train_step(data) once per batch (traced by tf.function) and logged the metrics
            # it returns; as a plain method it runs only when the training loop calls it.
            def train_step(self, data):
                x, y = data
                self.optimizer.zero_grad()
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred)
                loss.backward()
                self.optimizer.step()
                return {"loss": loss}

            # Keras' evaluate() called test_step(data) once per batch in inference mode and logged the metrics it
            # returns; as a plain method it runs only when the evaluation loop calls it.
            @torch.no_grad()
            def test_step(self, data):
                x, y = data
                return {"loss": self.loss_fn(y, self(x, training=False))}
        """, id="train-step-override"),
    pytest.param("""
        from tensorflow import GradientTape

        with GradientTape() as tape:
            loss = model(x)
        grads = tape.gradient(loss, model.trainable_variables)
        if step % 2 == 0:
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        n = len(model.trainable_weights)
        for v in model.trainable_variables:
            print(v.shape)
        """, """
        loss = model(x)
        grads = torch.autograd.grad(loss, model.parameters())
        if step % 2 == 0:
            for param, grad in zip(model.parameters(), grads):
                param.grad = grad
            optimizer.step()
        n = len(list(model.parameters()))
        for v in model.parameters():
            print(v.shape)
        """, id="apply-elsewhere-and-trainable-variables"),
    pytest.param("""
        import tensorflow as tf

        def train_step(batch):
            with tf.GradientTape() as tape:
                loss = loss_of(encoder(batch), decoder)
            variables = encoder.trainable_weights + decoder.trainable_weights
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return loss
        """, """
        def train_step(batch):
            optimizer.zero_grad()
            loss = loss_of(encoder(batch), decoder)
            loss.backward()
            optimizer.step()
            return loss
        """, id="vae-two-models-one-optimizer"),
    pytest.param("""
        import tensorflow as tf


        def step(x):
            return x + 1


        fast_step = tf.function(step)
        xla_step = tf.function(step, jit_compile=True)
        y = tf.function(step)(2)


        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def double(x):
            return 2 * x
        """, """
        def step(x):
            return x + 1


        fast_step = step
        xla_step = step
        y = step(2)


        def double(x):
            return 2 * x
        """, id="tf-function"),
    pytest.param("""
        import tensorflow as tf

        for x, y in val_batches:
            val_pred = model(x, training=False)
            other = model(y, training=False)
            metric.update_state(y, val_pred)
        """, """
        for x, y in val_batches:
            model.eval()
            val_pred = model(x)
            other = model(y)
            metric.update_state(y, val_pred)
        """, id="training-false"),
]

TODOS = [
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            pred = model(x)
        loss = loss_fn(y, pred)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        """, ["not a variable computed inside the tape", "comes from a GradientTape kept as is"], id="loss-outside-the-tape"),
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y = f(x)
        jac = tape.jacobian(y, x)
        """, ["other than by gradient()"], id="jacobian"),
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape(watch_accessed_variables=False) as tape:
            y = f(x)
        g = tape.gradient(y, x)
        """, ["watch_accessed_variables"], id="watch-accessed-variables"),
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y = f(w)
        g = tape.gradient(y, w)
        """, ["one tensor or a list"], id="sources-of-unknown-structure"),
    pytest.param("""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y = f(w)
        """, ["no `tape.gradient(...)` after it"], id="no-gradient"),
    pytest.param("""
        optimizer.apply_gradients(grads_and_vars)
        """, ["only `apply_gradients(zip(grads, variables))`"], id="apply-gradients-pairs-variable"),
    pytest.param("""
        if model(x, training=False).mean() > 0:
            pass
        y = model(x, training=flag)
        """, ["in a compound statement's header", "training=flag)`: the torch module has no `training` argument"],
        id="training-argument-not-translatable"),
]

NOOPS = [
    pytest.param("""
        class Field:
            def gradient(self, loss, at):
                return at


        g = Field().gradient(1.0, 2.0)
        tape = Field()
        h = tape.gradient(1.0, 2.0)
        """, id="user-gradient-method"),
    pytest.param("""
        with open("log.txt") as tape:
            tape.write("x")
        """, id="with-open"),
    pytest.param("""
        import pandas as pd

        batch = queue.batch(32)
        frame = pd.DataFrame({"a": [1]}).apply(lambda r: r, axis=1)
        optimizer.step()
        """, id="other-libraries"),
    pytest.param("""
        import functools


        @functools.lru_cache
        def train_step(x):
            return model(x)
        """, id="other-decorators-and-model-call"),
]


@pytest.mark.parametrize("before, after", CASES)
def test_translates(before, after):
    code, state = translate(before)
    assert body(code) == textwrap.dedent(after).lstrip()
    assert "TODO" not in code
    if "torch." in after:
        assert "import torch" in state.imports


@pytest.mark.parametrize("before, reasons", TODOS)
def test_untranslatable_code_stays_under_a_todo(before, reasons):
    source = textwrap.dedent(before)
    code, _ = translate(source)
    todos = [line for line in code.splitlines() if "TODO(tf2torch)" in line]
    assert len(todos) == len(reasons)
    for todo, reason in zip(todos, reasons):
        assert reason in todo
    assert [line for line in code.splitlines() if "TODO(tf2torch)" not in line] == source.splitlines()


SECOND_TAPE_KEPT = [
    pytest.param("""
        with tf.GradientTape() as d_tape:
            d_loss = d_loss_fn(discriminator(real), discriminator(fake))
        with tf.GradientTape() as g_tape:
            g_loss = g_loss_fn(discriminator(fake))
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
        """, "weights are updated between the forward pass and its gradient", id="update-between-forward-and-gradient"),
    pytest.param("""
        with tf.GradientTape() as d_tape:
            fake = generator(noise)
            d_loss = d_loss_fn(discriminator(real), discriminator(fake))
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        with tf.GradientTape() as g_tape:
            g_loss = g_loss_fn(discriminator(fake))
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
        """, "`fake` was computed by generator before the tape: TensorFlow does not differentiate through it",
        id="input-computed-before-the-tape"),
]


@pytest.mark.parametrize("before, reason", SECOND_TAPE_KEPT)
def test_a_tape_that_pytorch_would_differentiate_differently_is_kept(before, reason):
    """The first tape translates; the second stays TensorFlow, as does the apply_gradients of its result."""
    code, _ = translate("import tensorflow as tf\n" + textwrap.dedent(before))
    lines = code.splitlines()
    kept = lines.index("with tf.GradientTape() as g_tape:")
    assert lines[kept - 1].startswith("# TODO(tf2torch): GradientTape kept as is: ") and reason in lines[kept - 1]
    assert "g_grads = g_tape.gradient(g_loss, generator.trainable_variables)" in lines
    assert "# TODO(tf2torch): apply_gradients kept as is: `g_grads` comes from a GradientTape kept as is" in lines
    assert "d_tape" not in code and "torch.autograd.grad(d_loss, discriminator.parameters()" in code


def test_a_model_from_outside_the_script_keeps_training_under_a_todo():
    """A snippet's free `classifier` may be a torch module (no `training=`) or not: said, not guessed."""
    code, _ = translate("""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(y, classifier(x, training=True))
        grads = tape.gradient(loss, classifier.trainable_variables)
        opt.apply_gradients(zip(grads, classifier.trainable_variables))
        """)
    assert body(code) == textwrap.dedent("""\
        opt.zero_grad()
        # TODO(tf2torch): `classifier` comes from outside this script: if it is a torch module, drop `training=` and call classifier.train() or classifier.eval() before the call
        loss = loss_fn(y, classifier(x, training=True))
        loss.backward()
        opt.step()
        """)


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_other_code_alone(source):
    source = textwrap.dedent(source)
    code, state = translate(source)
    assert code == source
    assert not state.imports and not state.notes


# ------------------------------------------------------------------------------------------------
# the translated loops train like the TensorFlow ones
# ------------------------------------------------------------------------------------------------
def _mlp(keras, seed: int, n_in: int, n_out: int):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(n_out)])


def _torch_twin(keras_model):
    """The converted module with the Keras model's current weights (tf2torch.convert's state_dict)."""
    import tf2torch

    return tf2torch.convert(keras_model, verify=False).module


def _run_both(loop: str, tf_namespace: dict, torch_namespace: dict) -> tuple[dict, dict, str]:
    import tensorflow as tf

    source = "import tensorflow as tf\n" + textwrap.dedent(loop)
    exec(compile(source, "<tensorflow>", "exec"), tf_namespace)
    translated, _ = translate(source)
    assert "TODO" not in translated and "GradientTape" not in translated, translated
    torch_namespace["torch"] = torch
    exec(compile(body(translated), "<torch>", "exec"), torch_namespace)
    return tf_namespace, torch_namespace, translated


def _batches(seed: int, n_in: int, n_out: int, steps: int = 3, size: int = 8):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((size, n_in)).astype("float32"), rng.standard_normal((size, n_out)).astype("float32"))
            for _ in range(steps)]


def _tensors(batches, convert):
    return [tuple(convert(a) for a in batch) for batch in batches]


LOOP = """
    losses, norms = [], []
    for x, y in batches:
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = loss_fn(y, pred)
        grads = tape.gradient(loss, model.trainable_variables)
        {clip}
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
"""


@pytest.mark.parametrize("clip", ["", "grads, norm = tf.clip_by_global_norm(grads, 0.05)\n        norms.append(float(norm))"],
                         ids=["plain", "clip-by-global-norm"])
def test_custom_loop_trains_like_tensorflow(clip):
    import keras
    import tensorflow as tf

    kmodel = _mlp(keras, 0, 3, 1)
    tmodel = _torch_twin(kmodel)
    batches = _batches(1, 3, 1)
    loop = LOOP.format(clip=clip)
    tf_ns = {"model": kmodel, "optimizer": keras.optimizers.SGD(0.1), "loss_fn": keras.losses.MeanSquaredError(),
             "batches": _tensors(batches, tf.constant)}
    torch_ns = {"model": tmodel, "optimizer": torch.optim.SGD(tmodel.parameters(), lr=0.1), "loss_fn": torch.nn.MSELoss(),
                "batches": _tensors(batches, torch.from_numpy)}
    tf_ns, torch_ns, translated = _run_both(loop, tf_ns, torch_ns)
    assert ("clip_grad_norm_" in translated) == bool(clip)
    assert len(tf_ns["losses"]) == 3 and len(set(tf_ns["losses"])) == 3  # it trains
    np.testing.assert_allclose(torch_ns["losses"], tf_ns["losses"], rtol=1e-5)
    np.testing.assert_allclose(torch_ns["norms"], tf_ns["norms"], rtol=1e-5)
    if clip:
        assert min(tf_ns["norms"]) > 0.05  # the clipping was active
    trained = _torch_twin(kmodel).state_dict()  # the Keras weights after training, in torch layout
    for name, value in tmodel.state_dict().items():
        np.testing.assert_allclose(value.numpy(), trained[name].numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


GAN_LOOPS = {
    "two-tapes-one-with": """
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss = mean(softplus(-real_logits)) + mean(softplus(fake_logits))
            g_loss = mean(softplus(-fake_logits))
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    """,
    "discriminator-then-generator": """
        with tf.GradientTape() as d_tape:
            d_loss = mean(softplus(-discriminator(real, training=True))) + mean(softplus(discriminator(generator(noise), training=True)))
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        with tf.GradientTape() as g_tape:
            g_loss = mean(softplus(-discriminator(generator(noise, training=True))))
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    """,
}


@pytest.mark.parametrize("step", GAN_LOOPS.values(), ids=GAN_LOOPS.keys())
def test_gan_steps_train_like_tensorflow(step):
    """Two models, two optimizers: each shape of GAN step gives TensorFlow's losses and updates."""
    import keras
    import tensorflow as tf

    kgen, kdisc = _mlp(keras, 2, 2, 2), _mlp(keras, 3, 2, 1)
    tgen, tdisc = _torch_twin(kgen), _torch_twin(kdisc)
    batches = _batches(4, 2, 2)
    loop = ("d_losses, g_losses = []\nfor real, noise in batches:\n" + textwrap.indent(textwrap.dedent(step), "    ")
            + "    d_losses.append(float(d_loss))\n    g_losses.append(float(g_loss))\n").replace("= []", "= [], []", 1)
    tf_ns = {"generator": kgen, "discriminator": kdisc, "d_optimizer": keras.optimizers.SGD(0.2),
             "g_optimizer": keras.optimizers.SGD(0.2), "mean": tf.reduce_mean, "softplus": tf.nn.softplus,
             "batches": _tensors(batches, tf.constant)}
    torch_ns = {"generator": tgen, "discriminator": tdisc, "d_optimizer": torch.optim.SGD(tdisc.parameters(), lr=0.2),
                "g_optimizer": torch.optim.SGD(tgen.parameters(), lr=0.2), "mean": torch.mean,
                "softplus": torch.nn.functional.softplus, "batches": _tensors(batches, torch.from_numpy)}
    tf_ns, torch_ns, translated = _run_both(loop, tf_ns, torch_ns)
    np.testing.assert_allclose(torch_ns["d_losses"], tf_ns["d_losses"], rtol=1e-5)
    np.testing.assert_allclose(torch_ns["g_losses"], tf_ns["g_losses"], rtol=1e-5)
    assert len(set(tf_ns["g_losses"])) == 3
    for kmodel, tmodel in ((kgen, tgen), (kdisc, tdisc)):
        trained = _torch_twin(kmodel).state_dict()
        for name, value in tmodel.state_dict().items():
            np.testing.assert_allclose(value.numpy(), trained[name].numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


INPUT_GRADIENTS = """
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = model(x)
        s = y * y
    dy_dx = tape.gradient(y, x)
    ds_dx = tape.gradient(s, x)
    del tape
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            f = t ** 4
        df = inner.gradient(f, t)
    d2f = outer.gradient(df, t)
"""


def test_gradients_with_respect_to_inputs_like_tensorflow():
    """Watched inputs, a persistent tape, non-scalar targets (TF sums them), a second derivative."""
    import keras
    import tensorflow as tf

    kmodel = _mlp(keras, 5, 3, 2)
    tmodel = _torch_twin(kmodel)
    x = np.random.default_rng(6).standard_normal((4, 3)).astype("float32")
    source = INPUT_GRADIENTS.replace("    with tf.GradientTape() as outer:", "    t = tf.Variable(0.5)\n    with tf.GradientTape() as outer:")
    tf_ns = {"model": kmodel, "x": tf.constant(x)}
    fake_tf = types.SimpleNamespace(Variable=lambda v: torch.tensor(v, requires_grad=True))  # what the ops step gives
    torch_ns = {"model": tmodel, "x": torch.from_numpy(x), "torch": torch, "tf": fake_tf}
    exec(compile("import tensorflow as tf\n" + textwrap.dedent(source), "<tensorflow>", "exec"), tf_ns)
    translated, _ = translate("import tensorflow as tf\n" + textwrap.dedent(source))
    assert "TODO" not in translated, translated
    exec(compile(body(translated), "<torch>", "exec"), torch_ns)
    for name in ("dy_dx", "ds_dx"):
        np.testing.assert_allclose(torch_ns[name].numpy(), tf_ns[name].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    assert float(torch_ns["df"]) == pytest.approx(float(tf_ns["df"]), rel=1e-6)  # 4 t^3
    assert float(torch_ns["d2f"]) == pytest.approx(float(tf_ns["d2f"]), rel=1e-6)  # 12 t^2


SCRIPT = '''\
"""A custom training loop: tf.data batches, a GradientTape step under tf.function."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(1)])
optimizer = keras.optimizers.SGD(learning_rate=0.1)
loss_fn = keras.losses.MeanSquaredError()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        pred = model(x, training=True)
        loss = loss_fn(y, pred)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def train(x, y, epochs):
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    losses = []
    for epoch in range(epochs):
        for xb, yb in dataset:
            losses.append(float(train_step(xb, yb)))
    return losses
'''


def test_translated_script_trains_like_the_tensorflow_script():
    """The whole translation (models, training, tape and data steps): same losses from the same weights,
    on float64 arrays that Keras casts to float32."""
    import tf2torch
    from tf2torch.translate import translate_source

    tf_ns, torch_ns = {}, {}
    exec(compile(SCRIPT, "<tensorflow>", "exec"), tf_ns)  # first: its layer names are those of a fresh run
    translation = translate_source(SCRIPT)
    assert translation.complete, translation.todos
    assert "zero_grad()" in translation.source and "DataLoader(" in translation.source
    exec(compile(translation.source, "<torch>", "exec"), torch_ns)
    torch_ns["model"].load_state_dict(tf2torch.convert(tf_ns["model"], verify=False).state_dict)
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 1))  # float64, 3 batches an epoch (4, 4, 2)
    tf_losses, torch_losses = tf_ns["train"](x, y, 2), torch_ns["train"](x, y, 2)
    assert len(tf_losses) == 6
    np.testing.assert_allclose(torch_losses, tf_losses, rtol=1e-5)

"""Keras Model.fit / evaluate / predict as explicit PyTorch loops, with Keras' exact semantics
(keras/src/trainers/trainer.py, keras/src/backend/tensorflow/trainer.py, keras/src/trainers/data_adapters/).

Arrays (NumPy or tensors) are batched like Keras: `batch_size` (default 32) samples per batch, the
last batch partial, reshuffled at every epoch (one torch.randperm per epoch), float64 cast to
float32. Any other data (DataLoader, generator, ...) is iterated as it is, batch by batch; Keras then
ignores batch_size and shuffle too. A model whose inputs run channels-first gets
`input_permutations` (torch input = keras array permuted so), and `output_permutation` is undone on
its output before the loss, the metrics and predict.
"""
import itertools
import math
import time

import numpy as np
import torch

from .callbacks import History
from .metrics import Mean


def fit(model, x, y=None, loss_fn=None, optimizer=None, metrics=(), *, weighted_metrics=(), batch_size=None,
        epochs=1, verbose=1, callbacks=(), validation_split=0.0, validation_data=None, shuffle=True,
        class_weight=None, sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1, input_permutations=None, output_permutation=None):
    """Keras Model.fit: trains for epochs `initial_epoch .. epochs - 1` and returns a History
    (`history.history["loss"]`, ...). Train metrics are running means over the epoch, computed on the
    training-mode predictions; validation runs in eval mode at the end of each epoch."""
    x, y, sample_weight = as_tensors(x), as_tensors(y), as_tensors(sample_weight)
    if validation_split and validation_data is None:
        # The LAST fraction of the arrays, before any shuffling (keras/src/trainers/data_adapters/array_slicing.py).
        n = sample_count(x)
        split_at = int(math.floor(n * (1.0 - validation_split)))
        validation_data = tuple(slice_samples(a, slice(split_at, n)) for a in (x, y, sample_weight))
        x, y, sample_weight = (slice_samples(a, slice(0, split_at)) for a in (x, y, sample_weight))
    if class_weight is not None:
        sample_weight = class_weight_to_sample_weights(y, class_weight)
    batch_size = batch_size or 32
    history = History()
    callbacks = [*callbacks, history]
    for callback in callbacks:
        callback.set_context(model, optimizer, [*metrics, *weighted_metrics])
    loss_tracker = Mean(name="loss")  # mean of the batch losses weighted by batch size
    device = device_of(model)
    model.stop_training = False
    for callback in callbacks:
        callback.on_train_begin()
    num_batches = math.ceil(sample_count(x) / batch_size) if is_array_data(x) else length_or_none(x)
    batches, seen = None, 0  # with steps_per_epoch the batch iterator carries over epochs, as in Keras
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        for metric in (loss_tracker, *metrics, *weighted_metrics):
            metric.reset_state()
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        model.train()
        start = time.time()
        if batches is None or steps_per_epoch is None:
            batches, seen = iter(keras_batches(x, y, sample_weight, batch_size, shuffle)), 0
        step = -1
        for step, (x_batch, y_batch, weight_batch) in enumerate(itertools.islice(batches, steps_per_epoch)):
            for callback in callbacks:
                callback.on_train_batch_begin(step)
            x_batch, y_batch, weight_batch = move_to_device((x_batch, y_batch, weight_batch), device)
            y_pred = call_model(model, x_batch, input_permutations, output_permutation)
            loss = loss_fn(y_batch, y_pred, weight_batch)
            if hasattr(model, "regularization_loss"):  # Keras adds the regularizer losses (model.losses)
                loss = loss + model.regularization_loss()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_tracker.update_state(loss.detach(), sample_weight=sample_count(x_batch))
            for metric in metrics:
                metric.update_state(y_batch, y_pred.detach())
            for metric in weighted_metrics:
                metric.update_state(y_batch, y_pred.detach(), weight_batch)
            logs = metric_results(loss_tracker, *metrics, *weighted_metrics)
            for callback in callbacks:
                callback.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        seen += step + 1
        if steps_per_epoch is not None and ((num_batches and seen >= num_batches) or step + 1 < steps_per_epoch):
            batches = None  # exhausted: the next epoch starts a new pass (and a new shuffle)
        epoch_logs = metric_results(loss_tracker, *metrics, *weighted_metrics)
        if validation_data is not None and (epoch + 1) % validation_freq == 0:
            x_val, y_val, weight_val = unpack_validation_data(validation_data)
            val_logs = evaluate(model, x_val, y_val, loss_fn, metrics, weighted_metrics=weighted_metrics,
                                batch_size=validation_batch_size or batch_size, verbose=0, sample_weight=weight_val,
                                steps=validation_steps, return_dict=True, input_permutations=input_permutations,
                                output_permutation=output_permutation)
            epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
        for callback in callbacks:
            callback.on_epoch_end(epoch, epoch_logs)
        if verbose:
            shown = " - ".join(f"{name}: {value:.4f}" for name, value in epoch_logs.items())
            print(f"Epoch {epoch + 1}/{epochs} - {step + 1} steps - {time.time() - start:.1f}s - {shown}")
        if model.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end(epoch_logs)
    return history


def evaluate(model, x, y=None, loss_fn=None, metrics=(), *, weighted_metrics=(), batch_size=None, verbose=1,
             sample_weight=None, steps=None, return_dict=False, input_permutations=None, output_permutation=None):
    """Keras Model.evaluate: eval mode, no gradients, batches of 32 in order; the loss and metrics
    are means over all samples. Returns the loss alone if there are no metrics, else
    [loss, *metrics] (a dict with return_dict=True)."""
    x, y, sample_weight = as_tensors(x), as_tensors(y), as_tensors(sample_weight)
    loss_tracker = Mean(name="loss")
    for metric in (*metrics, *weighted_metrics):
        metric.reset_state()
    device = device_of(model)
    model.eval()
    with torch.no_grad():
        batches = keras_batches(x, y, sample_weight, batch_size or 32, shuffle=False)
        for x_batch, y_batch, weight_batch in itertools.islice(batches, steps):
            x_batch, y_batch, weight_batch = move_to_device((x_batch, y_batch, weight_batch), device)
            y_pred = call_model(model, x_batch, input_permutations, output_permutation)
            loss = loss_fn(y_batch, y_pred, weight_batch)
            if hasattr(model, "regularization_loss"):
                loss = loss + model.regularization_loss()
            loss_tracker.update_state(loss, sample_weight=sample_count(x_batch))
            for metric in metrics:
                metric.update_state(y_batch, y_pred)
            for metric in weighted_metrics:
                metric.update_state(y_batch, y_pred, weight_batch)
    logs = metric_results(loss_tracker, *metrics, *weighted_metrics)
    if verbose:
        print(" - ".join(f"{name}: {value:.4f}" for name, value in logs.items()))
    if return_dict:
        return logs
    return logs["loss"] if len(logs) == 1 else list(logs.values())


def predict(model, x, batch_size=None, verbose=0, steps=None, input_permutations=None, output_permutation=None):
    """Keras Model.predict: eval mode, no gradients, batches of 32 in order, outputs concatenated
    into a NumPy array (a list of arrays for several outputs)."""
    x = as_tensors(x)
    device = device_of(model)
    model.eval()
    outputs = []
    with torch.no_grad():
        for x_batch, _, _ in itertools.islice(keras_batches(x, None, None, batch_size or 32, shuffle=False), steps):
            y_pred = call_model(model, move_to_device(x_batch, device), input_permutations, output_permutation)
            outputs.append([t.cpu() for t in y_pred] if isinstance(y_pred, (list, tuple)) else y_pred.cpu())
    if outputs and isinstance(outputs[0], list):
        return [torch.cat(parts).numpy() for parts in zip(*outputs)]
    return torch.cat(outputs).numpy()


def train_on_batch(model, x, y=None, loss_fn=None, optimizer=None, metrics=(), *, sample_weight=None, class_weight=None,
                   return_dict=False, input_permutations=None, output_permutation=None):
    """Keras Model.train_on_batch: metrics reset, one optimizer step on this batch (training mode);
    returns the loss, or [loss, *metrics] (a dict with return_dict=True), for this batch."""
    x, y, sample_weight = as_tensors(x), as_tensors(y), as_tensors(sample_weight)
    if class_weight is not None:
        sample_weight = class_weight_to_sample_weights(y, class_weight)
    x, y, sample_weight = move_to_device((x, y, sample_weight), device_of(model))
    model.train()
    y_pred = call_model(model, x, input_permutations, output_permutation)
    loss = loss_fn(y, y_pred, sample_weight)
    if hasattr(model, "regularization_loss"):
        loss = loss + model.regularization_loss()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    loss_tracker = Mean(name="loss")
    loss_tracker.update_state(loss.detach(), sample_weight=sample_count(x))
    for metric in metrics:
        metric.reset_state()
        metric.update_state(y, y_pred.detach())
    logs = metric_results(loss_tracker, *metrics)
    if return_dict:
        return logs
    return logs["loss"] if len(logs) == 1 else list(logs.values())


def test_on_batch(model, x, y=None, loss_fn=None, metrics=(), *, sample_weight=None, return_dict=False,
                  input_permutations=None, output_permutation=None):
    """Keras Model.test_on_batch: evaluate on this one batch (metrics reset first)."""
    return evaluate(model, x, y, loss_fn, metrics, batch_size=sample_count(as_tensors(x)), verbose=0,
                    sample_weight=sample_weight, return_dict=return_dict, input_permutations=input_permutations,
                    output_permutation=output_permutation)


def predict_on_batch(model, x, input_permutations=None, output_permutation=None):
    """Keras Model.predict_on_batch: eval mode, no gradients, one batch, a NumPy array."""
    x = as_tensors(x)
    return predict(model, x, batch_size=sample_count(x), input_permutations=input_permutations,
                   output_permutation=output_permutation)


def summary(model):
    """Keras model.summary(): the layers and the parameter counts. Keras counts BatchNorm moving
    statistics as non-trainable parameters: here they are the floating-point buffers."""
    print(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    print(f"Total params: {trainable + frozen + buffers:,}")
    print(f"Trainable params: {trainable:,}")
    print(f"Non-trainable params: {frozen + buffers:,}")


def keras_batches(x, y, sample_weight, batch_size, shuffle):
    """One epoch of (x, y, sample_weight) batches. Arrays: `batch_size` samples per batch, the last
    one partial, in a new random order if shuffle (exactly one torch.randperm per epoch). Anything
    else is a source of ready batches: (x, y), (x, y, sample_weight) or x."""
    if not is_array_data(x):
        # a keras.utils.PyDataset / Sequence gives batches by index, in a new random order each epoch if shuffle
        # (keras/src/trainers/data_adapters/py_dataset_adapter.py); other sources are iterated as they are
        indexed = hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, torch.utils.data.Dataset)
        if indexed and hasattr(x, "on_epoch_begin"):
            x.on_epoch_begin()
        order = (torch.randperm(len(x)).tolist() if shuffle else range(len(x))) if indexed else None
        for batch in (x[i] for i in order) if indexed else x:
            batch = as_tensors(batch)
            if isinstance(batch, (list, tuple)) and len(batch) in (2, 3):
                yield batch[0], batch[1], batch[2] if len(batch) == 3 else None
            else:
                yield batch, None, None
        if indexed and hasattr(x, "on_epoch_end"):
            x.on_epoch_end()
        return
    n = sample_count(x)
    if shuffle == "batch":
        raise NotImplementedError("shuffle='batch' (shuffling in batch-sized chunks) is not translated")
    order = torch.randperm(n) if shuffle else None
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size] if order is not None else slice(start, start + batch_size)
        yield slice_samples(x, index), slice_samples(y, index), slice_samples(sample_weight, index)


def call_model(model, x, input_permutations=None, output_permutation=None):
    if isinstance(x, dict):
        raise TypeError("inputs given as a dict (Keras input names): pass them as a list in the model's input order")
    inputs = list(x) if isinstance(x, (list, tuple)) else [x]
    if input_permutations:
        inputs = [t.permute(*perm) if perm else t for t, perm in zip(inputs, input_permutations)]
    y_pred = model(*inputs)
    if output_permutation:
        y_pred = y_pred.permute(*np.argsort(output_permutation).tolist())  # back to the Keras layout
    return y_pred


def as_tensors(data):
    """Arrays to tensors the way Keras' data adapters do: floating point becomes float32."""
    if data is None or isinstance(data, (str, bytes)):
        return data
    if isinstance(data, dict):
        return {key: as_tensors(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(as_tensors(item) for item in data)
    if isinstance(data, (np.ndarray, np.generic, torch.Tensor)):
        tensor = torch.as_tensor(data)
        return tensor.float() if tensor.is_floating_point() else tensor
    return data  # a DataLoader, a generator, ...


def is_array_data(x):
    return isinstance(x, torch.Tensor) or (isinstance(x, (list, tuple)) and len(x) > 0
                                           and all(isinstance(t, torch.Tensor) for t in x))


def sample_count(x):
    return (x[0] if isinstance(x, (list, tuple)) else x).shape[0]


def length_or_none(data):
    try:
        return len(data)
    except TypeError:
        return None


def slice_samples(data, index):
    if data is None:
        return None
    if isinstance(data, (list, tuple)):
        return type(data)(t[index] for t in data)
    return data[index]


def move_to_device(data, device):
    if isinstance(data, torch.Tensor):
        return data.to(device)
    if isinstance(data, (list, tuple)):
        return type(data)(move_to_device(item, device) for item in data)
    return data


def device_of(model):
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def metric_results(*metrics):
    return {metric.name: float(metric.result()) for metric in metrics}


def unpack_validation_data(data):
    if isinstance(data, (list, tuple)) and len(data) in (2, 3):
        return data[0], data[1], data[2] if len(data) == 3 else None
    return data, None, None  # a DataLoader, a generator, ...


def class_weight_to_sample_weights(y, class_weight):
    """Keras (keras/src/trainers/data_adapters/data_adapter_utils.py): the class of each sample
    (argmax of one-hot targets, else the rounded label) gives its weight; missing classes weigh 1."""
    labels = y.cpu().numpy()
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else np.squeeze(labels, axis=-1)
    labels = np.round(labels).astype("int32")
    return torch.tensor([class_weight.get(int(label), 1.0) for label in labels], dtype=torch.float32)

"""Keras callbacks with Keras' exact semantics (keras/src/callbacks/), called by `fit`.

fit gives every callback `model` (the torch module), `optimizer` and `metrics`; a callback stops
training with `self.model.stop_training = True`, as in Keras. Epochs are 0-based in the hooks.
"""
import copy
import csv
import math
import os

import numpy as np
import torch


class Callback:
    """keras.callbacks.Callback: override the hooks you need."""

    def __init__(self):
        self.model, self.optimizer, self.metrics = None, None, []

    def set_context(self, model, optimizer, metrics):
        self.model, self.optimizer, self.metrics = model, optimizer, list(metrics)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):  # Keras 2 names of the training-batch hooks
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """What fit returns: `history.history` maps each log name ("loss", "val_loss", ...) to its
    per-epoch values, `history.epoch` lists the epochs run."""

    def __init__(self):
        super().__init__()
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class LambdaCallback(Callback):
    """keras.callbacks.LambdaCallback: hooks given as functions."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, hook in hooks.items():
            if hook is not None:
                setattr(self, name, hook)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class MonitorCallback(Callback):
    """Shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau (keras/src/callbacks/monitor_callback.py):
    improvement = `current - min_delta < best` in min mode (`current + min_delta > best` in max mode);
    mode "auto" minimises "loss"/"val_loss" and maximises metrics whose direction is up (accuracy, ...)."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        self.monitor, self.mode, self.best, self.min_delta = monitor, mode, baseline, abs(min_delta)
        self.minimize = None

    def set_monitor_op(self):
        if self.mode in ("min", "max"):
            self.minimize = self.mode == "min"
        else:
            name = self.monitor.removeprefix("val_")
            directions = {m.name: getattr(m, "direction", None) for m in self.metrics}
            if directions.get(name) in ("up", "down"):
                self.minimize = directions[name] == "down"
            elif name == "loss":
                self.minimize = True
            else:
                raise ValueError(f"{type(self).__name__} callback received monitor={self.monitor}, but cannot tell "
                                 "whether that metric should be maximized or minimized: pass mode='max' or mode='min'.")

    def is_improvement(self, current, reference):
        if reference is None:
            return True
        if self.minimize:
            return current + self.min_delta < reference
        return current - self.min_delta > reference


class EarlyStopping(MonitorCallback):
    """keras.callbacks.EarlyStopping (keras/src/callbacks/early_stopping.py): `wait` counts epochs
    without improvement; training stops when wait >= patience (never after the first epoch);
    restore_best_weights puts back the best epoch's weights at the end of training whenever a best
    epoch was recorded (Keras 3), whether or not training stopped early."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.minimize is None:
            self.set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = copy.deepcopy(self.model.state_dict()), epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(self.model.state_dict())
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """keras.callbacks.ModelCheckpoint (keras/src/callbacks/model_checkpoint.py): saves the weights
    (state_dict, torch.save) at the end of each epoch (or every `save_freq` batches), the path
    formatted with the 1-based epoch and the logs; save_best_only keeps improvements only."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath, self.verbose, self.save_best_only = os.fspath(filepath), verbose, save_best_only
        self.save_freq, self.batches_since_saving, self.current_epoch = save_freq, 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self.batches_since_saving += 1
            if self.batches_since_saving >= self.save_freq:
                self.batches_since_saving = 0
                self.save(self.current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.minimize is None:
            self.set_monitor_op()
        if self.save_freq == "epoch":
            self.save(epoch, None, logs)

    def save(self, epoch, batch, logs):
        logs = logs or {}
        if batch is None or "batch" in logs:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        else:
            path = self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is not None:
                if not self.is_improvement(current, self.best):
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                    return
                if self.verbose > 0:
                    best = "None" if self.best is None else f"{self.best:.5f}"
                    print(f"Epoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, saving model to {path}")
                self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        torch.save(self.model.state_dict(), path)


class ReduceLROnPlateau(MonitorCallback):
    """keras.callbacks.ReduceLROnPlateau (keras/src/callbacks/reduce_lr_on_plateau.py): after
    `patience` epochs without an improvement of at least min_delta (absolute), lr = max(lr * factor,
    min_lr). torch.optim.lr_scheduler.ReduceLROnPlateau differs: it reduces after patience + 1 bad
    epochs, uses a relative threshold and counts the cooldown differently."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.minimize is None:
            self.set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(np.float32(self.optimizer.param_groups[0]["lr"]))
        current = logs.get(self.monitor)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(np.float32(self.optimizer.param_groups[0]["lr"]))  # Keras keeps lr in float32
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    for group in self.optimizer.param_groups:
                        group["lr"] = new_lr
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """keras.callbacks.LearningRateScheduler: at the start of each epoch, lr = schedule(epoch, lr)
    (or schedule(epoch) for one-argument functions), epoch 0-based."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(np.float32(self.optimizer.param_groups[0]["lr"]))
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # Keras also accepts schedule(epoch)
            lr = self.schedule(epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(np.float32(self.optimizer.param_groups[0]["lr"]))


class CSVLogger(Callback):
    """keras.callbacks.CSVLogger: one row per epoch, columns "epoch" (0-based) and the sorted log names."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.file, self.writer, self.keys = None, None, None

    def on_train_begin(self, logs=None):
        self.write_header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # csv: "\r\n" line ends, as Keras
        self.writer, self.keys = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch"] + self.keys, delimiter=self.separator)
            if self.write_header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
        self.writer = None

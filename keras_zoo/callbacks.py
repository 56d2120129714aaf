"""Training callbacks for long runs: stop on a diverged loss, back up and resume exactly.

- `StopOnNaN`: raises `TrainingDiverged` at the first batch whose loss is NaN or inf,
  with a one-line message (tutorials and the CLI print it without a traceback).
- `Backup`: `keras.callbacks.BackupAndRestore` plus what a resumed run needs to go on
  as the interrupted one would have (the epochs' logs, the random generators, the state
  of the other callbacks).
- `HistoryCSV`: the run's history, one row per epoch, written when training ends (after
  a resume too, the whole run), and `SaveModel`: the trained model as a `.keras` file.

`keras_zoo.tutorial.callbacks` wires them into every `fit` of a tutorial.
"""

import math
import os
import pickle
import random
import time
from pathlib import Path

import keras
import numpy as np

from keras_zoo.training import backend_rng_state, set_backend_rng_state

__all__ = ["BACKUP_SECONDS", "Backup", "HistoryCSV", "SaveModel", "StopOnNaN", "TrainingDiverged",
           "TrainingStopped"]

BACKUP_SECONDS = 30  # at most one backup per fit in this time (and after its last epoch)


class TrainingStopped(RuntimeError):
    """Training cannot go on; the message says why and what to do (printed as one line)."""


class TrainingDiverged(TrainingStopped):
    """The training loss became NaN or infinite."""


def _is_loss(key):
    return key == "loss" or key.endswith("_loss")  # also a GAN's d_loss, g_loss


class StopOnNaN(keras.callbacks.Callback):
    """Raise `TrainingDiverged` at the first batch whose loss is NaN or infinite.

    Every log named `loss` or `*_loss` is checked. Keras has already turned the logs
    into Python floats when a callback sees them, so the check costs a comparison per
    batch. It stays on the training thread (not `async_safe`), so training stops at the
    batch that diverged.
    """

    def __init__(self, label):
        super().__init__()
        self.label, self.epoch = label, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: v for k, v in (logs or {}).items()
               if _is_loss(k) and isinstance(v, float) and not math.isfinite(v)}
        if bad:
            params = self.params or {}
            epochs, steps = params.get("epochs"), params.get("steps")
            values = ", ".join(f"{k}={v}" for k, v in bad.items())
            raise TrainingDiverged(
                f"{self.label}: training diverged, {values} at epoch {self.epoch + 1}"
                f"{f' of {epochs}' if epochs else ''}, batch {batch + 1}"
                f"{f' of {steps}' if steps else ''}; try a lower learning rate, or check "
                f"the data for NaN and inf (np.isfinite(x).all())")


def _plain(value):
    """True for numbers, strings, arrays and lists / tuples / dicts of them."""
    if value is None or isinstance(value, (bool, int, float, str, np.ndarray, np.generic)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _callback_state(callback):
    """A callback's public plain attributes: EarlyStopping's best value, wait count and
    best weights, ReduceLROnPlateau's plateau count, a tutorial's per-epoch records."""
    return {k: v for k, v in vars(callback).items()
            if not k.startswith("_") and k not in ("model", "params") and _plain(v)}


class Backup(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore`, extended so that a resumed run goes on as the
    interrupted one would have.

    Keras backs up the weights, the optimizer state and the epoch. This adds, in
    `state.pkl` beside them (written and read only here): the epochs' logs, so that
    `fit`'s History covers the whole run; the random generators (NumPy's and Python's,
    which shuffle the batches on JAX; torch's on torch; the model's `SeedGenerator`s,
    which draw dropout and noise); and the plain attributes of the tutorial's own
    callbacks (`_callback_state`).

    A backup writes every weight to disk, which can take longer than an epoch of a small
    model; so it is made after the first epoch, then after an epoch only once `every`
    seconds have passed since the last, and after the last epoch.

    A fit that ends (all epochs, or stopped early) keeps its backup, marked as complete:
    resumed, it trains no further epochs, so a run killed in its second fit does not redo
    the first. `report` deletes the backups.
    """

    def __init__(self, folder, label, extra=(), every=BACKUP_SECONDS):
        super().__init__(str(folder), delete_checkpoint=False)
        self.folder, self.label, self.extra, self.every = Path(folder), label, list(extra), every
        self.history, self.epochs = {}, []  # the logs of every epoch so far
        self.saved_at = None  # time.perf_counter() of this fit's last backup

    def _seed_states(self):
        weights = {id(w) for w in self.model.weights}
        return [v for v in self.model.variables if id(v) not in weights]

    def _random_state(self):
        return {"numpy": np.random.get_state(), "python": random.getstate(),
                "seeds": [keras.ops.convert_to_numpy(v.value) for v in self._seed_states()],
                "backend": backend_rng_state()}

    def _set_random_state(self, state):
        np.random.set_state(state["numpy"])
        random.setstate(state["python"])
        for variable, value in zip(self._seed_states(), state["seeds"], strict=True):
            variable.assign(value)
        set_backend_rng_state(state["backend"])

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # weights, optimizer, model._initial_epoch
        path = self.folder / "state.pkl"
        if not path.exists():
            return
        with open(path, "rb") as f:
            state = pickle.load(f)
        epoch = self.model._initial_epoch
        if state["epoch"] != epoch:  # killed between writing the two
            raise TrainingStopped(f"{self.label}: the backup in {self.folder} is incomplete "
                                f"(epoch {epoch} vs {state['epoch']}); rerun without --resume")
        self.history, self.epochs = state["history"], state["epochs"]
        self._set_random_state(state["random"])
        for callback, saved in zip(self.extra, state["callbacks"], strict=True):
            vars(callback).update(saved)
        total = self.params.get("epochs")
        print(f"{self.label}: resumed after epoch {epoch} of {total} from {self.folder}")

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        ending = epoch + 1 >= self.params["epochs"] or self.model.stop_training
        if (self.saved_at is None or ending
                or time.perf_counter() - self.saved_at >= self.every):
            super().on_epoch_end(epoch, logs)  # -> _save_model
            self.saved_at = time.perf_counter()

    def _save_model(self):
        if self.model.stop_training:  # stopped early: a resumed run must not train on
            self._current_epoch = self.params["epochs"]
        super()._save_model()
        state = {"epoch": self._current_epoch, "history": self.history, "epochs": self.epochs,
                 "random": self._random_state(),
                 "callbacks": [_callback_state(c) for c in self.extra]}
        part = self.folder / "state.pkl.part"
        with open(part, "wb") as f:
            pickle.dump(state, f)
        os.replace(part, self.folder / "state.pkl")  # whole or not at all

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        history = self.model.history
        if history is not None and len(self.epochs) > len(history.epoch):  # resumed
            history.history = {k: list(v) for k, v in self.history.items()}
            history.epoch = list(self.epochs)


class HistoryCSV(keras.callbacks.Callback):
    """Write `fit`'s history to `path` when training ends: `epoch` and one column per log.

    Unlike `keras.callbacks.CSVLogger`, which appends a row per epoch as it goes, the file
    is written whole from the History at the end, so a resumed run (whose History `Backup`
    restores) gives one row per epoch of the whole run, none twice. Keras appends its
    History callback last, so every epoch is in it by the time this runs.
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_train_end(self, logs=None):
        history = self.model.history
        if history is None or not history.epoch:
            return
        keys = list(history.history)
        rows = [",".join(["epoch", *keys])]
        for i, epoch in enumerate(history.epoch):
            rows.append(",".join([str(epoch + 1), *(f"{history.history[k][i]:.6g}"
                                                    for k in keys)]))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(rows) + "\n")


class SaveModel(keras.callbacks.Callback):
    """Save the trained model to `path` (a `.keras` file) when training ends."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_train_end(self, logs=None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(self.path)
        print(f"saved {self.path}")

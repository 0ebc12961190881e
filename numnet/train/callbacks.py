"""Callbacks: early stopping, checkpoints, learning-rate schedules, progress, logs.

They keep everything that is not "one step of minibatch SGD" out of the loop, with
Keras's hook names. Each hook receives the :class:`~numnet.train.loop.Loop`
(``loop.model``, ``loop.optimizer``, ``loop.history``, ``loop.epoch``,
``loop.stop_training``) and a ``logs`` dict of the latest metrics.

A callback that keeps state across epochs implements ``state_dict`` and
``load_state_dict`` so that ``fit(..., checkpoint=...)`` can resume it exactly.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path


class Callback:
    """Base class: override the hooks you need."""

    def on_train_begin(self, loop, logs: dict) -> None: ...

    def on_epoch_begin(self, loop, epoch: int) -> None: ...

    def on_batch_end(self, loop, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, loop, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, loop, logs: dict) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _is_improvement(value, reference, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``value`` beats ``reference`` by more than ``min_delta`` (``reference``
    None: the worst value, +inf for 'min' and -inf for 'max'). NaN never improves."""
    value = float(value)
    if math.isnan(value):
        return False
    if reference is None:
        reference = math.inf if mode == "min" else -math.inf
    if mode == "min":
        return value < reference - min_delta
    return value > reference + min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Seed 001: keep training while the validation error decreases; stop once it rises,
    and keep the model of the best validation epoch (``restore_best_weights=True``:
    the best weights are put back when training ends, stopped early or not).

    The semantics are Keras's (and Lightning's): ``wait`` counts the epochs since the
    last improvement, and training stops at the end of the epoch where it reaches
    ``patience`` (with ``patience=2``, best at epoch 1, no improvement at epochs 2
    and 3: training stops after epoch 3; ``patience=0`` stops at the first epoch
    without improvement).

    Parameters
    ----------
    monitor : str
        A history column, e.g. ``'val_loss'`` or ``'val_accuracy'``.
    patience : int
        Epochs without improvement after which training stops (>= 0).
    min_delta : float
        An improvement must beat the best value by more than ``|min_delta|``.
    mode : 'auto' | 'min' | 'max'
        'auto' is 'max' for a monitor naming an accuracy (``'acc'`` in it), else 'min'.
    baseline : float, optional
        A value to beat (by more than ``min_delta``): until the monitor beats it,
        epochs count as without improvement (``wait`` is not reset), so training stops
        after ``patience`` epochs that never beat it (Keras). The best epoch is still
        tracked, and restored.
    restore_best_weights : bool
        Put back the weights of the best epoch when training ends (stopped early or
        not; Keras 3). If no epoch had a monitored value that counts (all NaN), the
        final weights are kept.

    Notes
    -----
    A NaN value of ``monitor`` is never an improvement (in either mode): it counts as
    an epoch without improvement, and never becomes ``best``. The state (``best``,
    ``best_epoch``, ``wait``, ``stopped_epoch``, the best weights) is reset when a
    fresh ``fit`` begins, and restored with the rest when ``fit`` resumes a checkpoint.

    Raises
    ------
    ValueError
        ``patience < 0`` or a bad ``mode``.
    KeyError
        At the end of an epoch, when ``monitor`` is not among the logged metrics.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
        baseline: float | None = None,
    ) -> None:
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _mode(monitor, mode)
        self.baseline = None if baseline is None else float(baseline)
        self.restore_best_weights = restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_weights: dict | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        return _is_improvement(value, self.best, self.mode, self.min_delta)

    def on_train_begin(self, loop, logs):
        """A fresh run starts afresh (Keras): the state of an earlier ``fit`` that used
        this callback is dropped, unless this one resumed from a checkpoint."""
        if getattr(loop.history, "initial_epoch", 0) == 0:
            self.best = self.best_epoch = self.best_weights = self.stopped_epoch = None
            self.wait = 0

    def on_epoch_end(self, loop, epoch, logs):
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which is not among the logged "
                f"metrics {sorted(logs)} (pass validation data to fit for 'val_*', and a "
                "classification loss or metrics='accuracy' for '*accuracy')"
            )
        self.wait += 1
        if self._improved(value):
            self.best, self.best_epoch = float(value), epoch
            if self.restore_best_weights:
                self.best_weights = loop.model.state_dict()
            if self.baseline is None or _is_improvement(
                value, self.baseline, self.mode, self.min_delta
            ):
                self.wait = 0
        if self.wait > 0 and self.wait >= self.patience:
            self.stopped_epoch = epoch
            loop.stop_training = True

    def on_train_end(self, loop, logs):
        if self.restore_best_weights and self.best_weights is not None:
            loop.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_weights": self.best_weights,
            "stopped_epoch": self.stopped_epoch,
        }

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best_weights = state["best_weights"]


class ModelCheckpoint(Callback):
    """Save the model (``numnet.save``, atomically) after epochs.

    With ``save_best_only`` the file is rewritten only when ``monitor`` improves on
    the best value saved so far (strictly; a NaN value never does, so a NaN first
    value does not block later saves). Otherwise it is rewritten after every epoch.
    The file's metadata holds the epoch and the finite logged metrics.

    Raises
    ------
    ValueError
        A bad ``mode``.
    KeyError
        With ``save_best_only``, at the end of an epoch when ``monitor`` is not logged.
    """

    def __init__(
        self, path, monitor: str = "val_loss", save_best_only: bool = True, mode: str = "auto"
    ) -> None:
        self.path = Path(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _mode(monitor, mode)
        self.best: float | None = None

    def on_epoch_end(self, loop, epoch, logs):
        from numnet.io import save

        value = logs.get(self.monitor)
        if self.save_best_only:
            if value is None:
                raise KeyError(f"ModelCheckpoint monitors {self.monitor!r}, which is not logged")
            if not _is_improvement(value, self.best, self.mode):
                return
            self.best = float(value)
        save(loop.model, self.path, metadata={"epoch": epoch, **_finite(logs)})

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state["best"]


def _finite(logs: dict) -> dict:
    return {k: v for k, v in logs.items() if isinstance(v, (int, float)) and math.isfinite(v)}


class LearningRateScheduler(Callback):
    """Drive the learning rate from a scheduler or a function.

    Parameters
    ----------
    schedule : scheduler or callable
        A ``numnet.optim.lr_scheduler`` object (its ``step()`` is called), or a
        function ``f(step) -> lr`` that sets the rate of every parameter group.
    interval : 'epoch' or 'batch'
        Step after every epoch (``'epoch'``) or after every optimizer step
        (``'batch'``).
    """

    def __init__(self, schedule, interval: str = "epoch") -> None:
        if interval not in ("epoch", "batch"):
            raise ValueError(f"interval must be 'epoch' or 'batch', got {interval!r}")
        self.schedule = schedule
        self.interval = interval
        self.count = 0

    def _advance(self, loop):
        self.count += 1
        if hasattr(self.schedule, "step"):
            self.schedule.step()
        else:
            lr = float(self.schedule(self.count))
            for group in loop.optimizer.param_groups:
                group["lr"] = lr

    def on_train_begin(self, loop, logs):
        if not hasattr(self.schedule, "step") and self.count == 0:
            for group in loop.optimizer.param_groups:
                group["lr"] = float(self.schedule(0))

    def on_batch_end(self, loop, batch, logs):
        if self.interval == "batch":
            self._advance(loop)

    def on_epoch_end(self, loop, epoch, logs):
        if self.interval == "epoch":
            self._advance(loop)

    def state_dict(self):
        state = {"count": self.count}
        if hasattr(self.schedule, "state_dict"):
            state["schedule"] = self.schedule.state_dict()
        return state

    def load_state_dict(self, state):
        self.count = state["count"]
        if "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])


class ProgressBar(Callback):
    """A tqdm bar per epoch with live loss/accuracy and ETA (``verbose=1``).

    Shown when stderr is a terminal, or always with ``force=True``. Otherwise (output
    redirected to a log file or a pipe, where a bar's carriage returns make a mess) it
    writes one line per epoch to stderr instead, as Keras's ``verbose="auto"`` falls
    back to one line per epoch when not interactive.
    """

    def __init__(self, force: bool = False) -> None:
        self.force = force
        self._bar = None

    def _enabled(self) -> bool:
        # a terminal, or a Jupyter kernel (its stderr is no terminal; tqdm.auto draws a
        # notebook bar there)
        return self.force or sys.stderr.isatty() or "ipykernel" in sys.modules

    def on_epoch_begin(self, loop, epoch):
        if not self._enabled():
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover
            return
        self._bar = tqdm(
            total=loop.batches_per_epoch,
            desc=f"epoch {epoch}/{loop.epochs}",
            unit="batch",
            leave=True,
            dynamic_ncols=True,
        )

    def on_batch_end(self, loop, batch, logs):
        if self._bar is not None:
            self._bar.update(1)
            if batch % 10 == 0 or batch == (loop.batches_per_epoch or 0) - 1:
                self._bar.set_postfix(
                    {k: f"{v:.4f}" for k, v in logs.items() if isinstance(v, float)}, refresh=False
                )

    def on_epoch_end(self, loop, epoch, logs):
        if not self._enabled():
            print(epoch_line(loop, epoch, logs), file=sys.stderr, flush=True)
            return
        if self._bar is not None:
            self._bar.set_postfix(
                {
                    k: f"{v:.4f}"
                    for k, v in logs.items()
                    if isinstance(v, float) and k not in ("time",)
                }
            )
            self._bar.close()
            self._bar = None


def epoch_line(loop, epoch, logs) -> str:
    """``epoch 3/10  loss 0.1234  accuracy 0.9612 ...  lr 0.01  1.2s``."""
    parts = [f"epoch {epoch}/{loop.epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if logs.get(key) is not None:
            parts.append(f"{key} {logs[key]:.4f}")
    parts.append(f"lr {logs['lr']:.3g}  {logs['time']:.1f}s")
    return "  ".join(parts)


class EpochPrinter(Callback):
    """One line per epoch on stdout (``verbose=2``)."""

    def on_epoch_end(self, loop, epoch, logs):
        print(epoch_line(loop, epoch, logs), flush=True)


class CSVLogger(Callback):
    """Rewrite ``path`` (atomically) with the history after every epoch."""

    def __init__(self, path) -> None:
        self.path = Path(path)

    def on_epoch_end(self, loop, epoch, logs):
        loop.history.to_csv(self.path)


class JSONLogger(Callback):
    """Rewrite ``path`` (atomically) with the history as JSON after every epoch."""

    def __init__(self, path) -> None:
        self.path = Path(path)

    def on_epoch_end(self, loop, epoch, logs):
        loop.history.to_json(self.path)


__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "EpochPrinter",
    "JSONLogger",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgressBar",
]

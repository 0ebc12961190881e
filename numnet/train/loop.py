"""The training loop as a function: ``fit`` (minibatch SGD), ``evaluate``, ``predict``.

Seed 001's procedure: at every epoch, shuffle the training set (a fresh permutation
from the seeded generator), cut it into minibatches, and for each one compute the
loss, backpropagate and take an optimizer step; monitor the error on a held-out
validation split to choose when to stop.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from numnet.autograd.engine import no_grad
from numnet.random import as_generator, default_generator
from numnet.tensor import Tensor
from numnet.train.callbacks import Callback, EpochPrinter, ProgressBar
from numnet.train.history import History


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; ``history`` holds the epochs completed before."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def _as_arrays(data, what: str) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(data, "X") and hasattr(data, "y"):
        data = (data.X, data.y)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{what} must be an (X, y) pair of arrays")
    X, y = (np.asarray(d.data if isinstance(d, Tensor) else d) for d in data)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"{what}: X and y need the same number of samples, got shapes {X.shape} and {y.shape}"
        )
    if len(X) == 0:
        raise ValueError(f"{what} is empty")
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        raise ValueError(f"{what}: X contains NaN or infinite values")
    return X, y


def _inputs(X: np.ndarray, dtype, *, features: bool = False) -> np.ndarray:
    """Floating arrays (and integer ``features``, e.g. uint8 pixels) in the model's dtype;
    integer targets (class labels) unchanged."""
    if X.dtype == dtype or not (X.dtype.kind == "f" or (features and X.dtype.kind in "iub")):
        return X
    return X.astype(dtype)


def accuracy_count(output: np.ndarray, y: np.ndarray) -> int | None:
    """Correct predictions in a batch: arg-max for (N, C) logits and integer labels, the
    sign of the logit for one output and 0/1 targets; ``None`` for regression."""
    if y.dtype.kind in "iu" and output.ndim == 2 and output.shape[1] > 1:
        return int(np.count_nonzero(output.argmax(axis=1) == y))
    if output.shape == y.shape and np.all((y == 0) | (y == 1)):
        return int(np.count_nonzero((output > 0) == (y > 0.5)))
    return None


class Loop:
    """What callbacks see: the model, optimizer, history and the loop's position."""

    def __init__(self, model, optimizer, history, epochs, batches_per_epoch):
        self.model = model
        self.optimizer = optimizer
        self.history = history
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.epoch = 0
        self.stop_training = False


def _param_dtype(model) -> np.dtype:
    for p in model.parameters():
        return p.dtype
    return np.dtype(np.float32)


def _module_generators(model) -> list[np.random.Generator]:
    gens = []
    for m in model.modules():
        g = getattr(m, "_generator", None)
        if isinstance(g, np.random.Generator) and all(g is not h for h in gens):
            gens.append(g)
    return gens


def evaluate(model, loss_fn, data, *, batch_size: int = 1024) -> dict:
    """Mean loss and accuracy of ``model`` on ``data = (X, y)``, in eval mode, no graph."""
    X, y = _as_arrays(data, "data")
    dtype = _param_dtype(model)
    was_training = model.training
    model.eval()
    total, correct, have_acc = 0.0, 0, True
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                xb, yb = (
                    _inputs(X[start : start + batch_size], dtype, features=True),
                    y[start : start + batch_size],
                )
                out = model(Tensor._wrap(xb))
                total += float(loss_fn(out, Tensor._wrap(yb)).item()) * len(xb)
                c = accuracy_count(out.data, yb)
                have_acc = have_acc and c is not None
                correct += c or 0
    finally:
        model.train(was_training)
    return {"loss": total / len(X), "accuracy": correct / len(X) if have_acc else None}


def predict(model, X, *, batch_size: int = 1024) -> np.ndarray:
    """Outputs of ``model`` on ``X`` (eval mode, no graph), batch by batch."""
    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    dtype = _param_dtype(model)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = [
                model(Tensor._wrap(_inputs(X[s : s + batch_size], dtype, features=True))).data
                for s in range(0, len(X), batch_size)
            ]
    finally:
        model.train(was_training)
    return np.concatenate(outs) if outs else np.empty((0,))


def fit(
    model,
    loss_fn,
    optimizer,
    train_data,
    *,
    epochs: int,
    batch_size: int = 32,
    validation=None,
    callbacks=(),
    seed=None,
    generator=None,
    drop_last: bool = False,
    shuffle: bool = True,
    verbose: int = 1,
    checkpoint=None,
) -> History:
    """Train ``model`` by minibatch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : Module
    loss_fn : callable ``(output, target) -> scalar Tensor`` (e.g. ``F.cross_entropy``)
    optimizer : a ``numnet.optim`` optimizer over ``model.parameters()``
    train_data : (X, y) arrays (or an object with ``.X`` and ``.y``)
    epochs, batch_size : int
    validation : float in (0, 1), (X_val, y_val), or None
        A float holds out that fraction of ``train_data``, stratified by class
        (seed 001's 90/10 development/validation split with ``0.1``).
    callbacks : sequence of :class:`Callback`
    seed, generator : the source of the shuffles (and of the validation split)
    drop_last : bool
        Skip the last, smaller batch of each epoch.
    verbose : 0 silent; 1 a progress bar when stderr is a terminal; 2 one line per epoch
    checkpoint : path, optional
        Write model, optimizer, random states, callbacks and history there (atomically)
        after every epoch, and resume from it if it exists: a run that is killed and
        restarted with the same arguments ends with the same weights, bit for bit.

    Raises
    ------
    TrainingDivergedError
        The loss became NaN or infinite (the message names the epoch and batch); the
        model is reset to its weights at the end of the last complete epoch.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    rng = as_generator(generator if generator is not None else seed)
    X, y = _as_arrays(train_data, "train_data")
    if isinstance(validation, float):
        from numnet.data.split import train_val_split

        X, y, Xv, yv = train_val_split(X, y, validation, stratify=True, seed=rng)
        validation = (Xv, yv)
    elif validation is not None:
        validation = _as_arrays(validation, "validation")
    dtype = _param_dtype(model)
    n = len(X)
    n_batches = n // batch_size if drop_last else math.ceil(n / batch_size)
    if n_batches == 0:
        raise ValueError(f"drop_last with batch_size {batch_size} > {n} samples leaves no batch")

    history = History()
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if verbose == 1:
        callbacks.append(ProgressBar())
    elif verbose >= 2:
        callbacks.append(EpochPrinter())
    loop = Loop(model, optimizer, history, epochs, n_batches)
    generators = [rng, *_module_generators(model)]
    if all(g is not default_generator() for g in generators):  # used by F.dropout(None)
        generators.append(default_generator())
    start_epoch = 1
    if checkpoint is not None and Path(checkpoint).exists():
        start_epoch = _restore(checkpoint, model, optimizer, callbacks, history, generators) + 1

    model.train()
    for cb in callbacks:
        cb.on_train_begin(loop, {})
    good_weights = model.state_dict()
    for epoch in range(start_epoch, epochs + 1):
        if loop.stop_training:
            break
        loop.epoch = epoch
        for cb in callbacks:
            cb.on_epoch_begin(loop, epoch)
        t0 = time.perf_counter()
        order = rng.permutation(n) if shuffle else np.arange(n)
        seen, total, correct, have_acc = 0, 0.0, 0, True
        for b in range(n_batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            xb, yb = _inputs(X[idx], dtype, features=True), _inputs(y[idx], dtype)
            optimizer.zero_grad()
            out = model(Tensor._wrap(xb))
            loss = loss_fn(out, Tensor._wrap(yb))
            value = float(loss.item())
            if not math.isfinite(value):
                model.load_state_dict(good_weights)
                raise TrainingDivergedError(
                    f"the loss became {value} at epoch {epoch}, batch {b + 1}/{n_batches}; "
                    f"the model was reset to its weights at the end of epoch {epoch - 1} "
                    "(lower the learning rate, or check the inputs)",
                    history,
                )
            loss.backward()
            optimizer.step()
            seen += len(idx)
            total += value * len(idx)
            c = accuracy_count(out.data, yb)
            have_acc = have_acc and c is not None
            correct += c or 0
            logs = {"loss": total / seen}
            if have_acc:
                logs["accuracy"] = correct / seen
            for cb in callbacks:
                cb.on_batch_end(loop, b, logs)
        row = {
            "epoch": epoch,
            "loss": total / seen,
            "accuracy": correct / seen if have_acc else None,
        }
        if validation is not None:
            val = evaluate(model, loss_fn, validation)
            row["val_loss"], row["val_accuracy"] = val["loss"], val["accuracy"]
        row["lr"] = float(optimizer.param_groups[0]["lr"])
        row["time"] = time.perf_counter() - t0
        history.append(row)
        for cb in callbacks:
            cb.on_epoch_end(loop, epoch, row)
        good_weights = model.state_dict()
        if checkpoint is not None:
            _save(checkpoint, epoch, model, optimizer, callbacks, history, generators)
        if loop.stop_training:
            history.stopped_epoch = epoch
    for cb in callbacks:
        cb.on_train_end(loop, history.epochs[-1] if history.epochs else {})
    return history


def _save(path, epoch, model, optimizer, callbacks, history, generators) -> None:
    from numnet.io import save_checkpoint

    save_checkpoint(
        {
            "epoch": epoch,
            "model": dict(model.state_dict()),
            "optimizer": optimizer.state_dict(),
            "callbacks": [
                [type(cb).__name__, cb.state_dict()] for cb in callbacks if cb.state_dict()
            ],
            "history": history.state_dict(),
            "generators": [g.bit_generator.state for g in generators],
        },
        path,
    )


def _restore(path, model, optimizer, callbacks, history, generators) -> int:
    from numnet.io import load_checkpoint

    state = load_checkpoint(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    stateful = [cb for cb in callbacks if cb.state_dict()]
    if [type(cb).__name__ for cb in stateful] != [name for name, _ in state["callbacks"]] or len(
        state["generators"]
    ) != len(generators):
        raise ValueError(
            f"checkpoint {path} was written by a run with different callbacks or random "
            "generators; resume with the same fit() arguments"
        )
    for cb, (_, s) in zip(stateful, state["callbacks"]):
        cb.load_state_dict(s)
    history.load_state_dict(state["history"])
    for g, s in zip(generators, state["generators"]):
        g.bit_generator.state = s
    return int(state["epoch"])

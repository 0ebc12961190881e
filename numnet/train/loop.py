"""The training loop as a function: ``fit`` (minibatch SGD), ``evaluate``, ``predict``.

Seed 001's procedure: at every epoch, shuffle the training set (a fresh permutation
from the seeded generator), cut it into minibatches, and for each one compute the
loss, backpropagate and take an optimizer step; monitor the error on a held-out
validation split to choose when to stop.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
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


# -- the accuracy metric -----------------------------------------------------------------
# What a loss says about the model's outputs: the family decides how "accuracy" is read.
_PROBABILITIES = "probabilities"  # binary_cross_entropy, BCELoss: threshold 0.5
_LOGITS = "logits"  # binary_cross_entropy_with_logits, BCEWithLogitsLoss, hinge: threshold 0
_CATEGORICAL = "categorical"  # cross_entropy, nll_loss, CrossEntropyLoss, NLLLoss: arg-max
_REGRESSION = "regression"  # mse_loss, MSELoss: no accuracy
_UNKNOWN = "unknown"  # any other callable: decided from the shapes, if it can be


def _loss_family(loss_fn) -> tuple[str, str, int]:
    """``(family, name, ignore_index)`` of a loss function or module.

    ``functools.partial`` wrappers are looked through (their keywords, e.g.
    ``ignore_index``, are read); lambdas and other callables are ``_UNKNOWN``.
    """
    from numnet.nn import functional as F
    from numnet.nn import loss as L

    fn, keywords = loss_fn, {}
    while isinstance(fn, functools.partial):
        keywords = {**fn.keywords, **keywords}
        fn = fn.func
    name = getattr(fn, "__name__", None) or type(fn).__name__
    ignore_index = int(keywords.get("ignore_index", getattr(fn, "ignore_index", -100)))
    families = (
        (
            _LOGITS,
            (F.binary_cross_entropy_with_logits, F.hinge_loss),
            (L.BCEWithLogitsLoss, L.HingeLoss),
        ),
        (_PROBABILITIES, (F.binary_cross_entropy,), (L.BCELoss,)),
        (_CATEGORICAL, (F.cross_entropy, F.nll_loss), (L.CrossEntropyLoss, L.NLLLoss)),
        (_REGRESSION, (F.mse_loss,), (L.MSELoss,)),
    )
    for family, functions, modules in families:
        if any(fn is f for f in functions) or isinstance(fn, modules):
            return family, name, ignore_index
    return _UNKNOWN, name, ignore_index


class _BinaryAccuracy:
    """Output ``> threshold`` against target ``> 0.5`` (0/1 or ±1 labels, soft targets),
    element by element (a multi-label output counts every element)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = float(threshold)

    def count(self, output: np.ndarray, target: np.ndarray) -> tuple[int, int]:
        if output.size != target.size:
            raise ValueError(
                f"binary accuracy: output shape {output.shape} and target shape "
                f"{target.shape} hold different numbers of values"
            )
        pred = output.reshape(-1) > self.threshold
        truth = target.reshape(-1) > 0.5
        return int(np.count_nonzero(pred == truth)), int(pred.size)

    def __repr__(self) -> str:
        return f"binary accuracy (output > {self.threshold:g})"


class _CategoricalAccuracy:
    """Arg-max over axis 1 (the class axis, as in cross_entropy) against integer labels,
    or against the arg-max of probability targets of the output's shape; labels equal
    to ``ignore_index`` are not counted."""

    def __init__(self, ignore_index: int = -100) -> None:
        self.ignore_index = ignore_index

    def count(self, output: np.ndarray, target: np.ndarray) -> tuple[int, int]:
        if output.ndim < 2:
            raise ValueError(f"categorical accuracy needs (N, C, ...) outputs, got {output.shape}")
        pred = output.argmax(axis=1)
        if target.shape == output.shape:
            return int(np.count_nonzero(pred == target.argmax(axis=1))), int(pred.size)
        if target.shape != pred.shape:
            raise ValueError(
                f"categorical accuracy: target shape {target.shape} is neither the labels' "
                f"shape {pred.shape} nor the output's {output.shape}"
            )
        keep = target != self.ignore_index
        return int(np.count_nonzero((pred == target) & keep)), int(np.count_nonzero(keep))

    def __repr__(self) -> str:
        return "categorical accuracy (arg-max)"


class Accuracy:
    """The ``accuracy`` metric of :func:`fit` and :func:`evaluate`.

    The fraction of correct predictions, resolved on the first batch from the loss and
    the shapes of the output and the target (Keras's ``"accuracy"``):

    * ``cross_entropy`` / ``nll_loss`` / ``CrossEntropyLoss`` / ``NLLLoss``:
      categorical: the arg-max over axis 1 against integer labels (labels equal to the
      loss's ``ignore_index`` are not counted) or against the arg-max of probability
      targets.
    * ``binary_cross_entropy`` / ``BCELoss`` (outputs are probabilities): binary,
      ``output > 0.5``.
    * ``binary_cross_entropy_with_logits`` / ``BCEWithLogitsLoss`` /
      ``hinge_loss`` / ``HingeLoss`` (outputs are logits or scores): binary,
      ``output > 0``.
    * ``mse_loss`` / ``MSELoss``: regression, no accuracy.
    * Any other loss (a lambda, a custom function; ``functools.partial`` of the losses
      above is recognised): categorical when the output has C > 1 columns and the
      targets are integer labels (the arg-max is the same for logits and
      probabilities); otherwise it cannot be told whether a single output column holds
      probabilities or logits, so pass ``threshold``.

    Binary accuracy compares ``output > threshold`` with ``target > 0.5`` element by
    element (0/1 and ±1 labels, soft targets; an ``(N, 1)`` output against ``(N,)``
    targets; multi-label outputs count every element, as Keras's ``binary_accuracy``).

    Parameters
    ----------
    task : 'auto' | 'binary' | 'categorical'
        'auto' infers the task as above; 'binary' or 'categorical' forces it (e.g.
        binary accuracy of a classifier trained with ``mse_loss``).
    threshold : float, optional
        Binary task: an output above it predicts the positive class. ``None`` takes it
        from the loss (0.5 for probabilities, 0 for logits); required when the loss
        does not say.

    Raises
    ------
    ValueError
        When resolved (first batch of :func:`fit` or :func:`evaluate`): a bad ``task``
        here; accuracy asked for a regression loss with ``task='auto'``; a binary task
        without a threshold the loss can give; or shapes that do not fit the task.
    """

    name = "accuracy"

    def __init__(self, task: str = "auto", threshold: float | None = None) -> None:
        if task not in ("auto", "binary", "categorical"):
            raise ValueError(f"task must be 'auto', 'binary' or 'categorical', got {task!r}")
        self.task = task
        self.threshold = None if threshold is None else float(threshold)

    def __repr__(self) -> str:
        return f"Accuracy(task={self.task!r}, threshold={self.threshold})"

    def resolve(self, loss_fn, output: np.ndarray, target: np.ndarray, *, required: bool = True):
        """The counter for ``loss_fn``'s outputs, or ``None`` (when not ``required``) if
        the loss and shapes do not define an accuracy."""
        family, name, ignore_index = _loss_family(loss_fn)

        def fail(why: str):
            if not required:
                return None
            raise ValueError(f"accuracy with loss {name}: {why}")

        task = self.task
        if task == "auto":
            labels = (
                output.ndim >= 2
                and output.shape[1] > 1
                and target.dtype.kind in "iu"
                and target.shape == output.shape[:1] + output.shape[2:]
            )
            if family == _CATEGORICAL:
                task = "categorical"
            elif family in (_PROBABILITIES, _LOGITS):
                task = "binary"
            elif family == _REGRESSION:
                return fail(
                    "a regression loss has no accuracy (pass metrics=None, or "
                    "Accuracy(task='binary', threshold=...) for a classifier trained on it)"
                )
            elif labels or (
                required
                and output.ndim >= 2
                and output.shape[1] > 1
                and target.shape == output.shape
            ):
                task = "categorical"  # Keras: C > 1 columns -> (sparse) categorical
            elif self.threshold is not None and output.size == target.size:
                task = "binary"
            else:
                return fail(
                    f"cannot tell a binary task's probabilities from logits for output "
                    f"{output.shape} and target {target.shape}; pass "
                    "Accuracy(threshold=0.5) for probabilities or Accuracy(threshold=0.0) "
                    "for logits"
                )
        if task == "categorical":
            return _CategoricalAccuracy(ignore_index)
        threshold = self.threshold
        if threshold is None:
            if family == _PROBABILITIES:
                threshold = 0.5
            elif family == _LOGITS:
                threshold = 0.0
            else:
                return fail("binary accuracy needs Accuracy(threshold=...) for this loss")
        return _BinaryAccuracy(threshold)


def _metric_spec(metrics) -> tuple[Accuracy | None, bool]:
    """``(accuracy, required)`` from ``fit``/``evaluate``'s ``metrics`` argument."""
    if isinstance(metrics, str) and metrics == "auto":
        return Accuracy(), False
    if metrics is None:
        return None, False
    items = [metrics] if isinstance(metrics, (str, Accuracy)) else list(metrics)
    found: list[Accuracy] = []
    for m in items:
        if isinstance(m, str) and m.lower() in ("accuracy", "acc"):
            found.append(Accuracy())
        elif isinstance(m, Accuracy):
            found.append(m)
        else:
            raise ValueError(
                f"unknown metric {m!r}: metrics is 'auto', None, 'accuracy' or an "
                "Accuracy(...) (or a list holding one of them)"
            )
    if len(found) > 1:
        raise ValueError(f"metrics names accuracy {len(found)} times")
    return (found[0], True) if found else (None, False)


def accuracy_count(output: np.ndarray, y: np.ndarray, loss_fn=None) -> int | None:
    """Correct predictions in a batch, read as ``loss_fn``'s outputs (see :class:`Accuracy`).

    Elements for a multi-label binary output; ``None`` when ``loss_fn`` and the shapes
    define no accuracy (regression; a single output column with an unknown loss).
    """
    counter = Accuracy().resolve(loss_fn, np.asarray(output), np.asarray(y), required=False)
    return None if counter is None else counter.count(np.asarray(output), np.asarray(y))[0]


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


def _nonfinite(state: dict) -> str | None:
    """The name of the first entry of a state dict holding NaN or infinity, else None."""
    for name, arr in state.items():
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            return name
    return None


def evaluate(model, loss_fn, data, *, batch_size: int = 1024, metrics="auto") -> dict:
    """Mean loss (and accuracy) of ``model`` on ``data = (X, y)``, in eval mode, no graph.

    Parameters
    ----------
    model : Module
    loss_fn : callable ``(output, target) -> scalar Tensor``
    data : (X, y) arrays (or an object with ``.X`` and ``.y``), at least one sample
    batch_size : int
    metrics : 'auto', None, 'accuracy', an :class:`Accuracy`, or a list of one of them
        'auto' reports ``accuracy`` when the loss and shapes define it (see
        :class:`Accuracy`: threshold 0.5 for ``binary_cross_entropy``'s probabilities,
        0 for ``binary_cross_entropy_with_logits``'s logits, arg-max for
        ``cross_entropy``; none for ``mse_loss``); ``'accuracy'`` requires it; None
        computes only the loss.

    Returns
    -------
    dict
        ``{"loss": float}``, plus ``"accuracy"`` when an accuracy is computed. The loss
        is the mean of the batch losses weighted by their numbers of rows.

    Raises
    ------
    ValueError
        ``data`` is empty (as Keras, no metric is defined on no samples), X and y
        differ in length, X holds NaN, or the accuracy was required and is not
        defined (see :class:`Accuracy`).
    """
    spec, required = _metric_spec(metrics)
    X, y = _as_arrays(data, "data")
    dtype = _param_dtype(model)
    was_training = model.training
    model.eval()
    total, correct, count, counter = 0.0, 0, 0, None
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                xb, yb = (
                    _inputs(X[start : start + batch_size], dtype, features=True),
                    _inputs(y[start : start + batch_size], dtype),
                )
                out = model(Tensor._wrap(xb))
                if start == 0 and spec is not None:
                    counter = spec.resolve(loss_fn, out.data, yb, required=required)
                total += float(loss_fn(out, Tensor._wrap(yb)).item()) * len(xb)
                if counter is not None:
                    c, k = counter.count(out.data, yb)
                    correct, count = correct + c, count + k
    finally:
        model.train(was_training)
    result = {"loss": total / len(X)}
    if counter is not None:
        result["accuracy"] = correct / count if count else float("nan")
    return result


def predict(model, X, *, batch_size: int = 1024) -> np.ndarray:
    """Outputs of ``model`` on ``X`` (eval mode, no graph), batch by batch.

    Returns
    -------
    numpy.ndarray
        The outputs stacked along axis 0: shape ``(N, ...)``. With no rows the model
        still runs once on the empty batch, so the result has the model's output shape
        and dtype with N = 0 (e.g. ``(0, n_out)``), as PyTorch's ``model(X[:0])``.
    """
    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    dtype = _param_dtype(model)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = [
                model(Tensor._wrap(_inputs(X[s : s + batch_size], dtype, features=True))).data
                for s in range(0, max(len(X), 1), batch_size)
            ]
    finally:
        model.train(was_training)
    return np.concatenate(outs)


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
    metrics="auto",
) -> History:
    """Train ``model`` by minibatch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : Module
    loss_fn : callable ``(output, target) -> scalar Tensor`` (e.g. ``F.cross_entropy``)
    optimizer : a ``numnet.optim`` optimizer over ``model.parameters()``
    train_data : (X, y) arrays (or an object with ``.X`` and ``.y``)
    epochs, batch_size : int
        ``epochs`` is the total number of epochs of the run, counting those restored
        from ``checkpoint`` (Keras's ``epochs`` with ``initial_epoch``).
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
        restarted with the same arguments ends with the same weights, bit for bit. A
        *finished* run (stopped early, by :class:`EarlyStopping` or any callback that
        sets ``loop.stop_training``, or with ``epochs`` epochs done) is not trained
        again: ``fit`` warns, runs the callbacks' ``on_train_begin`` and
        ``on_train_end`` (so ``restore_best_weights`` puts back the same best weights)
        and returns the restored History (``epochs_trained == 0``); the model ends
        with the weights the first run ended with. Resuming with a larger ``epochs``
        continues a run that was not stopped early.
    metrics : 'auto', None, 'accuracy', an :class:`Accuracy`, or a list of one of them
        'auto' (default) logs ``accuracy`` (and ``val_accuracy``) when the loss and the
        shapes define one: arg-max for ``cross_entropy``/``nll_loss``, ``output > 0.5``
        for ``binary_cross_entropy``/``BCELoss`` (probabilities), ``output > 0`` for
        ``binary_cross_entropy_with_logits``/``BCEWithLogitsLoss``/hinge (logits), none
        for ``mse_loss`` or when a custom loss leaves a single column ambiguous (see
        :class:`Accuracy`). ``'accuracy'`` requires it (ValueError otherwise); None
        logs only the loss.

    Returns
    -------
    History
        One row per epoch of the whole run (restored rows included): ``epoch``,
        ``loss``, ``accuracy`` (if any), ``val_loss``/``val_accuracy`` (with
        validation), ``lr``, ``time``. ``history.stopped_epoch`` is the epoch that
        stopped the run early (else None), ``history.initial_epoch`` the epochs
        restored from ``checkpoint``.

    Raises
    ------
    TrainingDivergedError
        The loss became NaN or infinite (the message names the epoch and batch), or
        the weights did by the end of an epoch (an optimizer step, e.g. the epoch's
        last, produced them): the model is reset to its weights at the end of the last
        complete epoch, which are always finite, and nothing is checkpointed.
    ValueError
        Bad sizes, NaN inputs, an empty dataset, non-finite weights before training,
        or a required accuracy that the loss does not define.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    spec, required = _metric_spec(metrics)
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
    history.initial_epoch = start_epoch - 1
    if history.stopped_epoch is not None or start_epoch > epochs:
        why = (
            f"stopped early at epoch {history.stopped_epoch}"
            if history.stopped_epoch is not None
            else f"{start_epoch - 1} epochs done, epochs={epochs}"
        )
        warnings.warn(
            f"fit: checkpoint {checkpoint} holds a finished run ({why}); nothing to train",
            UserWarning,
            stacklevel=2,
        )
        loop.stop_training = True
        loop.epoch = start_epoch - 1

    good_weights = model.state_dict()  # the last finite weights: reset to on divergence
    bad = _nonfinite(good_weights)
    if bad is not None:
        raise ValueError(f"fit: the model's {bad!r} holds NaN or infinite values")

    def diverged(message: str) -> TrainingDivergedError:
        model.load_state_dict(good_weights)
        return TrainingDivergedError(
            f"{message}; the model was reset to its weights at the end of epoch "
            f"{loop.epoch - 1} (lower the learning rate, or check the inputs)",
            history,
        )

    model.train()
    for cb in callbacks:
        cb.on_train_begin(loop, {})
    counter, resolved = None, spec is None
    for epoch in range(start_epoch, epochs + 1):
        if loop.stop_training:
            break
        loop.epoch = epoch
        for cb in callbacks:
            cb.on_epoch_begin(loop, epoch)
        t0 = time.perf_counter()
        order = rng.permutation(n) if shuffle else np.arange(n)
        seen, total, correct, count = 0, 0.0, 0, 0
        for b in range(n_batches):
            idx = order[b * batch_size : (b + 1) * batch_size]
            xb, yb = _inputs(X[idx], dtype, features=True), _inputs(y[idx], dtype)
            optimizer.zero_grad()
            out = model(Tensor._wrap(xb))
            if not resolved:
                counter = spec.resolve(loss_fn, out.data, yb, required=required)
                resolved = True
            loss = loss_fn(out, Tensor._wrap(yb))
            value = float(loss.item())
            if not math.isfinite(value):
                raise diverged(
                    f"the loss became {value} at epoch {epoch}, batch {b + 1}/{n_batches}"
                )
            loss.backward()
            optimizer.step()
            seen += len(idx)
            total += value * len(idx)
            logs = {"loss": total / seen}
            if counter is not None:
                c, k = counter.count(out.data, yb)
                correct, count = correct + c, count + k
                logs["accuracy"] = correct / count if count else float("nan")
            for cb in callbacks:
                cb.on_batch_end(loop, b, logs)
        # every loss was finite, but a step (the last one, whose result no loss has
        # seen yet) may have made the weights non-finite: never keep or save those
        bad = _nonfinite(model.state_dict())
        if bad is not None:
            raise diverged(
                f"the weights ({bad!r}) became NaN or infinite in an optimizer step of "
                f"epoch {epoch} (its {n_batches} losses were finite)"
            )
        row = {"epoch": epoch, "loss": total / seen}
        if counter is not None:
            row["accuracy"] = correct / count if count else float("nan")
        if validation is not None:
            val = evaluate(model, loss_fn, validation, metrics=metrics)
            row["val_loss"] = val["loss"]
            if "accuracy" in val:
                row["val_accuracy"] = val["accuracy"]
        row["lr"] = float(optimizer.param_groups[0]["lr"])
        row["time"] = time.perf_counter() - t0
        history.append(row)
        for cb in callbacks:
            cb.on_epoch_end(loop, epoch, row)
        state = model.state_dict()  # after the callbacks, which may change the weights
        bad = _nonfinite(state)
        if bad is not None:
            history.epochs.pop()  # the History holds the epochs completed before
            raise diverged(
                f"the weights ({bad!r}) became NaN or infinite in the callbacks at the end "
                f"of epoch {epoch}"
            )
        good_weights = state
        if loop.stop_training:
            history.stopped_epoch = epoch  # checkpointed: a resumed run stays finished
        if checkpoint is not None:
            _save(checkpoint, epoch, model, optimizer, callbacks, history, generators)
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

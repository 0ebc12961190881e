"""The training loop as a function: ``fit`` (minibatch SGD), ``evaluate``, ``predict``.

Seed 001's procedure: at every epoch, shuffle the training set (a fresh permutation
from the seeded generator), cut it into minibatches, and for each one compute the
loss, backpropagate and take an optimizer step; monitor the error on a held-out
validation split to choose when to stop.

The data is either arrays ``(X, y)``, shuffled and batched by
:func:`numnet.data.iterate_minibatches`, or a :class:`numnet.utils.data.DataLoader`
(or any re-iterable of ``(x, y)`` batches), iterated once per epoch, so that data too
large for memory can stream from disk. The ``accuracy`` metric is in
:mod:`numnet.train.metrics`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from numnet.autograd.engine import no_grad
from numnet.data.batching import index_batches, iterate_minibatches
from numnet.parallel import data_parallel_step
from numnet.random import as_generator, default_generator, renamed_kwarg
from numnet.tensor import Tensor
from numnet.train.callbacks import Callback, EpochPrinter, ProgressBar
from numnet.train.history import History
from numnet.train.metrics import Accuracy, _metric_spec, accuracy_count  # noqa: F401 (re-exported)


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; ``history`` holds the epochs completed before."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def _array_like(a) -> bool:
    return isinstance(a, (np.ndarray, Tensor))


def _as_batch_array(a) -> np.ndarray:
    return np.asarray(a.data if isinstance(a, Tensor) else a)


def _check_pair(x: np.ndarray, y: np.ndarray, what: str, names: str = "X") -> None:
    """Refuse inputs ``x`` and targets ``y`` of different lengths, none, or with NaN in x.

    ``names`` is how the message calls the inputs: ``"X"`` for whole arrays, ``"x"`` for
    one batch.
    """
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(
            f"{what}: {names} and y need the same number of samples, got shapes {x.shape} "
            f"and {y.shape}"
        )
    if len(x) == 0:
        raise ValueError(f"{what} is empty")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise ValueError(f"{what}: {names} contains NaN or infinite values")


def _as_arrays(data, what: str) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(data, "X") and hasattr(data, "y"):
        data = (data.X, data.y)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(
            f"{what} must be an (X, y) pair of arrays, a numnet.utils.data.DataLoader, or a "
            f"re-iterable of (x, y) batches; got {type(data).__name__}"
        )
    X, y = (_as_batch_array(d) for d in data)
    _check_pair(X, y, what)
    return X, y


def _inputs(X: np.ndarray, dtype, *, features: bool = False) -> np.ndarray:
    """Floating arrays (and integer ``features``, e.g. uint8 pixels) in the model's dtype;
    integer targets (class labels) unchanged. Integer features are converted as Keras
    converts them, unscaled, with a warning (shown once per process, Python's default
    filter): pixel values 0-255 train badly where a layer expects [0, 1]."""
    if X.dtype == dtype or not (X.dtype.kind == "f" or (features and X.dtype.kind in "iub")):
        return X
    if X.dtype.kind in "iu":
        warnings.warn(
            f"integer features ({X.dtype}) converted to {np.dtype(dtype)} without scaling; "
            "for pixel values 0-255 divide by 255 first (or use MNIST(...).arrays(), or "
            "transform=numnet.data.transforms.ToTensor())",
            UserWarning,
            stacklevel=2,
        )
    return X.astype(dtype)


# -- batches from a DataLoader or any re-iterable ------------------------------------------
class _Batches:
    """The batches of a :class:`~numnet.utils.data.DataLoader` or another re-iterable.

    Iterating gives one epoch: ``(x, y)`` NumPy arrays (``pairs=True``) or ``x`` arrays
    (``pairs=False``, for :func:`predict`: a batch is ``x`` or ``(x, ...)``), checked
    batch by batch as :func:`fit` checks arrays.
    """

    def __init__(self, data, what: str, *, pairs: bool = True) -> None:
        self.data, self.what, self.pairs = data, what, pairs
        try:
            self.length = len(data)
        except TypeError:  # e.g. a DataLoader over an IterableDataset without __len__
            self.length = None
        self.passes = 0

    def loader(self):
        """The numnet DataLoader, or None for another iterable."""
        from numnet.utils.data import DataLoader

        return self.data if isinstance(self.data, DataLoader) else None

    def generators(self) -> list[np.random.Generator]:
        """The NumPy Generators that shuffle a numnet DataLoader (saved by checkpoints)."""
        loader = self.loader()
        if loader is None:
            return []
        batch_sampler = loader.batch_sampler
        candidates = (
            loader.generator,
            getattr(loader.sampler, "generator", None),
            getattr(batch_sampler, "generator", None),
            getattr(getattr(batch_sampler, "sampler", None), "generator", None),
        )
        out: list[np.random.Generator] = []
        for g in candidates:
            if isinstance(g, np.random.Generator) and all(g is not h for h in out):
                out.append(g)
        return out

    def _check(self, batch, index: int):
        what = f"{self.what}, batch {index + 1}"
        if not self.pairs:
            x = batch[0] if isinstance(batch, (tuple, list)) and batch else batch
            x = _as_batch_array(x)
            if x.ndim == 0:
                raise ValueError(f"{what}: x needs a first (sample) dimension, got a scalar")
            return x
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError(
                f"{what}: each batch must be an (x, y) pair, got "
                + (
                    f"a {type(batch).__name__} of length {len(batch)}"
                    if isinstance(batch, (tuple, list))
                    else type(batch).__name__
                )
            )
        x, y = (_as_batch_array(d) for d in batch)
        _check_pair(x, y, what, names="x")
        return x, y

    def __iter__(self):
        it = iter(self.data)
        count = -1
        for count, batch in enumerate(it):
            yield self._check(batch, count)
        self.passes += 1
        if count < 0:
            if self.passes > 1:
                raise TypeError(
                    f"{self.what} yielded no batches on pass {self.passes} (a one-shot "
                    "iterable whose __iter__ does not start over?): pass a re-iterable such "
                    "as a numnet.utils.data.DataLoader or a list of (x, y) batches"
                )
            raise ValueError(f"{self.what} yielded no batches")


def _looks_like_batches(data, pairs: bool) -> bool:
    """A list/tuple of batches (``(x, y)``, or for predict ``(x, ...)``; each ``x`` an
    array or Tensor) rather than an ``(X, y)`` pair or a list of rows."""
    sizes = (2,) if pairs else (1, 2, 3)
    return len(data) > 0 and all(
        isinstance(b, (tuple, list)) and len(b) in sizes and _array_like(b[0]) for b in data
    )


def _batch_source(data, what: str, *, pairs: bool = True) -> _Batches | None:
    """``data`` as a :class:`_Batches` if it is a DataLoader or a re-iterable of batches;
    ``None`` for arrays (``(X, y)``, an object with ``.X`` and ``.y``, an array).

    Raises
    ------
    TypeError
        For a one-shot iterator (a generator...), which would be exhausted after the
        first epoch, and for a Dataset not wrapped in a DataLoader.
    """
    from numnet.utils.data import DataLoader, Dataset

    if isinstance(data, _Batches):
        return data
    if isinstance(data, DataLoader):
        return _Batches(data, what, pairs=pairs)
    if isinstance(data, Dataset):
        raise TypeError(
            f"{what} is a Dataset ({type(data).__name__}), whose items are single samples: "
            "wrap it in numnet.utils.data.DataLoader(dataset, batch_size=...), which batches "
            "(and shuffles) it"
        )
    if (
        isinstance(data, (np.ndarray, Tensor, Mapping, str, bytes))
        or hasattr(data, "__array__")  # e.g. a torch tensor or a DataFrame: an array
        or (hasattr(data, "X") and hasattr(data, "y"))
    ):
        return None
    if isinstance(data, (tuple, list)):
        return _Batches(data, what, pairs=pairs) if _looks_like_batches(data, pairs) else None
    if isinstance(data, Iterator):
        raise TypeError(
            f"{what} is a one-shot iterator ({type(data).__name__}), which would be exhausted "
            "after the first pass: pass a re-iterable such as a numnet.utils.data.DataLoader, "
            "a list of (x, y) batches, or an object whose __iter__ returns a fresh iterator"
        )
    if isinstance(data, Iterable):
        return _Batches(data, what, pairs=pairs)
    return None


def _loader_decides(batches: _Batches, caller: str, **given) -> None:
    """Refuse options that conflict with the batches' own (the loader decides)."""
    loader = batches.loader()
    if loader is not None:
        from numnet.utils.data import RandomSampler

        own = {
            "batch_size": loader.batch_size,
            "shuffle": isinstance(loader.sampler, RandomSampler),
            "drop_last": loader.drop_last,
        }
        for name, value in given.items():
            if value is not None and value != own[name]:
                raise ValueError(
                    f"{caller}: {name}={value!r} conflicts with the DataLoader's "
                    f"{name}={own[name]!r}; with a DataLoader the loader decides batch_size, "
                    "shuffle and drop_last: set them on the DataLoader and leave them unset here"
                )
        return
    for name, value in given.items():
        if value is not None:
            raise ValueError(
                f"{caller}: {name}={value!r} cannot apply to ready-made batches "
                f"({type(batches.data).__name__}): they are used as they come; leave {name} "
                "unset (or pass a numnet.utils.data.DataLoader and set it there)"
            )


class Loop:
    """What callbacks see: the model, optimizer, history and the loop's position.

    ``batches_per_epoch`` is ``None`` when the training batches come from an iterable
    without a length.
    """

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


@contextlib.contextmanager
def _inference(model):
    """Eval mode and no graph for the block; the model's mode is restored after it."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def _array_batches(arrays: tuple[np.ndarray, ...], batch_size: int, n: int | None = None):
    """The rows of ``arrays`` in order, ``batch_size`` at a time (views, not copies);
    ``n`` (default: their length) is the number of rows to cover."""
    n = len(arrays[0]) if n is None else n
    for index in index_batches(n, batch_size):
        yield tuple(a[index] for a in arrays)


def evaluate(model, loss_fn, data, *, batch_size: int | None = None, metrics="auto") -> dict:
    """Mean loss (and accuracy) of ``model`` on ``data``, in eval mode, no graph.

    Parameters
    ----------
    model : Module
    loss_fn : callable ``(output, target) -> scalar Tensor``
    data : (X, y) arrays, a DataLoader, or a re-iterable of (x, y) batches
        Arrays (or an object with ``.X`` and ``.y``) hold at least one sample. A
        :class:`numnet.utils.data.DataLoader` (or a list of ``(x, y)`` batches, or any
        object whose ``__iter__`` gives a fresh iterator of them) is read batch by
        batch, never all in memory.
    batch_size : int, optional
        Rows per batch for arrays (default 1024). With a DataLoader the loader decides:
        a different value raises ValueError; with other batches it must be left unset.
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
        ``data`` is empty or yields no batch (as Keras, no metric is defined on no
        samples), X and y differ in length, X holds NaN, ``batch_size`` conflicts with
        a DataLoader's, or the accuracy was required and is not defined (see
        :class:`Accuracy`).
    TypeError
        ``data`` is a one-shot iterator (a generator), a Dataset not wrapped in a
        DataLoader, or a batch is not an ``(x, y)`` pair.
    """
    spec, required = _metric_spec(metrics)
    batches = _batch_source(data, "data")
    if batches is not None:
        _loader_decides(batches, "evaluate", batch_size=batch_size)
        source = batches
    else:
        size = 1024 if batch_size is None else batch_size
        source = _array_batches(_as_arrays(data, "data"), size)
    dtype = _param_dtype(model)
    total, rows, correct, count, counter = 0.0, 0, 0, 0, None
    with _inference(model):
        for i, (xr, yr) in enumerate(source):
            xb, yb = _inputs(xr, dtype, features=True), _inputs(yr, dtype)
            out = model(Tensor._wrap(xb))
            if i == 0 and spec is not None:
                counter = spec.resolve(loss_fn, out.data, yb, required=required)
            total += float(loss_fn(out, Tensor._wrap(yb)).item()) * len(xb)
            rows += len(xb)
            if counter is not None:
                c, k = counter.count(out.data, yb)
                correct, count = correct + c, count + k
    result = {"loss": total / rows}
    if counter is not None:
        result["accuracy"] = correct / count if count else float("nan")
    return result


def predict(model, X, *, batch_size: int | None = None) -> np.ndarray:
    """Outputs of ``model`` on ``X`` (eval mode, no graph), batch by batch.

    Parameters
    ----------
    model : Module
    X : array_like, Tensor, DataLoader, or re-iterable of batches
        Inputs of shape ``(N, ...)``; or a :class:`numnet.utils.data.DataLoader` (or a
        list of batches, or any object whose ``__iter__`` gives a fresh iterator of
        them) whose batches are ``x`` or ``(x, ...)`` (targets, if any, are ignored).
    batch_size : int, optional
        Rows per batch for arrays (default 1024). With a DataLoader the loader decides
        (a different value raises ValueError); with other batches it must be unset.

    Returns
    -------
    numpy.ndarray
        The outputs stacked along axis 0 (in the batches' order): shape ``(N, ...)``.
        With no rows the model still runs once on the empty batch, so the result has
        the model's output shape and dtype with N = 0 (e.g. ``(0, n_out)``), as
        PyTorch's ``model(X[:0])``.

    Raises
    ------
    ValueError
        Batches that yield nothing (the output shape is then unknown), or a
        ``batch_size`` that conflicts with the DataLoader's.
    TypeError
        ``X`` is a one-shot iterator (a generator) or a Dataset not in a DataLoader.
    """
    batches = _batch_source(X, "X", pairs=False)
    if batches is not None:
        _loader_decides(batches, "predict", batch_size=batch_size)
        source = batches
    else:
        X = _as_batch_array(X)
        size = 1024 if batch_size is None else batch_size
        # no rows: one (empty) batch all the same, for the output's shape and dtype
        source = (x for (x,) in _array_batches((X,), size, max(len(X), 1)))
    dtype = _param_dtype(model)
    with _inference(model):
        outs = [model(Tensor._wrap(_inputs(xb, dtype, features=True))).data for xb in source]
    return np.concatenate(outs)


@renamed_kwarg("seed")
def fit(
    model,
    loss_fn,
    optimizer,
    train_data,
    *,
    epochs: int,
    batch_size: int | None = None,
    validation=None,
    callbacks=(),
    generator=None,
    drop_last: bool | None = None,
    shuffle: bool | None = None,
    verbose: int = 1,
    checkpoint=None,
    metrics="auto",
    data_parallel="auto",
) -> History:
    """Train ``model`` by minibatch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : Module
    loss_fn : callable ``(output, target) -> scalar Tensor`` (e.g. ``F.cross_entropy``)
    optimizer : a ``numnet.optim`` optimizer over ``model.parameters()``
    train_data : (X, y) arrays, a DataLoader, or a re-iterable of (x, y) batches
        Arrays (or an object with ``.X`` and ``.y``) are held in memory, shuffled and
        cut into batches here. A :class:`numnet.utils.data.DataLoader` (or a list of
        ``(x, y)`` batches, or any object whose ``__iter__`` returns a fresh iterator
        of them) streams: it is iterated once per epoch, so the data need not fit in
        memory; the batches are used as they come (x and y as Tensors or arrays,
        converted as arrays are: floating x and y to the model's dtype, integer
        features too (unscaled, with a UserWarning: divide pixel values by 255),
        integer labels kept). A one-shot iterator (a generator) is
        refused: it would be exhausted after the first epoch.
    epochs : int
        The total number of epochs of the run, counting those restored from
        ``checkpoint`` (Keras's ``epochs`` with ``initial_epoch``).
    batch_size : int, optional
        Rows per batch for arrays (default 32). With a DataLoader the loader decides
        (as in PyTorch Lightning): leave it unset, or equal to the loader's; a
        different value raises ValueError. Other batches: leave it unset.
    validation : float in (0, 1), (X_val, y_val), a DataLoader or re-iterable of batches, or None
        A float holds out that fraction of array ``train_data``, stratified by class
        (seed 001's 90/10 development/validation split with ``0.1``); it cannot split
        a DataLoader (ValueError: pass a validation loader, e.g. made with
        :func:`numnet.utils.data.random_split`). Evaluated after every epoch by
        :func:`evaluate`.
    callbacks : sequence of :class:`Callback`
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        The source of the shuffles (and of the validation split) of arrays, normalised
        by :func:`numnet.random.as_generator` (``None``: numnet's default generator).
        With a DataLoader it is refused (ValueError): the loader's own ``generator=``
        shuffles. ``seed=`` is its deprecated name (a DeprecationWarning).
    drop_last : bool, optional
        Skip the last, smaller batch of each epoch (arrays; default False).
    shuffle : bool, optional
        A new order of the arrays every epoch (default True). With a DataLoader,
        ``drop_last`` and ``shuffle`` are the loader's, as ``batch_size``.
    verbose : 0 silent; 1 a progress bar when stderr is a terminal, else one line per
        epoch on stderr; 2 one line per epoch on stdout
        The bar's total is the number of batches per epoch (``len(loader)``; unknown,
        hence no total, for batches without a length).
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

        With a DataLoader, runs resume at epoch granularity (checkpoints are written
        at the end of epochs; a killed epoch is done again from its start). The state
        of the NumPy ``Generator`` that shuffles a numnet DataLoader (its
        ``generator=``, or its sampler's) is checkpointed and restored, so a resumed
        run, given a loader made the same way, continues the same sequence of
        shuffles and ends bit for bit as an uninterrupted one (the default generator,
        used by a loader without ``generator=``, is checkpointed too). The random
        state of other iterables (a torch DataLoader, your own class) is not saved:
        their order after a resume is theirs.
    metrics : 'auto', None, 'accuracy', an :class:`Accuracy`, or a list of one of them
        'auto' (default) logs ``accuracy`` (and ``val_accuracy``) when the loss and the
        shapes define one: arg-max for ``cross_entropy``/``nll_loss``, ``output > 0.5``
        for ``binary_cross_entropy``/``BCELoss`` (probabilities), ``output > 0`` for
        ``binary_cross_entropy_with_logits``/``BCEWithLogitsLoss``/hinge (logits), none
        for ``mse_loss`` or when a custom loss leaves a single column ambiguous (see
        :class:`Accuracy`). ``'accuracy'`` requires it (ValueError otherwise); None
        logs only the loss. Computed the same way on arrays and on a loader's batches
        (resolved on the first batch).
    data_parallel : 'auto', bool or int
        Split each minibatch over threads (:func:`numnet.parallel.data_parallel_step`:
        each thread computes its shard's gradients with single-threaded BLAS; the sum
        is the whole batch's gradient, dropout masks are the unsplit step's). An int
        is the number of threads, True means :func:`numnet.get_num_threads`, False
        (or 1) the plain step. 'auto' (default) splits models with a convolution when
        there is more than one core and threadpoolctl is installed, where it measured
        faster; small MLPs train faster unsplit (docs/performance.md).

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
        Bad sizes, NaN inputs, an empty dataset (or batches that yield nothing),
        non-finite weights before training, a required accuracy that the loss does not
        define; with a DataLoader, a conflicting ``batch_size``/``shuffle``/
        ``drop_last``, a ``generator``, or a float ``validation``.
    TypeError
        ``train_data`` or ``validation`` is a one-shot iterator (a generator) or a
        Dataset not wrapped in a DataLoader, or a batch is not an ``(x, y)`` pair.
    numnet.io.CheckpointError
        ``checkpoint`` exists but is malformed, or was written by a different run
        (other model shapes, optimizer, callbacks or generators): a ``ValueError``.
    """
    batches = _batch_source(train_data, "train_data")
    batch_size, shuffle, drop_last = _check_options(
        batches, epochs, batch_size, shuffle, drop_last, generator, validation
    )
    spec, required = _metric_spec(metrics)
    generator = as_generator(generator)
    data = _TrainingData(batches, train_data, validation, generator)
    data.batch_arrays(batch_size, shuffle, drop_last)
    history = History()
    callbacks = _with_verbosity(callbacks, verbose)
    loop = Loop(model, optimizer, history, epochs, data.n_batches)
    generators = data.checkpoint_generators(model)
    _resume(checkpoint, loop, callbacks, generators)
    run = _Run(model, loss_fn, optimizer, loop, callbacks, spec, required)
    run.threads = _data_parallel_threads(model, data_parallel)
    model.train()
    for cb in callbacks:
        cb.on_train_begin(loop, {})
    for epoch in range(history.initial_epoch + 1, epochs + 1):
        if loop.stop_training:
            break
        loop.epoch = epoch
        row, t0 = run.epoch(epoch, data)
        if data.validation is not None:
            val = evaluate(model, loss_fn, data.validation, metrics=metrics)
            row["val_loss"] = val["loss"]
            if "accuracy" in val:
                row["val_accuracy"] = val["accuracy"]
        run.end_epoch(epoch, row, t0)
        if checkpoint is not None:
            _save(checkpoint, epoch, model, optimizer, callbacks, history, generators)
    for cb in callbacks:
        cb.on_train_end(loop, history.epochs[-1] if history.epochs else {})
    return history


def _check_options(batches, epochs, batch_size, shuffle, drop_last, generator, validation):
    """``fit``'s ``(batch_size, shuffle, drop_last)``: the defaults for arrays filled in,
    and what cannot apply to a DataLoader or other batches refused (ValueError)."""
    if batches is None:
        batch_size = 32 if batch_size is None else batch_size
        shuffle = True if shuffle is None else shuffle
        drop_last = False if drop_last is None else drop_last
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        return batch_size, shuffle, drop_last
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    _loader_decides(batches, "fit", batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    if generator is not None:
        raise ValueError(
            "fit: generator shuffles arrays; the batches of "
            f"{type(batches.data).__name__} come in their own order (give a DataLoader "
            "generator=... to seed its shuffles)"
        )
    if isinstance(validation, float):
        raise ValueError(
            f"fit: validation={validation} holds out a fraction of arrays, and cannot "
            "split a DataLoader or other batches: pass validation=<a DataLoader or "
            "(X_val, y_val)>, e.g. from numnet.utils.data.random_split"
        )
    return batch_size, shuffle, drop_last


class _TrainingData:
    """Where ``fit``'s batches come from: arrays in memory, or a loader streamed.

    ``epoch_batches()`` starts one pass over the training batches (arrays: a new permutation
    drawn from ``generator`` when ``shuffle``, by
    :func:`numnet.data.iterate_minibatches`); ``n_batches`` is their number per epoch
    (``None`` for an iterable without a length); ``validation`` is ``None``, ``(X, y)``
    arrays or a :class:`_Batches`.
    """

    def __init__(self, batches: _Batches | None, train_data, validation, generator) -> None:
        self.batches, self.generator = batches, generator
        if batches is None:
            self.X, self.y = _as_arrays(train_data, "train_data")
        if isinstance(validation, float):
            from numnet.data.split import train_val_split

            self.X, self.y, Xv, yv = train_val_split(
                self.X, self.y, validation, stratify=True, generator=generator
            )
            validation = (Xv, yv)
        elif validation is not None:
            source = _batch_source(validation, "validation")
            validation = _as_arrays(validation, "validation") if source is None else source
        self.validation = validation
        self.n_batches = None if batches is None else batches.length
        self.epoch_batches = None if batches is None else batches.__iter__

    def batch_arrays(self, batch_size: int, shuffle: bool, drop_last: bool) -> None:
        """Cut the arrays into batches of ``batch_size`` rows (nothing for a loader)."""
        if self.batches is not None:
            return
        n = len(self.X)
        self.n_batches = n // batch_size if drop_last else math.ceil(n / batch_size)
        if self.n_batches == 0:
            raise ValueError(
                f"drop_last with batch_size {batch_size} > {n} samples leaves no batch"
            )
        # one memory layout for every batch, shuffled (gathered) or not (sliced)
        X = np.ascontiguousarray(self.X)
        self.epoch_batches = functools.partial(
            iterate_minibatches, X, self.y, batch_size,
            shuffle=shuffle, generator=self.generator, drop_last=drop_last,
        )  # fmt: skip

    def checkpoint_generators(self, model) -> list[np.random.Generator]:
        """The generators a checkpoint saves: the shuffles', the modules' (dropout), the
        numnet DataLoaders', and numnet's default one (``F.dropout`` without one)."""
        generators = [self.generator, *_module_generators(model)]
        for source in (self.batches, self.validation):
            if isinstance(source, _Batches):
                new = [g for g in source.generators() if all(g is not h for h in generators)]
                generators += new
        if all(g is not default_generator() for g in generators):
            generators.append(default_generator())
        return generators


def _with_verbosity(callbacks, verbose: int) -> list[Callback]:
    """The user's callbacks (checked), then the progress bar or printer ``verbose`` asks for."""
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if verbose == 1:
        callbacks.append(ProgressBar())
    elif verbose >= 2:
        callbacks.append(EpochPrinter())
    return callbacks


def _resume(checkpoint, loop: Loop, callbacks, generators) -> None:
    """Restore the run in ``checkpoint`` if the file exists; a finished run is not trained
    again (a warning, and ``loop.stop_training``)."""
    history = loop.history
    start_epoch = 1
    if checkpoint is not None and Path(checkpoint).exists():
        start_epoch = (
            _restore(checkpoint, loop.model, loop.optimizer, callbacks, history, generators) + 1
        )
    history.initial_epoch = start_epoch - 1
    if history.stopped_epoch is not None or start_epoch > loop.epochs:
        why = (
            f"stopped early at epoch {history.stopped_epoch}"
            if history.stopped_epoch is not None
            else f"{start_epoch - 1} epochs done, epochs={loop.epochs}"
        )
        warnings.warn(
            f"fit: checkpoint {checkpoint} holds a finished run ({why}); nothing to train",
            UserWarning,
            stacklevel=4,  # the caller of fit: _resume, fit, renamed_kwarg's wrapper, caller
        )
        loop.stop_training = True
        loop.epoch = start_epoch - 1


class _Run:
    """The training steps of one ``fit``: epochs of forward, loss, backward and step, the
    running metrics, and the last finite weights to fall back to on divergence."""

    def __init__(self, model, loss_fn, optimizer, loop: Loop, callbacks, spec, required):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.loop, self.callbacks = loop, callbacks
        self.spec, self.required = spec, required
        self.counter, self.resolved = None, spec is None
        self.threads = 1
        self.dtype = _param_dtype(model)
        self.good_weights = model.state_dict()
        bad = _nonfinite(self.good_weights)
        if bad is not None:
            raise ValueError(f"fit: the model's {bad!r} holds NaN or infinite values")

    def diverged(self, message: str) -> TrainingDivergedError:
        """Reset the model to its last finite weights; the error to raise."""
        self.model.load_state_dict(self.good_weights)
        return TrainingDivergedError(
            f"{message}; the model was reset to its weights at the end of epoch "
            f"{self.loop.epoch - 1} (lower the learning rate, or check the inputs)",
            self.loop.history,
        )

    def step(self, xb: np.ndarray, yb: np.ndarray, where: str):
        """One optimizer step on a batch: ``(loss value, output)``.

        Split over threads (:func:`numnet.parallel.data_parallel_step`) when asked and
        the batch has a row per thread; ``where`` names the batch if the loss diverges.
        """
        self.optimizer.zero_grad()
        split = self.threads > 1 and len(xb) >= self.threads
        if split:  # forward and backward: the gradients are ready after it
            loss, out = data_parallel_step(
                self.model, self.loss_fn, xb, yb, num_threads=self.threads, return_output=True
            )
        else:
            out = self.model(Tensor._wrap(xb))
        if not self.resolved:
            self.counter = self.spec.resolve(self.loss_fn, out.data, yb, required=self.required)
            self.resolved = True
        if not split:
            loss = self.loss_fn(out, Tensor._wrap(yb))
        value = float(loss.item())
        if not math.isfinite(value):
            raise self.diverged(f"the loss became {value} at {where}")
        if not split:
            loss.backward()
        self.optimizer.step()
        return value, out

    def epoch(self, epoch: int, data: _TrainingData) -> tuple[dict, float]:
        """One pass over the training batches: the epoch's row of the History so far
        (``epoch``, ``loss``, ``accuracy`` if any) and its start time."""
        for cb in self.callbacks:
            cb.on_epoch_begin(self.loop, epoch)
        t0 = time.perf_counter()
        total_batches = "?" if data.n_batches is None else data.n_batches
        seen, total, correct, count = 0, 0.0, 0, 0
        for b, (xr, yr) in enumerate(data.epoch_batches()):
            xb, yb = _inputs(xr, self.dtype, features=True), _inputs(yr, self.dtype)
            value, out = self.step(xb, yb, f"epoch {epoch}, batch {b + 1}/{total_batches}")
            seen += len(xb)
            total += value * len(xb)
            logs = {"loss": total / seen}
            if self.counter is not None:
                c, k = self.counter.count(out.data, yb)
                correct, count = correct + c, count + k
                logs["accuracy"] = correct / count if count else float("nan")
            for cb in self.callbacks:
                cb.on_batch_end(self.loop, b, logs)
        # every loss was finite, but a step (the last one, whose result no loss has
        # seen yet) may have made the weights non-finite: never keep or save those
        bad = _nonfinite(self.model.state_dict())
        if bad is not None:
            raise self.diverged(
                f"the weights ({bad!r}) became NaN or infinite in an optimizer step of "
                f"epoch {epoch} (its {b + 1} losses were finite)"
            )
        row = {"epoch": epoch, "loss": total / seen}
        if self.counter is not None:
            row["accuracy"] = correct / count if count else float("nan")
        return row, t0

    def end_epoch(self, epoch: int, row: dict, t0: float) -> None:
        """Log the epoch's row, run the callbacks, and keep the weights if finite."""
        row["lr"] = float(self.optimizer.param_groups[0]["lr"])
        row["time"] = time.perf_counter() - t0
        history = self.loop.history
        history.append(row)
        for cb in self.callbacks:
            cb.on_epoch_end(self.loop, epoch, row)
        state = self.model.state_dict()  # after the callbacks, which may change the weights
        bad = _nonfinite(state)
        if bad is not None:
            history.epochs.pop()  # the History holds the epochs completed before
            raise self.diverged(
                f"the weights ({bad!r}) became NaN or infinite in the callbacks at the end "
                f"of epoch {epoch}"
            )
        self.good_weights = state
        if self.loop.stop_training:
            history.stopped_epoch = epoch  # checkpointed: a resumed run stays finished


def _data_parallel_threads(model, data_parallel) -> int:
    """Threads for :func:`fit`'s batch split (1: the plain step); see ``data_parallel``."""
    from numnet.parallel import can_split, get_num_threads

    if data_parallel == "auto":
        from numnet.nn.conv import Conv1d, Conv2d

        convolutional = any(isinstance(m, (Conv1d, Conv2d)) for m in model.modules())
        return get_num_threads() if convolutional and can_split() else 1
    if isinstance(data_parallel, bool):
        return get_num_threads() if data_parallel else 1
    if isinstance(data_parallel, (int, np.integer)) and data_parallel >= 1:
        return int(data_parallel)
    raise ValueError(
        f"fit: data_parallel must be 'auto', a bool or a positive int, got {data_parallel!r}"
    )


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
    """Restore a run from ``path``; every problem is a :class:`numnet.io.CheckpointError`."""
    from numnet.io import CheckpointError, load_checkpoint

    state = load_checkpoint(path)
    try:
        return _restore_state(path, state, model, optimizer, callbacks, history, generators)
    except CheckpointError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError,
            RuntimeError) as exc:  # fmt: skip
        raise CheckpointError(
            f"{path}: the checkpoint does not fit this run ({type(exc).__name__}: "
            f"{str(exc)[:300]})"
        ) from exc


def _restore_state(path, state, model, optimizer, callbacks, history, generators) -> int:
    from numnet.io import CheckpointError

    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    stateful = [cb for cb in callbacks if cb.state_dict()]
    if [type(cb).__name__ for cb in stateful] != [name for name, _ in state["callbacks"]] or len(
        state["generators"]
    ) != len(generators):
        raise CheckpointError(
            f"checkpoint {path} was written by a run with different callbacks or random "
            "generators; resume with the same fit() arguments"
        )
    for cb, (_, s) in zip(stateful, state["callbacks"]):
        cb.load_state_dict(s)
    history.load_state_dict(state["history"])
    for g, s in zip(generators, state["generators"]):
        g.bit_generator.state = s
    epoch = state["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(f"{path}: corrupt checkpoint (epoch {epoch!r:.50})")
    return epoch

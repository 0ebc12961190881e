"""Rosenblatt's perceptron (seed 002, 3.1), with the seed's per-epoch log."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearClassifier
from numnet.classic._validation import (
    RandomState,
    check_random_state,
    check_X,
    check_X_y,
)
from numnet.classic.hinge import PERCEPTRON_THRESHOLD, violates

__all__ = ["Perceptron"]

_MIN_BLOCK, _MAX_BLOCK = 16, 8192


class Perceptron(LinearClassifier):
    """The perceptron algorithm on labels ``y ∈ {-1, +1}``.

    Start with ``w⁰ = 0``; while some sample has ``yₙ (wᵏ·xₙ) ≤ 0``, update
    ``wᵏ⁺¹ = wᵏ + yₙ xₙ``. The bias is the weight β of a constant feature ``c``
    (``intercept_scaling``) appended to every ``x``: ``β ← β + yₙ c`` at each update and
    ``b = β c``. The prediction is
    ``σ(w·x + b)`` with ``σ(s) = 1 if s ≥ 0 else -1``. This is stochastic subgradient
    descent with step 1 on the hinge ``max(0, -y (w·x + b))`` (threshold 0 of
    :mod:`numnet.classic.hinge`).

    If the samples lie in a ball of radius R and can be separated with a margin γ
    (``yₙ (xₙ·w*) ≥ γ/2`` for some ``‖w*‖ = 1``), the number of updates is at most
    ``4R²/γ²`` (see :mod:`numnet.classic.bound`).

    Parameters
    ----------
    max_epochs : int
        Passes over the data; training stops earlier after an epoch without update.
    fit_intercept : bool
        Append the constant feature ``c`` (the seed's "bias as one of the ws").
    intercept_scaling : float
        The value ``c`` of that constant feature.
    shuffle : bool
        Visit the samples in a new random order each epoch (the seed uses the data order).
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        The epochs' orders, only used when ``shuffle`` is true (see
        :func:`numnet.random.check_random_state`); ``None`` is numnet's default
        generator, re-seeded by :func:`numnet.manual_seed`.
    verbose : bool
        Print each epoch's log line as it is produced.

    Attributes
    ----------
    coef_ : ndarray, shape (D,)
        ``w``, in the dtype of ``X``.
    intercept_ : float
        ``b`` (the weight of the constant feature times ``c``).
    classes_ : ndarray, shape (2,)
        ``[-1, 1]``.
    converged_ : bool
        Whether an epoch went by without a single update (the data are separated).
    n_epochs_ : int
        Epochs run.
    n_updates_ : int
        Total number of updates ``k`` (the quantity bounded by ``4R²/γ²``).
    log_ : list of dict
        Per epoch: ``epoch``, ``nb_changes``, ``train_error`` and, with an ``eval_set``,
        ``test_error`` (errors as fractions).

    Notes
    -----
    The update is sequential by nature, but the scan is vectorized: the margins of a
    block of upcoming samples are computed with one matrix-vector product, and Python
    only steps in at the first mistake of the block. The block grows while no mistake
    is found, so an epoch costs about one pass of ``X @ w`` plus a small amount per
    update. The result is exactly the sample-by-sample algorithm.

    References
    ----------
    F. Rosenblatt. The perceptron: a perceiving and recognizing automaton. Cornell
    Aeronautical Laboratory, 1957. Seed 002, "3.1. The perceptron".
    """

    def __init__(
        self,
        *,
        max_epochs: int = 100,
        fit_intercept: bool = True,
        intercept_scaling: float = 1.0,
        shuffle: bool = False,
        random_state: RandomState = None,
        verbose: bool = False,
    ) -> None:
        self.max_epochs = max_epochs
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y, *, eval_set: tuple | None = None) -> Perceptron:
        """Run the perceptron algorithm.

        Parameters
        ----------
        X : array-like, shape (N, D)
        y : array-like, shape (N,)
            Labels: ``{-1, +1}`` (the seed's), any two labels (the larger one is the
            positive class ``classes_[1]``), or K > 2 labels (one-vs-rest).
        eval_set : (X_test, y_test), optional
            Held-out data whose error is logged after every epoch.
        """
        self._eval_set = eval_set
        try:
            return self._fit_ovr(X, y)
        finally:
            del self._eval_set

    def _check_params(self) -> None:
        if int(self.max_epochs) < 1:
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}")
        if self.fit_intercept and not float(self.intercept_scaling) > 0:
            raise ValueError(f"intercept_scaling must be > 0, got {self.intercept_scaling}")

    def _generator(self):
        return check_random_state(self.random_state) if self.shuffle else None

    def _fit_binary(self, X, y_pm, generator, class_index=None) -> dict:
        test = None
        if self._eval_set is not None:
            X_test, y_test = check_X_y(*self._eval_set, name="X_test")
            check_X(X_test, name="X_test", n_features=X.shape[1])
            if not np.isin(y_test, self.classes_).all():
                raise ValueError(
                    f"eval_set labels must be among the training classes "
                    f"{self.classes_.tolist()}; got {np.unique(y_test).tolist()}"
                )
            positive = self.classes_[1] if class_index is None else self.classes_[class_index]
            test = (X_test, np.where(y_test == positive, 1, -1))
        c = float(self.intercept_scaling) if self.fit_intercept else 0.0

        w = np.zeros(X.shape[1], dtype=X.dtype)
        beta = 0.0
        log, n_updates, converged = [], 0, False
        for epoch in range(int(self.max_epochs)):
            order = generator.permutation(X.shape[0]) if generator is not None else None
            nb_changes, beta = _epoch(X, y_pm, w, beta, c, order)
            n_updates += nb_changes
            b = beta * c
            entry = {"epoch": epoch, "nb_changes": nb_changes, "train_error": _error(X, y_pm, w, b)}
            if test is not None:
                entry["test_error"] = _error(*test, w, b)
            log.append(entry)
            if self.verbose:
                prefix = "" if class_index is None else f"class {self.classes_[class_index]!r}: "
                print(prefix + format_log_line(entry), flush=True)
            if nb_changes == 0:
                converged = True
                break
        return {
            "coef_": w.copy(),
            "intercept_": beta * c,
            "log_": log,
            "n_updates_": n_updates,
            "converged_": converged,
            "n_epochs_": len(log),
        }

    def format_log(self) -> str:
        """The training log in the seed's format, one line per epoch (one block per
        class, under a ``class ...:`` header, after a one-vs-rest fit)."""
        if self.coef_.ndim == 1:
            return "\n".join(format_log_line(entry) for entry in self.log_)
        blocks = []
        for label, log in zip(self.classes_.tolist(), self.log_):
            blocks.append(f"class {label!r}:")
            blocks.extend(format_log_line(entry) for entry in log)
        return "\n".join(blocks)


def _error(X: np.ndarray, y_pm: np.ndarray, w: np.ndarray, b: float) -> float:
    # the ±1 prediction's error, without re-validating X at every epoch
    scores = X @ w + X.dtype.type(b)
    return float(np.mean(np.where(scores >= 0, 1, -1) != y_pm))


def format_log_line(entry: dict) -> str:
    """``epoch 0 nb_changes 64 train_error 0.23% test_error 0.19%`` (seed 002's format)."""
    line = f"epoch {entry['epoch']} nb_changes {entry['nb_changes']}"
    line += f" train_error {100 * entry['train_error']:.2f}%"
    if "test_error" in entry:
        line += f" test_error {100 * entry['test_error']:.2f}%"
    return line


def _epoch(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: float, c: float, order: np.ndarray | None
) -> tuple[int, float]:
    """One pass of the perceptron over ``X`` (in ``order``), updating ``w`` in place.

    ``beta`` is the weight of the constant feature ``c`` (the bias is ``β c``). Returns
    the number of updates and the new ``beta``.
    """
    n, start, block, changes = X.shape[0], 0, _MIN_BLOCK, 0
    while start < n:
        stop = min(n, start + block)
        rows = slice(start, stop) if order is None else order[start:stop]
        X_block, y_block = X[rows], y[rows]
        margins = y_block * (X_block @ w + beta * c)
        mistakes = np.flatnonzero(violates(margins, PERCEPTRON_THRESHOLD))
        if mistakes.size == 0:
            start, block = stop, min(2 * block, _MAX_BLOCK)
            continue
        k = int(mistakes[0])
        w += y_block[k] * X_block[k]  # w ← w + yₙ xₙ
        beta += float(y_block[k]) * c  # the constant feature's weight: β ← β + yₙ c
        changes += 1
        # The next mistake is likely about as far as this one was: size the block on it.
        start, block = start + k + 1, max(_MIN_BLOCK, 2 * (k + 1))
    return changes, beta

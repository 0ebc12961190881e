"""Hold-out validation split, stratified by class (seed 001: 90% development, 10% validation)."""

from __future__ import annotations

import numpy as np

from numnet.random import as_generator, renamed_kwarg

__all__ = ["train_val_split"]


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must have a sample axis (at least 1-D)")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    return X, y


def _largest_remainder(counts: np.ndarray, fraction: float, generator: np.random.Generator):
    """Per-class validation sizes: ``floor(c_k f)`` plus one for the classes with the
    largest remainders (ties broken at random), so the total is ``round(N f)`` and
    each class is within one sample of its exact share ``c_k f``."""
    exact = counts * fraction
    sizes = np.floor(exact).astype(np.int64)
    extra = int(round(counts.sum() * fraction)) - int(sizes.sum())
    order = np.lexsort((generator.random(len(counts)), -(exact - sizes)))
    sizes[order[:extra]] += 1
    return sizes


def _stratified_indices(y: np.ndarray, fraction: float, generator: np.random.Generator):
    """``(val_idx, train_idx)``, each class split by :func:`_largest_remainder`.

    Vectorized: samples are sorted by (class, random key), so a sample's rank inside
    its class is its position minus the class's first position; a sample goes to the
    validation set when its rank is below its class's validation size.
    """
    n = len(y)
    _, labels = np.unique(y.reshape(n, -1), axis=0, return_inverse=True)
    labels = labels.reshape(n)
    counts = np.bincount(labels)
    sizes = _largest_remainder(counts, fraction, generator)
    order = np.lexsort((generator.random(n), labels))  # by class, random inside a class
    starts = np.cumsum(counts) - counts
    rank = np.arange(n) - starts[labels[order]]
    is_val = rank < sizes[labels[order]]
    return generator.permutation(order[is_val]), generator.permutation(order[~is_val])


@renamed_kwarg("seed")
def train_val_split(
    X,
    y,
    val_fraction: float = 0.1,
    *,
    stratify: bool = True,
    generator: int | np.random.Generator | np.random.SeedSequence | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` at random into training and validation parts.

    Parameters
    ----------
    X : array_like
        ``(N, ...)`` inputs.
    y : array_like
        ``(N,)`` labels (or ``(N, K)`` rows such as one-hot codes, or regression
        targets: every distinct row is its own stratum).
    val_fraction : float
        Share of samples held out, in ``(0, 1)``; the validation set has
        ``round(N * val_fraction)`` samples.
    stratify : bool
        Keep each class's proportion: class ``k`` with ``c_k`` samples puts
        ``floor(c_k f)`` or ``ceil(c_k f)`` of them in the validation set.
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness (``None``: numnet's default generator). ``seed=`` is the
        deprecated name of this keyword.

    Returns
    -------
    X_train, y_train, X_val, y_val : numpy.ndarray
        New arrays, each part in random order.

    Raises
    ------
    ValueError
        If lengths differ, ``val_fraction`` is outside ``(0, 1)``, either part would be
        empty, or ``generator`` is a negative int.
    TypeError
        If ``generator`` is not an int, a Generator, a SeedSequence or None.
    """
    X, y = _check_xy(X, y)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction!r}")
    n = len(y)
    n_val = int(round(n * val_fraction))
    if not 0 < n_val < n:
        raise ValueError(
            f"val_fraction={val_fraction} of {n} samples leaves an empty "
            f"{'validation' if n_val == 0 else 'training'} set"
        )
    generator = as_generator(generator)
    if stratify:
        val_idx, train_idx = _stratified_indices(y, val_fraction, generator)
    else:
        perm = generator.permutation(n)
        val_idx, train_idx = perm[:n_val], perm[n_val:]
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]

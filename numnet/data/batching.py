"""Mini-batches over in-memory arrays, and a dataset object that holds validated arrays.

Mini-batch SGD (seed 004) draws a fresh random order of the samples each epoch and
walks it in slices of ``batch_size``; each batch is gathered with one fancy index.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from numnet.data.split import train_val_split
from numnet.random import as_generator, renamed_kwarg

__all__ = ["ArrayDataset", "index_batches", "iterate_minibatches"]

Seed = int | np.random.Generator | np.random.SeedSequence | None


def iterate_minibatches(
    X,
    y=None,
    batch_size: int = 32,
    *,
    shuffle: bool = True,
    generator: Seed = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(X_batch, y_batch)`` covering every sample once (one epoch).

    Parameters
    ----------
    X : array_like
        ``(N, ...)`` inputs.
    y : array_like or None
        ``(N, ...)`` targets; ``None`` yields ``(X_batch, None)`` (e.g. autoencoders).
    batch_size : int
        Samples per batch; the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        Visit samples in a random order, drawn anew each time the iterator is started;
        otherwise in order (batches are then views, not copies).
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of the order. An int gives the same order on every call; a Generator
        (or ``None``, numnet's default one) advances, so each epoch differs.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Yields
    ------
    X_batch : numpy.ndarray
        ``(B, ...)`` with ``B <= batch_size``.
    y_batch : numpy.ndarray or None
        ``(B, ...)``.

    Raises
    ------
    ValueError
        If ``batch_size < 1`` or ``X`` and ``y`` differ in length (raised at the call),
        or ``generator`` is a negative int (raised when the iteration starts).
    TypeError
        If ``batch_size`` is not an int (at the call), or ``generator`` is not an int, a
        Generator, a SeedSequence or None (when the iteration starts).
    """
    X = np.asarray(X)
    y = None if y is None else np.asarray(y)
    if X.ndim == 0 or (y is not None and len(y) != len(X)):
        raise ValueError(
            f"X and y must be arrays of equal length, got shapes {X.shape} and "
            f"{None if y is None else y.shape}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return _batches(X, y, int(batch_size), shuffle, generator, drop_last)


def _batches(X, y, batch_size, shuffle, generator, drop_last):
    order = as_generator(generator).permutation(len(X)) if shuffle else None
    for index in index_batches(len(X), batch_size, order, drop_last):
        yield X[index], (None if y is None else y[index])


def index_batches(
    n: int, batch_size: int, order: np.ndarray | None = None, drop_last: bool = False
) -> Iterator[slice | np.ndarray]:
    """The indices of each mini-batch of one epoch over ``n`` samples.

    Parameters
    ----------
    n : int
        Number of samples.
    batch_size : int
        Samples per batch (at least 1); the last batch may be smaller unless ``drop_last``.
    order : numpy.ndarray or None
        The order to visit the samples in (e.g. a permutation of ``range(n)``, length
        ``n``); ``None`` for ``0, 1, ..., n-1``.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Yields
    ------
    slice or numpy.ndarray
        ``slice(start, stop)`` when ``order`` is ``None`` (indexing an array with it
        gives a view), else the int array ``order[start:stop]``: either indexes a whole
        batch of an ``(n, ...)`` array at once.
    """
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield slice(start, min(start + batch_size, n))
        else:
            yield order[start : start + batch_size]


class ArrayDataset:
    """In-memory ``(X, y)`` pairs, checked once (like ``torch.utils.data.TensorDataset``).

    Parameters
    ----------
    X : array_like
        ``(N, ...)`` numeric inputs.
    y : array_like or None
        ``(N, ...)`` numeric targets, or ``None`` for unlabelled data.
    check_finite : bool
        Reject NaN or infinite values.

    Raises
    ------
    ValueError
        If ``X`` has no sample axis, the lengths differ, the dataset is empty, or a
        value is not finite.
    TypeError
        If an array is not numeric (e.g. object or string dtype).
    """

    def __init__(self, X, y=None, *, check_finite: bool = True) -> None:
        X = np.asarray(X)
        y = None if y is None else np.asarray(y)
        for name, a in (("X", X), ("y", y)):
            if a is None:
                continue
            if a.dtype.kind not in "biuf":
                raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
            if a.ndim == 0:
                raise ValueError(f"{name} must have a sample axis (at least 1-D)")
            if check_finite and a.dtype.kind == "f" and not np.isfinite(a).all():
                bad = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
                raise ValueError(f"{name} has non-finite values in samples {bad[:10].tolist()}")
        if y is not None and len(X) != len(y):
            raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
        if len(X) == 0:
            raise ValueError("ArrayDataset needs at least one sample")
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index):
        """``(X[index], y[index])``; ``y`` part is ``None`` for unlabelled data."""
        return self.X[index], (None if self.y is None else self.y[index])

    def batches(
        self,
        batch_size: int = 32,
        *,
        shuffle: bool = True,
        generator: Seed = None,
        drop_last: bool = False,
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """One epoch of mini-batches; see :func:`iterate_minibatches`."""
        return iterate_minibatches(
            self.X, self.y, batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last
        )

    @renamed_kwarg("seed")
    def split(
        self, val_fraction: float = 0.1, *, stratify: bool = True, generator: Seed = None
    ) -> tuple[ArrayDataset, ArrayDataset]:
        """``(train, val)`` datasets; see :func:`train_val_split` (``seed=`` is the
        deprecated name of ``generator=``)."""
        if self.y is None:
            raise ValueError("split() needs labels; this dataset has y=None")
        X_tr, y_tr, X_val, y_val = train_val_split(
            self.X, self.y, val_fraction, stratify=stratify, generator=generator
        )
        return ArrayDataset(X_tr, y_tr, check_finite=False), ArrayDataset(
            X_val, y_val, check_finite=False
        )

    def __repr__(self) -> str:
        y = "None" if self.y is None else f"{self.y.dtype}{self.y.shape}"
        return f"ArrayDataset(n={len(self)}, X={self.X.dtype}{self.X.shape}, y={y})"

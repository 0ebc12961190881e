"""Helpers shared by the experiments: MNIST or synthetic digits, subsampling, the
training recipe, JSON output and figure panels."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Digits",
    "Recipe",
    "data_fields",
    "load_digits_data",
    "load_images",
    "output_dir",
    "subsample",
    "synthetic_digits",
    "write_json",
]


@dataclass(frozen=True)
class Recipe:
    """How an experiment trains: the keywords of :func:`numnet.train.fit` it fixes.

    ``Recipe(epochs, batch_size, seed).fit(model, loss_fn, optimizer, data, **options)``
    is ``numnet.train.fit(model, loss_fn, optimizer, data, epochs=epochs,
    batch_size=batch_size, generator=seed, verbose=verbose, **options)``; ``options``
    are fit's other keywords (``validation``, ``callbacks``, ``shuffle``, ``checkpoint``).
    ``seed`` (int, or None for numnet's default generator) draws the shuffles.
    """

    epochs: int
    batch_size: int | None
    seed: int | None = None
    verbose: int = 0

    def fit(self, model, loss_fn, optimizer, data, **options):
        """Train ``model`` with this recipe; returns the :class:`~numnet.train.History`."""
        from numnet import train

        return train.fit(
            model, loss_fn, optimizer, data, epochs=self.epochs, batch_size=self.batch_size,
            generator=self.seed, verbose=self.verbose, **options,
        )


def output_dir(out_dir) -> Path:
    """``out_dir`` as a Path, created (with its parents) if needed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


class Digits:
    """MNIST-shaped arrays: ``X`` (N, 784) float32 in [0, 1], ``y`` int64 digit labels."""

    def __init__(self, X_train, y_train, X_test, y_test, source: str) -> None:
        self.X_train, self.y_train = X_train, y_train
        self.X_test, self.y_test = X_test, y_test
        self.source = source


def load_digits_data(data_dir, *, quick: bool, seed: int = 0) -> Digits:
    """MNIST from ``data_dir`` (via :mod:`numnet.data`), or synthetic digits in quick mode.

    The files are looked for by :func:`numnet.data.load_mnist` (``data_dir``, then
    ``$NUMNET_DATA``, then ``~/.cache/numnet``; nothing is downloaded). Quick mode
    without ``data_dir`` falls back to :func:`synthetic_digits` when they are missing,
    so that the test suite runs offline; a full run needs the real data.
    """
    try:
        X_train, y_train, X_test, y_test = _load_mnist(data_dir)
        return Digits(X_train, y_train, X_test, y_test, source="mnist")
    except (ImportError, OSError, ValueError) as exc:
        if quick and data_dir is None:
            return synthetic_digits(seed=seed)
        raise FileNotFoundError(
            f"MNIST could not be loaded from {data_dir or 'the default data root'} ({exc}); "
            "pass --data-dir pointing at the MNIST files, or use --quick for synthetic digits"
        ) from exc


def _load_mnist(data_dir):
    from numnet.data import load_mnist

    X_train, y_train, X_test, y_test = load_mnist(root=data_dir, flatten=True)
    X_train = np.asarray(X_train, dtype=np.float32).reshape(len(X_train), -1)
    X_test = np.asarray(X_test, dtype=np.float32).reshape(len(X_test), -1)
    return X_train, np.asarray(y_train, np.int64), X_test, np.asarray(y_test, np.int64)


def synthetic_digits(
    n_train: int = 3000, n_test: int = 1000, *, seed: int = 0, side: int = 28
) -> Digits:
    """Ten classes of noisy, jittered 28×28 prototypes, a stand-in for MNIST offline.

    Each class prototype is a few random strokes; a sample is its prototype blended with
    up to 60 % of another class's, shifted by up to two pixels, scaled in intensity and
    with Gaussian noise, clipped to [0, 1].
    """
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), axis=-1)
    prototypes = np.zeros((10, side, side))
    for k in range(10):
        for _ in range(3):  # strokes: segments blurred into thick lines
            a, b = rng.uniform(6, side - 6, size=(2, 2))
            t = np.linspace(0, 1, 30)[:, None]
            points = a + t * (b - a)
            d2 = ((grid[None] - points[:, None, None]) ** 2).sum(-1).min(0)
            prototypes[k] = np.maximum(prototypes[k], np.exp(-d2 / 3.0))

    def sample(n):
        y = rng.integers(0, 10, size=n)
        other = (y + rng.integers(1, 10, size=n)) % 10
        mix = rng.uniform(0, 0.6, size=(n, 1, 1))  # a blend of another class's strokes
        images = (1 - mix) * prototypes[y] + mix * prototypes[other]
        images *= rng.uniform(0.7, 1.0, size=(n, 1, 1))
        shifts = rng.integers(-2, 3, size=(n, 2))
        for s0 in range(-2, 3):
            for s1 in range(-2, 3):
                rows = np.flatnonzero((shifts[:, 0] == s0) & (shifts[:, 1] == s1))
                images[rows] = np.roll(images[rows], (s0, s1), axis=(1, 2))
        images += 0.2 * rng.normal(size=images.shape)
        return np.clip(images, 0, 1).reshape(n, -1).astype(np.float32), y.astype(np.int64)

    X_train, y_train = sample(n_train)
    X_test, y_test = sample(n_test)
    return Digits(X_train, y_train, X_test, y_test, source="synthetic")


def load_images(
    data_dir,
    *,
    quick: bool,
    seed: int,
    n_train: int | None,
    n_test: int | None,
    quick_sizes: tuple[int, int] = (600, 200),
):
    """``(X, y, X_test, y_test, source)``: MNIST subsets, or synthetic digits in quick mode.

    Quick mode without ``data_dir`` never touches the file system: it uses
    :func:`synthetic_digits`. Otherwise MNIST is loaded with
    :func:`numnet.data.load_mnist` (``data_dir``, ``$NUMNET_DATA``, ``~/.cache``) and
    ``n_train`` / ``n_test`` images are drawn at random (seeded; ``None``: all).
    """
    rng = np.random.default_rng(seed)
    if quick and data_dir is None:
        d = synthetic_digits(*quick_sizes, seed=seed)
        return d.X_train, d.y_train, d.X_test, d.y_test, "synthetic digits"
    from numnet.data import load_mnist

    try:
        X, y, Xt, yt = load_mnist(data_dir, flatten=True)
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(
            f"MNIST could not be loaded from {data_dir or 'the default data root'} ({exc}); "
            "pass --data-dir, or --quick for synthetic digits"
        ) from exc
    if quick:
        n_train, n_test = quick_sizes
    if n_train is not None and n_train < len(X):
        keep = np.sort(rng.choice(len(X), n_train, replace=False))
        X, y = X[keep], y[keep]
    if n_test is not None and n_test < len(Xt):
        keep = np.sort(rng.choice(len(Xt), n_test, replace=False))
        Xt, yt = Xt[keep], yt[keep]
    return X, y, Xt, yt, "mnist"


def data_fields(source: str, X, X_test) -> dict:
    """The first fields of an image experiment's results.json: data source and sizes."""
    return {"data": source, "n_train": int(len(X)), "n_test": int(len(X_test))}


def half_squared_error(X_hat, X) -> float:
    """``½‖x̂ − x‖²`` per row, averaged over the rows (float64)."""
    diff = np.asarray(X_hat, np.float64) - X
    return float(0.5 * np.mean(np.sum(diff * diff, axis=1)))


def subsample(X, y, n: int | None, rng: np.random.Generator):
    """At most ``n`` rows of ``(X, y)`` drawn without replacement, in their original order."""
    if n is None or n >= len(y):
        return X, y
    keep = np.sort(rng.choice(len(y), size=n, replace=False))
    return X[keep], y[keep]


def write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON (NumPy scalars and arrays converted)."""

    def default(value):
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        raise TypeError(f"cannot write {type(value).__name__} to JSON")

    path = Path(path)
    path.write_text(json.dumps(obj, indent=2, default=default) + "\n")
    return path

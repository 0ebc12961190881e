"""Seeded toy data sets for the lectures' small experiments.

Every generator takes ``generator``: an ``int`` seed, a ``numpy.random.Generator`` or
``None`` (numnet's default generator, see :func:`numnet.manual_seed`). The same seed
gives the same data. Classification sets return ``X`` float32 ``(n, D)`` and ``y``
int64 ``(n,)`` with labels ``0..K-1`` (map to ``{-1, 1}`` with ``2 * y - 1``), in a
random order; :func:`noisy_function` returns float32 ``X`` ``(n, 1)`` and ``t`` ``(n, 1)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numnet.random import as_generator

__all__ = ["circles", "gaussian_blobs", "noisy_function", "spirals", "two_moons", "xor"]

Seed = int | np.random.Generator | np.random.SeedSequence | None

#: name -> (function, default input interval) for :func:`noisy_function`
FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], tuple[float, float]]] = {
    "sine": (np.sin, (-np.pi, np.pi)),
    "cosine": (np.cos, (-np.pi, np.pi)),
    "linear": (lambda x: 2.0 * x + 1.0, (-1.0, 1.0)),
    "quadratic": (np.square, (-1.0, 1.0)),
    "cubic": (lambda x: x**3, (-1.0, 1.0)),
    "abs": (np.abs, (-1.0, 1.0)),
    "step": (lambda x: (x > 0).astype(float), (-1.0, 1.0)),
    "tanh": (np.tanh, (-3.0, 3.0)),
}


def _check(n: int, noise: float, min_n: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < min_n:
        raise ValueError(f"n must be an integer >= {min_n}, got {n!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _balanced_labels(n: int, k: int) -> np.ndarray:
    """``n`` labels in ``0..k-1``, class sizes differing by at most one."""
    return np.arange(n, dtype=np.int64) % k


def _shuffled(X: np.ndarray, y: np.ndarray, generator: np.random.Generator):
    order = generator.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def xor(n: int = 200, noise: float = 0.1, *, generator: Seed = None):
    """The XOR problem: Gaussian clouds around the corners of the square ``{-1, 1}²``.

    The label is the XOR of the corner's coordinate signs: ``y = [x₁ > 0] ⊕ [x₂ > 0]``,
    so corners ``(1, 1)`` and ``(-1, -1)`` are class 0. No linear classifier separates
    the classes (seed 000, "Adding layers"). With ``noise = 0`` and ``n = 4`` this is
    the four-point truth table.

    Parameters
    ----------
    n : int
        Number of points, spread evenly over the four corners.
    noise : float
        Standard deviation of the isotropic Gaussian noise added to each corner.
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness.

    Returns
    -------
    X : numpy.ndarray
        ``(n, 2)`` float32, noisy corners of ``[-1, 1]²``.
    y : numpy.ndarray
        ``(n,)`` int64: 1 where the corner's two coordinates differ in sign, else 0.
    """
    _check(n, noise)
    gen = as_generator(generator)
    corner = _balanced_labels(n, 4)
    signs = np.stack([corner // 2, corner % 2], axis=1) * 2.0 - 1.0
    y = (corner // 2 != corner % 2).astype(np.int64)
    X = signs + noise * gen.standard_normal((n, 2))
    return _shuffled(X, y, gen)


def two_moons(n: int = 200, noise: float = 0.1, *, generator: Seed = None):
    """Two interleaving half circles, class 0 on top, class 1 shifted below and right.

    Class 0: ``(cos θ, sin θ)``; class 1: ``(1 - cos θ, 0.5 - sin θ)``; ``θ ~ U[0, π]``;
    plus Gaussian noise of standard deviation ``noise``.

    Returns
    -------
    X : numpy.ndarray
        ``(n, 2)`` float32, in ``[-1, 2] × [-0.5, 1]`` before the noise.
    y : numpy.ndarray
        ``(n,)`` int64: 0 for the upper moon, 1 for the lower one.
    """
    _check(n, noise)
    gen = as_generator(generator)
    y = _balanced_labels(n, 2)
    theta = gen.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    lower = np.stack([1.0 - np.cos(theta), 0.5 - np.sin(theta)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower) + noise * gen.standard_normal((n, 2))
    return _shuffled(X, y, gen)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, *, generator: Seed = None):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    Parameters
    ----------
    factor : float
        Inner radius, in ``(0, 1)``.

    Returns
    -------
    X : numpy.ndarray
        ``(n, 2)`` float32, points of the two circles plus the noise.
    y : numpy.ndarray
        ``(n,)`` int64: 0 on the outer circle, 1 on the inner one.
    """
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must lie in (0, 1), got {factor!r}")
    gen = as_generator(generator)
    y = _balanced_labels(n, 2)
    theta = gen.uniform(0.0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, factor)
    X = radius[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return _shuffled(X + noise * gen.standard_normal((n, 2)), y, gen)


def gaussian_blobs(
    n: int | Sequence[int],
    means: np.ndarray | Sequence[Sequence[float]],
    cov: np.ndarray | float | None = None,
    *,
    generator: Seed = None,
):
    """Gaussian classes sharing one covariance matrix (LDA's homoscedastic model).

    Class ``k`` is drawn from ``N(m_k, Σ)`` as ``x = m_k + L z`` with ``Σ = L Lᵀ`` and
    ``z ~ N(0, I)`` (seed 002, "Linear Discriminant Analysis").

    Parameters
    ----------
    n : int or sequence of int
        Total number of points (split evenly over classes) or one count per class,
        which fixes the empirical priors ``P(Y = k)``.
    means : array_like
        ``(K, D)`` class means ``m_k``.
    cov : array_like, float or None
        Shared covariance ``Σ``: a ``(D, D)`` symmetric positive semi-definite matrix,
        a float ``s`` for ``s·I``, or ``None`` for ``I``.
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness.

    Returns
    -------
    X : numpy.ndarray
        ``(N, D)`` float32.
    y : numpy.ndarray
        ``(N,)`` int64 in ``0..K-1``.
    """
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or not np.all(np.isfinite(means)):
        raise ValueError(f"means must be a finite (K, D) array, got shape {means.shape}")
    k, d = means.shape
    if np.ndim(n) == 0:
        _check(n, 0.0, min_n=k)
        y = _balanced_labels(int(n), k)
    else:
        counts = np.asarray(n)
        if counts.shape != (k,) or counts.dtype.kind not in "iu" or np.any(counts < 0):
            raise ValueError(f"n must be an int or {k} non-negative per-class counts, got {n!r}")
        y = np.repeat(np.arange(k, dtype=np.int64), counts)
    cov = np.eye(d) if cov is None else np.asarray(cov, dtype=np.float64)
    if cov.ndim == 0:
        cov = float(cov) * np.eye(d)
    if cov.shape != (d, d) or not np.allclose(cov, cov.T):
        raise ValueError(f"cov must be a symmetric ({d}, {d}) matrix, got shape {cov.shape}")
    eigval, eigvec = np.linalg.eigh(cov)
    if eigval.min() < -1e-10 * max(1.0, abs(eigval.max())):
        raise ValueError(f"cov must be positive semi-definite; smallest eigenvalue {eigval.min()}")
    factor = eigvec * np.sqrt(np.clip(eigval, 0.0, None))  # Σ = L Lᵀ with L = V √Λ
    gen = as_generator(generator)
    X = means[y] + gen.standard_normal((len(y), d)) @ factor.T
    return _shuffled(X, y, gen)


def spirals(
    n: int = 300, n_classes: int = 2, noise: float = 0.2, *, turns: float = 1.0,
    generator: Seed = None,
):  # fmt: skip
    """Interleaved spiral arms, one per class (the classic "swiss roll" of classes).

    A point of class ``k`` at radius ``r ~ U[0, 1]`` has angle
    ``θ = 2π·turns·r + 2πk/K + noise·ε`` with ``ε ~ N(0, 1)``, and ``x = r (cos θ, sin θ)``.

    Returns
    -------
    X : numpy.ndarray
        ``(n, 2)`` float32, within the unit disc.
    y : numpy.ndarray
        ``(n,)`` int64 in ``0..n_classes-1``.
    """
    _check(n, noise)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    gen = as_generator(generator)
    y = _balanced_labels(n, n_classes)
    r = gen.uniform(0.0, 1.0, n)
    theta = 2 * np.pi * (turns * r + y / n_classes) + noise * gen.standard_normal(n)
    X = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return _shuffled(X, y, gen)


def noisy_function(
    fn: str | Callable[[np.ndarray], np.ndarray] = "sine",
    n: int = 100,
    noise: float = 0.1,
    *,
    interval: tuple[float, float] | None = None,
    generator: Seed = None,
):
    """Regression data ``t = f(x) + noise·ε``, ``x ~ U[a, b]``, ``ε ~ N(0, 1)``.

    Parameters
    ----------
    fn : str or callable
        A vectorized function of a NumPy array, or a name from :data:`FUNCTIONS`:
        ``"sine"`` (``sin x`` on ``[-π, π]``, seed 002's approximation example),
        ``"cosine"``, ``"linear"`` (``2x + 1``), ``"quadratic"``, ``"cubic"``, ``"abs"``,
        ``"step"``, ``"tanh"``.
    n : int
        Number of points.
    noise : float
        Standard deviation of the additive Gaussian noise.
    interval : (float, float), optional
        ``(a, b)``; defaults to the named function's interval, or ``(-1, 1)``.
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness.

    Returns
    -------
    X : numpy.ndarray
        ``(n, 1)`` float32 inputs, in random order.
    t : numpy.ndarray
        ``(n, 1)`` float32 targets, shaped like a one-output model's prediction.
    """
    _check(n, noise)
    if isinstance(fn, str):
        if fn not in FUNCTIONS:
            raise ValueError(f"unknown function {fn!r}; choose from {sorted(FUNCTIONS)}")
        fn, default = FUNCTIONS[fn]
    elif callable(fn):
        default = (-1.0, 1.0)
    else:
        raise TypeError(f"fn must be a function name or a callable, got {type(fn).__name__}")
    a, b = default if interval is None else interval
    if not a < b:
        raise ValueError(f"interval must satisfy a < b, got {(a, b)}")
    gen = as_generator(generator)
    x = gen.uniform(a, b, (n, 1))
    clean = np.asarray(fn(x), dtype=np.float64)
    if clean.shape != x.shape:
        raise ValueError(f"fn must map an (n, 1) array to (n, 1), got shape {clean.shape}")
    t = clean + noise * gen.standard_normal((n, 1))
    return x.astype(np.float32), t.astype(np.float32)

"""The perceptron convergence bound ``k ≤ 4R²/γ²`` and its ingredients (seed 002, 3.1).

The seed's two assumptions, in the space where the bias is a constant feature ``c``
(``x̃ = (x, c)``, ``w̃ = (w, b/c)``, so that ``w̃·x̃ = w·x + b``):

1. the samples lie in a ball of radius R: ``‖x̃ₙ‖ ≤ R`` for all n;
2. some unit vector ``w*`` separates them with a margin γ: ``yₙ (x̃ₙ·w*) ≥ γ/2``.

Then the perceptron makes at most ``⌊4R²/γ²⌋`` updates. Note the seed's γ is the full
width of the band between the classes: the distance of the closest sample to the
separating hyperplane is γ/2.
"""

from __future__ import annotations

import numpy as np

from numnet.classic._validation import check_binary_labels, check_X, check_X_y

__all__ = ["max_margin", "margin", "perceptron_bound", "radius"]


def radius(X, *, fit_intercept: bool = True, intercept_scaling: float = 1.0) -> float:
    """The radius ``R = maxₙ ‖x̃ₙ‖`` of the (bias-augmented) samples.

    Parameters
    ----------
    X : array-like, shape (N, D)
    fit_intercept : bool
        Count the constant feature ``c = intercept_scaling`` in ``x̃ = (x, c)``.
    intercept_scaling : float
    """
    X = check_X(X)
    sq_norms = np.einsum("nd,nd->n", X, X)  # in X's dtype: no float64 copy of big data
    c2 = float(intercept_scaling) ** 2 if fit_intercept else 0.0
    return float(np.sqrt(float(sq_norms.max()) + c2))


def margin(X, y, coef, intercept: float = 0.0, *, intercept_scaling: float = 1.0) -> float:
    """The seed's margin γ of the separator ``(w, b)``: ``γ = 2 minₙ yₙ (w·xₙ + b) / ‖w̃‖``.

    Parameters
    ----------
    X : array-like, shape (N, D)
    y : array-like, shape (N,)
        Labels in ``{-1, +1}``.
    coef : array-like, shape (D,)
        ``w``.
    intercept : float
        ``b``; the augmented weight is ``w̃ = (w, b/c)`` with ``c = intercept_scaling``.

    Returns
    -------
    float
        γ, positive if and only if ``(w, b)`` separates the two classes strictly.
    """
    X, y = check_X_y(X, y)
    _, y_pm = check_binary_labels(y, allowed=((-1, 1),))
    w = np.asarray(coef, dtype=np.float64).reshape(-1)
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"coef has {w.shape[0]} entries but X has {X.shape[1]} features")
    if float(intercept_scaling) <= 0:
        raise ValueError(f"intercept_scaling must be > 0, got {intercept_scaling}")
    norm = np.sqrt(w @ w + (float(intercept) / float(intercept_scaling)) ** 2)
    if norm == 0:
        raise ValueError("the separator (w, b) is zero: its margin is undefined")
    scores = (X @ w.astype(X.dtype)).astype(np.float64) + float(intercept)
    return float(2.0 * np.min(y_pm * scores) / norm)


def perceptron_bound(R: float, gamma: float) -> float:
    """The bound ``4R²/γ²`` on the number of perceptron updates (``inf`` if γ ≤ 0)."""
    if gamma <= 0:
        return float("inf")
    return 4.0 * R**2 / gamma**2


def max_margin(
    X, y, *, fit_intercept: bool = True, intercept_scaling: float = 1.0
) -> tuple[np.ndarray, float, float]:
    """The maximum-margin separator through the origin of the augmented space, exactly.

    ``min ‖w̃‖ subject to yₙ (w̃·x̃ₙ) ≥ 1`` is a least-distance program; its solution
    ``ŵ`` gives the largest margin ``γ* = 2 / ‖ŵ‖`` (seed's convention). It is solved
    by Lawson & Hanson's reduction to non-negative least squares: with
    ``E = [Gᵀ; 1ᵀ]``, ``G = (yₙ x̃ₙ)ₙ``, find ``u ≥ 0`` minimizing ``‖E u - e‖``
    (``e = (0, …, 0, 1)``); then ``r = E u - e`` and ``ŵ = -r[:-1] / r[-1]``.

    Parameters
    ----------
    X : array-like, shape (N, D)
    y : array-like, shape (N,)
        Labels in ``{-1, +1}``.
    fit_intercept, intercept_scaling
        As in :class:`~numnet.classic.Perceptron`; without intercept the separator is
        ``w·x = 0``.

    Returns
    -------
    coef : ndarray, shape (D,)
        ``w`` of the max-margin separator (scaled so that ``minₙ yₙ (w·xₙ + b) = 1``).
    intercept : float
        ``b`` (0 without intercept).
    gamma : float
        The largest margin γ*; ``4R²/γ*²`` is the tightest bound the seed's proof gives.

    Raises
    ------
    ValueError
        If the data are not linearly separable.

    Notes
    -----
    Needs SciPy (``scipy.optimize.nnls``); meant for small and medium data sets.

    References
    ----------
    C. L. Lawson and R. J. Hanson. Solving Least Squares Problems, ch. 23 (LDP), 1974.
    """
    try:
        from scipy.optimize import nnls
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("max_margin needs SciPy: pip install scipy") from exc
    X, y = check_X_y(X, y)
    _, y_pm = check_binary_labels(y, allowed=((-1, 1),))
    X = X.astype(np.float64, copy=False)
    c = float(intercept_scaling)
    if fit_intercept:
        X = np.hstack([X, np.full((X.shape[0], 1), c)])
    G = y_pm[:, None] * X
    E = np.vstack([G.T, np.ones((1, G.shape[0]))])
    e = np.zeros(E.shape[0])
    e[-1] = 1.0
    u, _ = nnls(E, e, maxiter=50 * E.shape[1])
    r = E @ u - e
    w_tilde = -r[:-1] / r[-1] if abs(r[-1]) > 1e-12 else None
    if w_tilde is None or np.min(G @ w_tilde) < 1 - 1e-6:
        raise ValueError("the two classes are not linearly separable: no margin exists")
    gamma = 2.0 / float(np.linalg.norm(w_tilde))
    if fit_intercept:
        return w_tilde[:-1], float(w_tilde[-1] * c), gamma
    return w_tilde, 0.0, gamma

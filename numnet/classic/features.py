"""Feature maps Φ that make a linear model richer (seed 002, 3.3).

A linear predictor can only separate linearly separable populations; applying it to
``Φ(x)`` instead of ``x`` raises its capacity: ``Σ_d α_d x^d = α·Φ(x)`` for the
polynomial map, ``(x_u, x_v, x_u x_v)`` makes XOR separable, and random products of
pixel pairs help the perceptron on MNIST's "8 vs the others".
"""

from __future__ import annotations

import numpy as np

from numnet.classic._estimator import BaseEstimator, TransformerMixin
from numnet.classic._validation import (
    RandomState,
    check_fitted,
    check_random_state,
    check_X,
    validate_data,
)

__all__ = ["RandomPairProducts", "pairwise_products", "polynomial_features", "xor_features"]


def polynomial_features(x, degree: int) -> np.ndarray:
    """``Φ(x) = (1, x, x², …, x^D)``, so that ``Σ_{d=0}^{D} α_d x^d = α·Φ(x)``.

    Parameters
    ----------
    x : array-like, shape (N,) or (N, F)
        With F > 1 columns, every column gets its powers ``1..D`` and the constant 1
        appears once: the output is ``(1, x, x², …, x^D)`` with each power block (N, F).
    degree : int
        ``D ≥ 0``.

    Returns
    -------
    ndarray, shape (N, 1 + D·F)
    """
    if int(degree) != degree or degree < 0:
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    x = np.asarray(x)
    X = check_X(x.reshape(-1, 1) if x.ndim == 1 else x, name="x")
    powers, power = [np.ones((X.shape[0], 1), dtype=X.dtype)], np.ones_like(X)
    for _ in range(int(degree)):
        power = power * X
        powers.append(power)
    return np.hstack(powers)


def pairwise_products(X, *, include_input: bool = True) -> np.ndarray:
    """Degree-2 products ``x_i x_j`` for ``i ≤ j`` (squares included).

    Parameters
    ----------
    X : array-like, shape (N, F)
    include_input : bool
        Put ``x`` itself first.

    Returns
    -------
    ndarray, shape (N, F + F(F+1)/2) or (N, F(F+1)/2)
        Products ordered ``(0,0), (0,1), …, (0,F-1), (1,1), …``.
    """
    X = check_X(X)
    i, j = np.triu_indices(X.shape[1])
    products = X[:, i] * X[:, j]
    return np.hstack([X, products]) if include_input else products


def xor_features(X) -> np.ndarray:
    """``Φ(x_u, x_v) = (x_u, x_v, x_u x_v)``: XOR becomes linearly separable.

    Parameters
    ----------
    X : array-like, shape (N, 2)

    Returns
    -------
    ndarray, shape (N, 3)
    """
    X = check_X(X)
    if X.shape[1] != 2:
        raise ValueError(f"the XOR map takes two inputs (x_u, x_v), got {X.shape[1]} features")
    return np.hstack([X, X[:, :1] * X[:, 1:]])


class RandomPairProducts(TransformerMixin, BaseEstimator):
    """Append products of randomly chosen pairs of input features (pixels).

    Seed 002's experiment: "the original 28×28 features are supplemented with the
    products of pairs of features taken at random" for a perceptron on MNIST's 8
    vs the others.

    A scikit-learn transformer: it goes in a ``Pipeline`` in front of any classifier.

    Parameters
    ----------
    n_products : int
        How many products ``x_i x_j`` (with ``i ≠ j``) to add (100 by default).
    include_input : bool
        Keep the original features in front of the products.
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        The source of the pairs (see :func:`numnet.random.check_random_state`); ``None``
        is numnet's default generator, re-seeded by :func:`numnet.manual_seed`.

    Attributes
    ----------
    pairs_ : ndarray of int, shape (n_products, 2)
        The ``(i, j)`` of each product, drawn uniformly among the pairs of distinct
        features (with replacement across products). Draws are nested: with the same
        seed, the first k pairs of ``n_products = n ≥ k`` are those of ``n_products = k``.
    n_features_in_ : int
    """

    _requires_y = False

    def __init__(
        self,
        n_products: int = 100,
        *,
        include_input: bool = True,
        random_state: RandomState = None,
    ) -> None:
        self.n_products = n_products
        self.include_input = include_input
        self.random_state = random_state

    def fit(self, X, y=None) -> RandomPairProducts:
        """Draw the pairs (only the number of features of ``X`` is used; ``y`` is ignored)."""
        n = self.n_products
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n_products must be a non-negative integer, got {self.n_products!r}")
        X = validate_data(self, X, reset=True)
        F, n = X.shape[1], int(n)
        if F < 2 and n > 0:
            raise ValueError(f"pair products need at least two input features, got {F} feature(s)")
        # one row of two uniforms per product, so the draws are nested: the first k
        # pairs of n ≥ k products are the k pairs drawn from the same seed
        u = check_random_state(self.random_state).random((n, 2))
        i = np.minimum((u[:, 0] * F).astype(np.intp), F - 1)
        shift = 1 + np.minimum((u[:, 1] * (F - 1)).astype(np.intp), F - 2)
        self.pairs_ = np.stack([i, (i + shift) % F], axis=1)  # uniform over j ≠ i
        self.n_features_in_ = F
        return self

    def transform(self, X) -> np.ndarray:
        """``(x, x_{i₁} x_{j₁}, …, x_{iₘ} x_{jₘ})``, in the dtype of ``X`` (float32 stays).

        Returns
        -------
        ndarray, shape (N, F + n_products) or (N, n_products)
        """
        check_fitted(self, "pairs_")
        X = validate_data(self, X, reset=False)
        n_out = X.shape[1] * self.include_input + self.pairs_.shape[0]
        out = np.empty((X.shape[0], n_out), dtype=X.dtype)
        offset = X.shape[1] if self.include_input else 0
        if self.include_input:
            out[:, :offset] = X
        for start in range(0, self.pairs_.shape[0], 256):  # bounded temporaries
            i, j = self.pairs_[start : start + 256].T
            stop = offset + start + i.shape[0]
            np.multiply(X[:, i], X[:, j], out=out[:, offset + start : stop])
        return out

    def fit_transform(self, X, y=None) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output feature names: the inputs' (if kept), then ``"xi xj"`` per product.

        ``input_features`` defaults to ``feature_names_in_`` (fitted on a DataFrame)
        or ``x0, x1, ...``.
        """
        check_fitted(self, "pairs_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        names = [str(f) for f in input_features]
        if len(names) != self.n_features_in_:
            raise ValueError(
                f"input_features should have length equal to number of features "
                f"({self.n_features_in_}), got {len(names)}"
            )
        out = (names if self.include_input else []) + [
            f"{names[i]} {names[j]}" for i, j in self.pairs_.tolist()
        ]
        return np.asarray(out, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"preserves_dtype": [np.float64, np.float32]}

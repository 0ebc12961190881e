"""k-nearest neighbours: the baseline of seed 002's feature-design figure (K = 11)."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import ClassifierBase
from numnet.classic._validation import check_classes, validate_data

__all__ = ["KNeighborsClassifier", "pairwise_sq_distances"]


def pairwise_sq_distances(A: np.ndarray, B: np.ndarray, *, B_sq: np.ndarray | None = None):
    """Squared Euclidean distances ``‖aᵢ - bⱼ‖² = ‖aᵢ‖² - 2 aᵢ·bⱼ + ‖bⱼ‖²``, shape (|A|, |B|).

    One matrix product instead of an ``(|A|, |B|, D)`` difference tensor; negative
    round-off is clipped to 0. ``B_sq`` (the ``‖bⱼ‖²``) can be passed to avoid
    recomputing it chunk after chunk.
    """
    if B_sq is None:
        B_sq = np.einsum("nd,nd->n", B, B)
    A_sq = np.einsum("nd,nd->n", A, A)
    D2 = A @ B.T
    D2 *= -2
    D2 += A_sq[:, None]
    D2 += B_sq[None, :]
    return np.maximum(D2, 0, out=D2)


class KNeighborsClassifier(ClassifierBase):
    """Majority vote among the K training samples closest in Euclidean distance.

    Parameters
    ----------
    n_neighbors : int
        K: 5 by default, as scikit-learn's (seed 002's figure uses 11). It may exceed
        the number of training samples only by failing at prediction time.
    max_memory : int
        Bytes allowed for one block of the distance matrix: test points are processed
        in chunks of ``max_memory // (16 · N_train)`` rows, so memory stays bounded
        whatever the number of test points.

    Attributes
    ----------
    classes_ : ndarray, shape (K_classes,)
    n_features_in_ : int
    n_samples_fit_ : int

    Notes
    -----
    Ties between classes go to the smallest label; the neighbours are ordered by
    distance with ``argpartition`` then ``argsort`` over the K kept (as scikit-learn's
    brute-force search does).

    References
    ----------
    T. Cover and P. Hart. Nearest neighbor pattern classification, 1967.
    Seed 002, "3.3. Linear separability and feature design".
    """

    def __init__(self, n_neighbors: int = 5, *, max_memory: int = 64 * 2**20) -> None:
        self.n_neighbors = n_neighbors
        self.max_memory = max_memory

    def fit(self, X, y) -> KNeighborsClassifier:
        """Store the training set (K-NN has nothing else to learn)."""
        k = self.n_neighbors
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        X, y = validate_data(self, X, y, reset=True)
        self.classes_, self._y_index = check_classes(y)
        if k > X.shape[0]:
            raise ValueError(
                f"n_neighbors must be in [1, {X.shape[0]}] (the number of training samples), "
                f"got {self.n_neighbors}"
            )
        self._X, self._X_sq = X, np.einsum("nd,nd->n", X, X)
        self.n_samples_fit_ = X.shape[0]
        return self

    def kneighbors(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices of the K nearest training samples, nearest first.

        Returns
        -------
        distances : ndarray, shape (N, K)
        indices : ndarray of int, shape (N, K)
        """
        X = validate_data(self, X, reset=False)
        X = X.astype(np.result_type(X, self._X), copy=False)
        k, n_train = int(self.n_neighbors), self._X.shape[0]
        chunk = max(1, int(self.max_memory) // (16 * n_train))  # distances + argpartition
        distances = np.empty((X.shape[0], k), dtype=X.dtype)
        indices = np.empty((X.shape[0], k), dtype=np.intp)
        for start in range(0, X.shape[0], chunk):
            D2 = pairwise_sq_distances(X[start : start + chunk], self._X, B_sq=self._X_sq)
            part = np.argpartition(D2, k - 1, axis=1)[:, :k]
            d_part = np.take_along_axis(D2, part, axis=1)
            order = np.argsort(d_part, axis=1, kind="stable")
            indices[start : start + chunk] = np.take_along_axis(part, order, axis=1)
            distances[start : start + chunk] = np.sqrt(np.take_along_axis(d_part, order, axis=1))
        return distances, indices

    def predict_proba(self, X) -> np.ndarray:
        """The fraction of the K neighbours in each class, shape (N, K_classes)."""
        _, indices = self.kneighbors(X)
        votes = self._y_index[indices]  # (N, K) class indices
        counts = (votes[:, :, None] == np.arange(self.classes_.shape[0])).sum(axis=1)
        return counts / votes.shape[1]

    def predict(self, X) -> np.ndarray:
        """The majority class among the K neighbours (smallest label on ties), shape (N,)."""
        best = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[best]

"""The linear autoencoder ``x ↦ D C x`` and its optimum, PCA by truncated SVD (seed 003).

Seed 003, "Linear autoencoder": compress ``x ∈ ℝ^d`` through ``m < d`` linear units,
``z = C x``, ``y = D z``, with ``C, Dᵀ ∈ ℝ^{m×d}``, and minimise

    L(C, D) = 1/(2n) Σ_i ‖x_i − D C x_i‖²                      (loss)

Since ``rank(DC) ≤ m``, the Eckart–Young theorem (seed 003, Theorem 2) says that no
choice beats the truncated SVD ``X_m = U_m Σ_m V_mᵀ``: with ``C = U_mᵀ`` and
``D = U_m``, ``D C X = X_m`` and the optimal loss is ``1/(2n) Σ_{i>m} σ_i²``.

Conventions
-----------
The seed stacks samples as *columns* (``X ∈ ℝ^{d×n}``); numnet stacks them as *rows*
(``X`` of shape ``(N, d)``), so the seed's ``X`` is our ``Xᵀ`` and its left singular
vectors ``U`` are our right singular vectors (``numpy.linalg.svd(X)[2].T``). The
encoder ``C`` is ``encoder.weight`` ``(m, d)`` and the decoder ``D`` is
``decoder.weight`` ``(d, m)``, exactly the seed's shapes.
"""

from __future__ import annotations

import numpy as np

from numnet.autoencoder._base import _EncoderDecoder
from numnet.nn import functional as F
from numnet.nn import init
from numnet.nn.linear import Linear
from numnet.nn.module import Module
from numnet.nn.parameter import Parameter
from numnet.random import as_generator
from numnet.tensor import Tensor

__all__ = [
    "PCA",
    "LinearAutoencoder",
    "TiedDecoder",
    "eckart_young_loss",
    "linear_autoencoder_gradients",
    "principal_angles",
    "reconstruction_loss_np",
]


def _matrix(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, d), got shape {X.shape}")
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def reconstruction_loss_np(X, X_hat) -> float:
    """Seed 003's loss ``L = 1/(2n) Σ_i ‖x_i − x̂_i‖²`` for arrays ``(N, d)``, in float64."""
    X, X_hat = _matrix(X), _matrix(X_hat, "X_hat")
    if X.shape != X_hat.shape:
        raise ValueError(f"X {X.shape} and X_hat {X_hat.shape} must have the same shape")
    diff = X.astype(np.float64) - X_hat
    return float(0.5 * np.einsum("ij,ij->", diff, diff) / len(X))


class PCA:
    """Principal subspace by truncated SVD: the optimal linear autoencoder (Eckart–Young).

    The attributes are set by :meth:`fit`.

    Parameters
    ----------
    n_components : int
        ``m``, the bottleneck width (``1 ≤ m ≤ min(N, d)``).
    center : bool
        Subtract the mean image first (classical PCA). The seed's formulation has no
        centering (``x ↦ DCx`` with no bias); centering the data beforehand gives the
        same theorem for the centered ``X``.

    Attributes
    ----------
    components_ : (m, d) float64
        ``U_mᵀ``: the optimal encoder ``C`` (and ``D = components_.T``).
    singular_values_ : (min(N, d),) float64
        All singular values ``σ_1 ≥ σ_2 ≥ ...`` of the (centered) data matrix.
    mean_ : (d,) float64
        The mean subtracted (zeros when ``center=False``).
    n_samples_ : int

    Notes
    -----
    ``X = U Σ Vᵀ`` (seed's layout), ``C = U_mᵀ``, ``D = U_m``, ``DCX = X_m`` and
    ``‖X − X_m‖_F² = Σ_{i>m} σ_i²`` (seed 003, Theorem 2 and "Optimal Linear Autoencoder").

    References
    ----------
    Eckart & Young (1936); seed 003, "Linear autoencoder".
    """

    def __init__(self, n_components: int, *, center: bool = False) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
            raise TypeError(f"n_components must be an int, got {n_components!r}")
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = int(n_components)
        self.center = bool(center)

    def fit(self, X) -> PCA:
        """Compute the SVD of ``X`` (N, d) (float64, thin) and keep the top ``m`` directions."""
        X = _matrix(X).astype(np.float64)
        m = self.n_components
        if m > min(X.shape):
            raise ValueError(f"n_components={m} exceeds min(N, d) = {min(X.shape)}")
        self.mean_ = X.mean(axis=0) if self.center else np.zeros(X.shape[1])
        _, s, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        self.singular_values_ = s
        self.components_ = vt[:m]
        self.n_samples_ = len(X)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise RuntimeError("PCA is not fitted yet: call fit(X) first")

    def transform(self, X) -> np.ndarray:
        """Codes ``z = C (x − μ)`` as rows ``(N, m)``."""
        self._check_fitted()
        return (_matrix(X) - self.mean_) @ self.components_.T

    def inverse_transform(self, Z) -> np.ndarray:
        """Reconstructions ``D z + μ`` as rows ``(N, d)``."""
        self._check_fitted()
        return _matrix(Z, "Z") @ self.components_ + self.mean_

    def reconstruct(self, X) -> np.ndarray:
        """``D C (x − μ) + μ``: the rank-``m`` Eckart–Young approximation on the fit data."""
        return self.inverse_transform(self.transform(X))

    def optimal_loss(self) -> float:
        """Eckart–Young: ``min L = 1/(2n) Σ_{i>m} σ_i²`` on the data passed to :meth:`fit`."""
        self._check_fitted()
        return eckart_young_loss(self.singular_values_, self.n_components, self.n_samples_)


def eckart_young_loss(singular_values, m: int, n: int) -> float:
    """``1/(2n) Σ_{i>m} σ_i²``: the smallest seed-003 loss of any rank-``m`` reconstruction."""
    s = np.asarray(singular_values, dtype=np.float64)
    if not 0 <= m <= len(s):
        raise ValueError(f"m={m} must lie in [0, {len(s)}]")
    return float(0.5 * np.sum(s[m:] ** 2) / n)


def _orth(A: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of ``A`` (rank decided like ``scipy.linalg.orth``)."""
    u, s, _ = np.linalg.svd(A, full_matrices=False)
    if s.size == 0:
        return u[:, :0]
    tol = max(A.shape) * np.finfo(np.float64).eps * s[0]
    return u[:, : int(np.sum(s > tol))]


def principal_angles(A, B) -> np.ndarray:
    """Principal angles (radians, largest first) between the column spaces of ``A`` and ``B``.

    Parameters
    ----------
    A : (d, p) array
    B : (d, q) array

    Returns
    -------
    ndarray (min(rank A, rank B),) float64
        The angles, in ``[0, π/2]``, descending.

    Notes
    -----
    With orthonormal bases ``Q_A``, ``Q_B``, the cosines are the singular values of
    ``Q_Aᵀ Q_B``; small angles are recovered from the sines, the singular values of
    ``Q_B − Q_A Q_Aᵀ Q_B``, which keeps full precision near 0 (Knyazev & Argentati, 2002;
    the same recipe as ``scipy.linalg.subspace_angles``). Two ``m``-dimensional
    subspaces coincide iff their largest principal angle is 0.
    """
    A, B = _matrix(A, "A").astype(np.float64), _matrix(B, "B").astype(np.float64)
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B need the same number of rows, got {A.shape} and {B.shape}")
    qa, qb = _orth(A), _orth(B)
    if qa.shape[1] < qb.shape[1]:
        qa, qb = qb, qa
    cross = qa.T @ qb
    cosines = np.linalg.svd(cross, compute_uv=False)  # descending
    residual = qb - qa @ cross
    sines = np.linalg.svd(residual, compute_uv=False)  # descending
    big = np.arccos(np.clip(cosines[::-1], -1.0, 1.0))  # largest angle first
    small = np.arcsin(np.clip(sines, -1.0, 1.0))
    return np.where(cosines[::-1] ** 2 >= 0.5, small, big)


def linear_autoencoder_gradients(C, D, X) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form gradients of ``L = 1/(2n) Σ ‖x − DCx‖²`` (seed 003, "Autoencoder: Gradients").

    Parameters
    ----------
    C : (m, d) encoder
    D : (d, m) decoder
    X : (N, d) samples as rows

    Returns
    -------
    dC : (m, d)
        ``1/n Σ_i Dᵀ (y_i − x_i) x_iᵀ``
    dD : (d, m)
        ``1/n Σ_i (y_i − x_i) x_iᵀ Cᵀ``, with ``y_i = D C x_i``.
    """
    C, D, X = np.asarray(C), np.asarray(D), _matrix(X)
    if C.ndim != 2 or D.shape != C.shape[::-1] or X.shape[1] != C.shape[1]:
        raise ValueError(
            f"shapes do not fit: C {C.shape} (m, d), D {D.shape} (d, m), X {X.shape} (N, d)"
        )
    R = X @ C.T @ D.T - X  # rows (y_i − x_i)ᵀ
    n = len(X)
    dC = D.T @ (R.T @ X) / n
    dD = (R.T @ X) @ C.T / n
    return dC, dD


class TiedDecoder(Module):
    """The decoder of a tied autoencoder: ``y = z C``, i.e. ``D = Cᵀ``, sharing ``C``.

    Parameters
    ----------
    weight : Parameter (m, d)
        The encoder's weight ``C`` itself (not a copy): both modules hold the same
        Parameter, so training updates it once with the sum of both gradients.

    Attributes
    ----------
    weight : Parameter (m, d)
        ``C``. A model's :meth:`~numnet.nn.Module.state_dict` lists it under both
        names (``encoder.weight`` and ``decoder.weight``), as PyTorch does for a
        shared parameter; ``named_parameters()`` lists it once.

    Notes
    -----
    Input ``(N, m)``, output ``(N, d)``: ``F.linear(z, C.T)``, the PyTorch form
    ``torch.nn.functional.linear(z, self.weight.t())``.
    """

    def __init__(self, weight: Parameter) -> None:
        if not isinstance(weight, Parameter) or weight.ndim != 2:
            raise TypeError("TiedDecoder needs the encoder's 2-D weight Parameter")
        self.weight = weight

    def get_config(self) -> dict:
        raise ValueError(
            "TiedDecoder shares its encoder's weight, which a config cannot describe: save "
            "the model that builds it (LinearAutoencoder(tied=True)), or its state dict"
        )

    def forward(self, z):
        return F.linear(z, self.weight.T)

    def extra_repr(self) -> str:
        m, d = self.weight.shape
        return f"in_features={m}, out_features={d}, tied=True"


class LinearAutoencoder(_EncoderDecoder):
    """``x ↦ D C x`` with a bottleneck of ``m`` linear units and no biases (seed 003).

    ``encode(x)`` gives the codes ``z = C x`` (rows ``(N, m)``), ``decode(z)`` the
    reconstructions ``y = D z`` (rows ``(N, d)``).

    Parameters
    ----------
    in_features : int
        ``d``.
    bottleneck : int
        ``m < d``.
    generator : int | numpy.random.Generator | None
        Source of the initial weights: ``C`` and ``Dᵀ`` both from ``U(−1/√d, 1/√d)``.
    dtype : float32 (default) or float64
    tied : bool
        Tie the decoder to the encoder, ``D = Cᵀ`` (one parameter ``C``; the decoder
        is a :class:`TiedDecoder`). The optimum is then still the principal subspace,
        with ``C`` orthonormal rows (``C = U_mᵀ``, ``D = U_m`` is tied).

    Attributes
    ----------
    encoder : Linear(d, m, bias=False)
        Its weight is ``C``, (m, d).
    decoder : Linear(m, d, bias=False) or TiedDecoder
        Its weight is ``D``, (d, m); with ``tied``, a :class:`TiedDecoder` whose
        ``weight`` is ``C`` itself. The state dict of a tied model holds ``C`` under
        both ``encoder.weight`` and ``decoder.weight``, like PyTorch's.

    Notes
    -----
    The two factors start *balanced* (``C`` and ``Dᵀ`` from the same distribution).
    ``torch.nn.Linear``'s fan-in rule would draw ``D`` from ``U(±1/√m)``, making its
    columns ``√(d/m)`` times longer than the rows of ``C`` (7× for MNIST and ``m = 16``);
    since the curvature of the loss in ``C`` scales with ``‖D‖²``, SGD would then need a
    much smaller step.

    Trained by SGD on :func:`numnet.autoencoder.reconstruction_loss`, its loss tends to
    the Eckart–Young optimum :meth:`PCA.optimal_loss` and the column space of ``D`` to
    the principal subspace ``span(U_m)``; ``C`` and ``D`` themselves are only determined
    up to an invertible ``m × m`` matrix ``G`` (``DC = (DG⁻¹)(GC)``).
    """

    def __init__(
        self,
        in_features: int,
        bottleneck: int,
        *,
        generator=None,
        dtype=np.float32,
        tied: bool = False,
    ) -> None:
        if not 0 < bottleneck <= in_features:
            raise ValueError(
                f"need 0 < bottleneck <= in_features, got bottleneck={bottleneck}, "
                f"in_features={in_features}"
            )
        self.in_features, self.bottleneck = int(in_features), int(bottleneck)
        self.tied = bool(tied)
        rng = as_generator(generator)  # one stream: C and D must not repeat each other
        self.encoder = Linear(in_features, bottleneck, bias=False, generator=rng, dtype=dtype)
        if self.tied:
            self.decoder = TiedDecoder(self.encoder.weight)
            return
        self.decoder = Linear(bottleneck, in_features, bias=False, generator=rng, dtype=dtype)
        bound = 1.0 / np.sqrt(in_features)  # balanced with the encoder (see Notes)
        init.uniform_(self.decoder.weight, -bound, bound, generator=rng)

    def get_config(self) -> dict:
        return {
            "in_features": self.in_features,
            "bottleneck": self.bottleneck,
            "dtype": self.encoder.weight.dtype,
            "tied": self.tied,
        }

    @property
    def C(self) -> np.ndarray:
        """The encoder matrix ``(m, d)`` (a view of the parameter's data)."""
        return self.encoder.weight.data

    @property
    def D(self) -> np.ndarray:
        """The decoder matrix ``(d, m)`` (``C.T`` when tied: a view of ``C``)."""
        return self.encoder.weight.data.T if self.tied else self.decoder.weight.data

    def extra_repr(self) -> str:
        tied = ", tied=True" if self.tied else ""
        return f"in_features={self.in_features}, bottleneck={self.bottleneck}{tied}"

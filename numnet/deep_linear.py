"""Deep linear networks ``y = W_L ⋯ W_1 x``: closed-form gradients and learning dynamics.

Seed 003, "Deep linear gradients": for ``y = B A x`` with ``A ∈ ℝ^{m×d}``,
``B ∈ ℝ^{k×m}`` and the loss ``L(B, A) = ½ Σ_i ‖y_i − B A x_i‖²``,

    ∂L/∂A = −Bᵀ (Σxy − B A Σxx),        ∂L/∂B = −(Σxy − B A Σxx) Aᵀ,

with the input correlation ``Σxx = Σ_i x_i x_iᵀ`` (d×d) and the input–output
correlation ``Σxy = Σ_i y_i x_iᵀ`` (k×d; the seed's name, although it is ``yxᵀ``).
The loss depends on the data only through these two matrices, and so does gradient
descent: with whitened inputs (``Σxx ∝ I``) and ``Σxy = U S Vᵀ``, each singular mode
``α`` is learned on its own, along a sigmoid in time whose mid-point is inversely
proportional to its singular value ``s_α`` (Saxe, McClelland & Ganguli, 2014): strong
modes are learned first, in stages. :class:`LinearDynamicsRecorder` records this
during training (singular values of the end-to-end product, per-layer norms and
the strength ``u_αᵀ W v_α`` of each mode).

Shapes: samples are rows, ``X (N, d)``, ``Y (N, k)``; weights have the seed's (and
``torch.nn.Linear``'s) ``(out, in)`` layout, so the network computes ``Y = X W_1ᵀ ⋯ W_Lᵀ``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from numnet.nn import init
from numnet.nn.containers import ModuleList
from numnet.nn.linear import Linear
from numnet.nn.module import Module
from numnet.random import as_generator
from numnet.tensor import Tensor
from numnet.train.callbacks import Callback

__all__ = [
    "DeepLinearNetwork",
    "LinearDynamicsRecorder",
    "closed_form_gradients",
    "correlations",
    "deep_linear_loss",
    "end_to_end_matrix",
    "hierarchical_task",
    "mode_strength",
    "mode_half_time",
    "product_gradients",
]


def _array(x, name: str, ndim: int = 2) -> np.ndarray:
    a = np.asarray(x.data if isinstance(x, Tensor) else x)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    return a


def correlations(X, Y) -> tuple[np.ndarray, np.ndarray]:
    """``(Σxx, Σxy)`` of seed 003: ``Σ_i x_i x_iᵀ = XᵀX`` (d×d) and ``Σ_i y_i x_iᵀ = YᵀX`` (k×d).

    Parameters
    ----------
    X : (N, d) inputs as rows
    Y : (N, k) targets as rows

    Returns
    -------
    Sxx : ndarray (d, d)
        ``XᵀX``.
    Sxy : ndarray (k, d)
        ``YᵀX``.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not 2-D, or their numbers of rows differ.
    TypeError
        If ``X`` or ``Y`` is not numeric.

    Notes
    -----
    Sums, not means: divide both by ``N`` for the loss averaged over samples.
    """
    X, Y = _array(X, "X"), _array(Y, "Y")
    if len(X) != len(Y):
        raise ValueError(f"X and Y need the same number of rows, got {X.shape} and {Y.shape}")
    return X.T @ X, Y.T @ X


def _check_ab(A, B, Sxx, Sxy):
    A, B = _array(A, "A"), _array(B, "B")
    Sxx, Sxy = _array(Sxx, "Sigma_xx"), _array(Sxy, "Sigma_xy")
    m, d = A.shape
    k = B.shape[0]
    if B.shape[1] != m or Sxx.shape != (d, d) or Sxy.shape != (k, d):
        raise ValueError(
            f"shapes do not fit: A {A.shape} (m, d), B {B.shape} (k, m), Σxx {Sxx.shape} "
            f"(d, d), Σxy {Sxy.shape} (k, d)"
        )
    return A, B, Sxx, Sxy


def closed_form_gradients(A, B, Sxx, Sxy) -> tuple[np.ndarray, np.ndarray]:
    """Seed 003's gradients of ``L = ½ Σ‖y − BAx‖²`` from the correlation matrices.

    Parameters
    ----------
    A : (m, d) first layer
    B : (k, m) second layer
    Sxx : (d, d) ``Σ x xᵀ``
    Sxy : (k, d) ``Σ y xᵀ``

    Returns
    -------
    dA : (m, d) ``−Bᵀ (Σxy − B A Σxx)``
    dB : (k, m) ``−(Σxy − B A Σxx) Aᵀ``

    References
    ----------
    Seed 003, "Gradient of the loss w.r.t. A" (derivation I–III) and "w.r.t. B".
    """
    A, B, Sxx, Sxy = _check_ab(A, B, Sxx, Sxy)
    E = Sxy - B @ A @ Sxx  # the "error correlation" Σxy − BAΣxx (k×d)
    return -B.T @ E, -E @ A.T


def product_gradients(weights: Sequence, Sxx, Sxy) -> list[np.ndarray]:
    """Gradients of ``½ Σ‖y − W_L⋯W_1 x‖²`` for any depth, from ``Σxx`` and ``Σxy``.

    Math: with ``W = W_L⋯W_1`` and ``E = Σxy − W Σxx``,
    ``∂L/∂W_l = −(W_L⋯W_{l+1})ᵀ E (W_{l−1}⋯W_1)ᵀ``; for two layers this is
    :func:`closed_form_gradients`.

    Parameters
    ----------
    weights : [W_1 (n_1, d), W_2 (n_2, n_1), ..., W_L (k, n_{L−1})]
    """
    Ws = [_array(w, f"W_{i + 1}") for i, w in enumerate(weights)]
    if not Ws:
        raise ValueError("need at least one weight matrix")
    for i in range(1, len(Ws)):
        if Ws[i].shape[1] != Ws[i - 1].shape[0]:
            raise ValueError(f"W_{i + 1} {Ws[i].shape} does not follow W_{i} {Ws[i - 1].shape}")
    Sxx, Sxy = _array(Sxx, "Sigma_xx"), _array(Sxy, "Sigma_xy")
    d, k = Ws[0].shape[1], Ws[-1].shape[0]
    if Sxx.shape != (d, d) or Sxy.shape != (k, d):
        raise ValueError(f"Σxx {Sxx.shape} and Σxy {Sxy.shape} must be ({d}, {d}) and ({k}, {d})")
    # prefix[l] = W_l⋯W_1 (prefix[0] = I), suffix[l] = W_L⋯W_{l+1} (suffix[L] = I)
    prefix = [np.eye(d)]
    for W in Ws:
        prefix.append(W @ prefix[-1])
    suffix = [np.eye(k)]
    for W in reversed(Ws):
        suffix.append(suffix[-1] @ W)
    suffix = suffix[::-1]
    E = Sxy - prefix[-1] @ Sxx
    return [-(suffix[i + 1].T @ E @ prefix[i].T) for i in range(len(Ws))]


def deep_linear_loss(weights: Sequence, X, Y) -> float:
    """``½ Σ_i ‖y_i − W_L⋯W_1 x_i‖²`` (seed 003's sum, not a mean), in float64."""
    X, Y = _array(X, "X").astype(np.float64), _array(Y, "Y").astype(np.float64)
    out = X
    for W in weights:
        out = out @ _array(W, "W").T
    diff = Y - out
    return float(0.5 * np.einsum("ij,ij->", diff, diff))


class DeepLinearNetwork(Module):
    """``y = W_L ⋯ W_1 x``: a stack of bias-free linear layers (seed 003's ``y = BAx``).

    Parameters
    ----------
    sizes : sequence of int
        ``(d, n_1, ..., k)``; ``(d, m, k)`` is the seed's two-layer network.
    init_scale : float, optional
        Initialise every weight from ``N(0, init_scale²)`` (small values give the
        stage-like dynamics of Saxe et al.); ``None`` keeps ``torch.nn.Linear``'s init.
    generator : int | numpy.random.Generator | None
    dtype : float32 (default) or float64

    Attributes
    ----------
    layers : ModuleList of Linear(bias=False); ``layers[0].weight`` is ``A`` (m, d) and
        ``layers[1].weight`` is ``B`` (k, m) for two layers.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        init_scale: float | None = None,
        generator=None,
        dtype=np.float32,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"sizes must list at least 2 positive widths, got {sizes}")
        if init_scale is not None and not (np.isfinite(init_scale) and init_scale > 0):
            raise ValueError(f"init_scale must be a positive number, got {init_scale!r}")
        rng = as_generator(generator)
        self.sizes = sizes
        self.init_scale = None if init_scale is None else float(init_scale)
        self.layers = ModuleList(
            Linear(a, b, bias=False, generator=rng, dtype=dtype) for a, b in zip(sizes, sizes[1:])
        )
        if init_scale is not None:
            for layer in self.layers:
                init.normal_(layer.weight, 0.0, float(init_scale), generator=rng)

    def get_config(self) -> dict:
        return {
            "sizes": self.sizes,
            "init_scale": self.init_scale,
            "dtype": self.layers[0].weight.dtype,
        }

    @property
    def weights(self) -> list[np.ndarray]:
        """``[W_1, ..., W_L]`` (views of the parameters' data)."""
        return [layer.weight.data for layer in self.layers]

    def product(self) -> np.ndarray:
        """The end-to-end matrix ``W = W_L ⋯ W_1`` (k×d)."""
        return end_to_end_matrix(self)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"


def end_to_end_matrix(model: Module) -> np.ndarray:
    """``W_L ⋯ W_1`` for a model made only of bias-free ``Linear`` layers (in order).

    Raises
    ------
    ValueError
        A ``Linear`` has a bias, or the model has no ``Linear`` layer.
    """
    layers = [m for m in model.modules() if isinstance(m, Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Linear layer")
    W = None
    for layer in layers:
        if layer.bias is not None:
            raise ValueError("end_to_end_matrix needs bias-free Linear layers (bias=False)")
        w = layer.weight.data.astype(np.float64)
        W = w if W is None else w @ W
    return W


def mode_strength(s, u0, t) -> np.ndarray:
    """Saxe et al.'s solution ``a(t) = s e^{2st} / (e^{2st} − 1 + s/a_0)`` (τ = 1).

    The strength ``a = u_αᵀ W v_α`` of one mode of a two-layer linear network trained by
    gradient flow ``Ẇ = −∇L`` on ``L = 1/(2N) Σ‖y − Wx‖²`` with whitened inputs
    (``Σxx/N = I``), balanced initial strength ``a_0 > 0`` and target singular value
    ``s``. Gradient descent with step ``η`` follows it at time ``t = η · step``.
    """
    s, u0, t = np.asarray(s, float), np.asarray(u0, float), np.asarray(t, float)
    if np.any(s <= 0) or np.any(u0 <= 0):
        raise ValueError("mode_strength needs s > 0 and u0 > 0")
    # e^{2st} overflows for long times: divide numerator and denominator by it
    decay = np.exp(-2 * s * t)
    return s / (1 - decay + (s / u0) * decay)


def mode_half_time(s, u0) -> np.ndarray:
    """Time at which :func:`mode_strength` reaches ``s/2``: ``ln(s/a_0 − 1) / (2s)``."""
    s, u0 = np.asarray(s, float), np.asarray(u0, float)
    if np.any(u0 >= s / 2):
        raise ValueError("the initial strength must be below s/2")
    return np.log(s / u0 - 1) / (2 * s)


def hierarchical_task(depth: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Items at the leaves of a binary tree and their "is under node v" features.

    ``2**depth`` items with inputs ``x_i = √P e_i`` (so ``Σxx/P = I``: whitened), and
    targets ``y_i ∈ {0, 1}^{2**(depth+1) − 1}``, one feature per tree node, set when the
    item lies below that node. The singular values of ``Σxy/P`` come in levels (the
    root split is the strongest, the leaves the weakest), the setting in which Saxe et
    al. show stage-like learning: broad distinctions first, fine ones later.

    Returns
    -------
    X : (P, P) float32
    Y : (P, 2P − 1) float32
    """
    if not 1 <= depth <= 8:
        raise ValueError(f"depth must be in [1, 8], got {depth}")
    P = 2**depth
    features = []
    for level in range(depth + 1):
        span = P >> level  # items under each node of this level
        for node in range(2**level):
            col = np.zeros(P)
            col[node * span : (node + 1) * span] = 1
            features.append(col)
    Y = np.stack(features, axis=1).astype(np.float32)
    X = (np.sqrt(P) * np.eye(P)).astype(np.float32)
    return X, Y


class LinearDynamicsRecorder(Callback):
    """Record a linear network's learning dynamics during :func:`numnet.train.fit`.

    At step 0 and every ``every`` optimizer steps it stores the singular values of the
    end-to-end product ``W = W_L ⋯ W_1``, the Frobenius norm of every layer, and, when
    a ``target`` correlation ``Σxy`` is given, the strength ``a_α = u_αᵀ W v_α`` of each
    of its singular modes (``Σxy = U S Vᵀ``).

    Parameters
    ----------
    every : int
        Sampling period in optimizer steps.
    target : (k, d) array, optional
        The input–output correlation whose modes are tracked (e.g. ``Σxy/N``).

    Attributes
    ----------
    steps : (T,) int array
    singular_values : (T, min(k, d)) array
    layer_norms : (T, L) array
    mode_strengths : (T, r) array or None
    target_singular_values : (r,) array or None
    """

    def __init__(self, every: int = 1, target=None) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = int(every)
        self._U = self._V = None
        self.target_singular_values = None
        if target is not None:
            T = _array(target, "target").astype(np.float64)
            U, s, Vt = np.linalg.svd(T, full_matrices=False)
            self._U, self._V, self.target_singular_values = U, Vt.T, s
        self._steps: list[int] = []
        self._sv: list[np.ndarray] = []
        self._norms: list[np.ndarray] = []
        self._modes: list[np.ndarray] = []
        self._step = 0

    def _record(self, model) -> None:
        layers = [m for m in model.modules() if isinstance(m, Linear)]
        W = end_to_end_matrix(model)
        self._steps.append(self._step)
        self._sv.append(np.linalg.svd(W, compute_uv=False))
        self._norms.append(np.array([np.linalg.norm(m.weight.data) for m in layers]))
        if self._U is not None:
            if W.shape != (self._U.shape[0], self._V.shape[0]):
                raise ValueError(
                    f"the network maps {W.shape[1]} -> {W.shape[0]} but the "
                    f"target is {self._U.shape[0]}×{self._V.shape[0]}"
                )
            self._modes.append(np.einsum("ka,kd,da->a", self._U, W, self._V))

    def on_train_begin(self, loop, logs):
        if not self._steps:
            self._record(loop.model)

    def on_batch_end(self, loop, batch, logs):
        self._step += 1
        if self._step % self.every == 0:
            self._record(loop.model)

    @property
    def steps(self) -> np.ndarray:
        return np.asarray(self._steps)

    @property
    def singular_values(self) -> np.ndarray:
        return np.asarray(self._sv)

    @property
    def layer_norms(self) -> np.ndarray:
        return np.asarray(self._norms)

    @property
    def mode_strengths(self) -> np.ndarray | None:
        return np.asarray(self._modes) if self._modes else None

    def state_dict(self) -> dict:
        return {
            "step": self._step,
            "steps": list(self._steps),
            "sv": [a.tolist() for a in self._sv],
            "norms": [a.tolist() for a in self._norms],
            "modes": [a.tolist() for a in self._modes],
        }

    def load_state_dict(self, state: dict) -> None:
        self._step, self._steps = state["step"], list(state["steps"])
        self._sv = [np.asarray(a) for a in state["sv"]]
        self._norms = [np.asarray(a) for a in state["norms"]]
        self._modes = [np.asarray(a) for a in state["modes"]]

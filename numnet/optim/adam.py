"""Adam, AMSGrad and AdamW (decoupled weight decay), with PyTorch's formulas."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from numnet import kernels
from numnet.optim.optimizer import (
    Optimizer,
    check_bool,
    check_in_unit_interval,
    check_nonnegative,
    fusable,
    scratch_and_decayed_grad,
)


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
    work: np.ndarray | None = None,
) -> None:
    """One Adam (or AdamW) step on one parameter, in place.

    Math (``t`` counts this parameter's steps from 1)::

        decoupled (AdamW):  θ ← θ (1 − lr·λ)        otherwise:  g ← g + λθ
        m ← β₁m + (1 − β₁) g                        (m₀ = 0)
        v ← β₂v + (1 − β₂) g²                       (v₀ = 0)
        amsgrad: v̂ ← max(v̂, v), else v̂ = v
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

    Parameters
    ----------
    param, grad : ndarray
        ``θ`` (updated in place) and its gradient (not modified), same shape and dtype.
    state : dict
        ``"step"`` (int t), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and, with amsgrad,
        ``"max_exp_avg_sq"`` (v̂); created on the first call.
    lr, beta1, beta2, eps, weight_decay, amsgrad
        As in :class:`Adam` (``betas = (beta1, beta2)``).
    decoupled_weight_decay : bool
        AdamW's decay ``θ ← θ(1 − lr·λ)`` instead of adding ``λθ`` to the gradient.
    work : ndarray, optional
        Scratch space ``(2, *param.shape)`` in ``param``'s dtype.
    """
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1
    t = state["step"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    if (not amsgrad and fusable(param, grad, m, v) and kernels.enabled()
            and kernels.pays_to_load(t, param.size)):
        _fused_adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay,
                         decoupled_weight_decay)
        return
    if decoupled_weight_decay and weight_decay != 0.0:
        param *= 1.0 - lr * weight_decay
    coupled = 0.0 if decoupled_weight_decay else weight_decay
    g, w1 = scratch_and_decayed_grad(param, grad, coupled, work)
    np.subtract(g, m, out=w1)
    w1 *= 1.0 - beta1
    m += w1  # m ← m + (1 − β₁)(g − m) = β₁m + (1 − β₁)g
    v *= beta2
    np.multiply(g, g, out=w1)
    w1 *= 1.0 - beta2
    v += w1  # v ← β₂v + (1 − β₂)g²
    if amsgrad:
        vmax = state.get("max_exp_avg_sq")
        if vmax is None:
            vmax = state["max_exp_avg_sq"] = np.zeros_like(param)
        np.maximum(vmax, v, out=vmax)
        v = vmax
    step_size = lr / (1.0 - beta1**t)
    bias_correction2_sqrt = math.sqrt(1.0 - beta2**t)
    np.sqrt(v, out=w1)
    w1 /= bias_correction2_sqrt
    w1 += eps  # √v̂_t/√(1 − β₂ᵗ) + ε
    np.divide(m, w1, out=w1)
    w1 *= step_size
    param -= w1


def _fused_adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled):
    """The compiled fast path of :func:`adam_update` (large float parameters, no amsgrad):
    the same operations in one pass instead of eleven, with the scalars rounded to the
    parameter's dtype exactly as NumPy rounds Python floats in the reference."""
    dt = param.dtype.type
    decay_factor = 1.0 - lr * weight_decay if decoupled else 1.0
    kernels.get("adam")(
        param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1),
        dt(lr / (1.0 - beta1**t)), dt(beta2), dt(1.0 - beta1), dt(1.0 - beta2),
        dt(math.sqrt(1.0 - beta2**t)), dt(eps), dt(0.0 if decoupled else weight_decay),
        dt(decay_factor),
    )


def adamw_update(param, grad, state, *, weight_decay: float = 1e-2, **kwargs) -> None:
    """One AdamW step: :func:`adam_update` with ``decoupled_weight_decay=True``."""
    adam_update(
        param, grad, state, weight_decay=weight_decay, decoupled_weight_decay=True, **kwargs
    )


def _check_betas(betas) -> None:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    check_in_unit_interval("betas[0]", betas[0])
    check_in_unit_interval("betas[1]", betas[1])


def _adam_constructor(*, weight_decay: float):
    """Adam's and AdamW's ``__init__``: the same arguments, with PyTorch's two defaults
    of ``weight_decay`` (0 and 1e-2)."""
    default_weight_decay = weight_decay

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = default_weight_decay,
        amsgrad: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )
        Optimizer.__init__(self, params, defaults)

    return __init__


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), optionally AMSGrad, with PyTorch's formulas.

    Algorithm::

        input: θ₀ (params), γ (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay), amsgrad
        m₀ ← 0, v₀ ← 0, v̂₀ ← 0
        for t = 1, 2, ...
            g_t ← ∇L(θ_{t−1}) + λ θ_{t−1}
            m_t ← β₁ m_{t−1} + (1 − β₁) g_t
            v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
            v̂_t ← max(v̂_{t−1}, v_t) if amsgrad else v_t
            θ_t ← θ_{t−1} − γ/(1 − β₁ᵗ) · m_t / (√v̂_t / √(1 − β₂ᵗ) + ε)

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float
        ``γ >= 0``.
    betas : (float, float)
        ``(β₁, β₂)``, each in ``[0, 1)``: decay rates of the first and second moment
        estimates.
    eps : float
        ``ε >= 0``, added after the bias-corrected square root (as PyTorch).
    weight_decay : float
        ``λ >= 0``: adds ``λθ`` (gradient of ``λ/2 ‖θ‖²``) to the gradient, so the decay
        is rescaled by the adaptive denominator; see :class:`AdamW` for the decoupled
        form.
    amsgrad : bool
        Normalize by the running maximum of ``v`` (Reddi et al., 2018).

    Notes
    -----
    ``m`` is an exponential moving average of gradients -- a momentum with dampening
    ``1 − β₁`` -- and, like PyTorch's SGD momentum, it is multiplied by the current
    learning rate at each step. Bias correction divides ``m`` by ``1 − β₁ᵗ`` and ``√v`` by
    ``√(1 − β₂ᵗ)``, with ``ε`` added after the correction, exactly as ``torch.optim.Adam``
    (so ``ε`` is not the ``ε̂`` of the paper's Algorithm 1 variant).

    References
    ----------
    D. Kingma, J. Ba, "Adam: A method for stochastic optimization", ICLR 2015.
    S. Reddi, S. Kale, S. Kumar, "On the convergence of Adam and beyond", ICLR 2018.
    Seed 001 mentions Adam as a successor of SGD with momentum. ``torch.optim.Adam``.
    """

    _n_work = 2
    _decoupled = False
    _update_fn = staticmethod(adam_update)
    _options = (("lr", float), ("eps", float), ("weight_decay", float), ("amsgrad", bool))
    __init__ = _adam_constructor(weight_decay=0.0)

    def _validate_group(self, group: dict) -> None:
        check_nonnegative("lr", group["lr"])
        _check_betas(group["betas"])
        group["betas"] = tuple(group["betas"])
        check_nonnegative("eps", group["eps"])
        check_nonnegative("weight_decay", group["weight_decay"])
        check_bool("amsgrad", group["amsgrad"])

    def _update_options(self, group: dict) -> dict:
        beta1, beta2 = group["betas"]
        options = super()._update_options(group)
        options.update(beta1=float(beta1), beta2=float(beta2))
        options["decoupled_weight_decay"] = self._decoupled
        return options


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Algorithm::

        input: θ₀ (params), γ (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay), amsgrad
        m₀ ← 0, v₀ ← 0, v̂₀ ← 0
        for t = 1, 2, ...
            g_t ← ∇L(θ_{t−1})                  (no λθ term)
            θ_{t−1} ← θ_{t−1} (1 − γλ)          (decay applied to the weights directly)
            m_t, v_t, v̂_t and θ_t as in Adam

    Parameters
    ----------
    params, lr, betas, eps, amsgrad
        As in :class:`Adam`.
    weight_decay : float
        ``λ >= 0`` (default ``1e-2``), multiplied by the learning rate as in PyTorch.

    Notes
    -----
    With plain SGD, adding ``λθ`` to the gradient and shrinking ``θ`` by ``(1 − γλ)``
    are the same thing; with Adam they are not, because the gradient term is divided by
    ``√v̂``. AdamW shrinks every weight at the same relative rate ``γλ`` per step. The
    first moment is a PyTorch-convention momentum (scaled by the current ``γ``).

    References
    ----------
    I. Loshchilov, F. Hutter, "Decoupled weight decay regularization", ICLR 2019.
    ``torch.optim.AdamW``.
    """

    _decoupled = True
    __init__ = _adam_constructor(weight_decay=1e-2)  # PyTorch's AdamW default decay

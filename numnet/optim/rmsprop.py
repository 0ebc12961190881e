"""RMSprop: gradient steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from numnet.optim.optimizer import (
    Optimizer,
    check_bool,
    check_in_unit_interval,
    check_nonnegative,
    scratch_and_decayed_grad,
)


def rmsprop_update(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    work: np.ndarray | None = None,
) -> None:
    """One RMSprop step on one parameter, in place (PyTorch's formulas).

    Math::

        g ← g + λθ
        v ← αv + (1 − α) g²                       (v₀ = 0)
        centered:  ḡ ← αḡ + (1 − α) g,  d ← √(v − ḡ²) + ε
        otherwise: d ← √v + ε
        momentum μ > 0:  b ← μb + g / d,  θ ← θ − lr·b      (b₀ = 0)
        otherwise:       θ ← θ − lr·g / d

    Parameters
    ----------
    param, grad : ndarray
        ``θ`` (updated in place) and its gradient (not modified), same shape and dtype.
    state : dict
        ``"step"`` (int), ``"square_avg"`` (v), ``"grad_avg"`` (ḡ, centered only),
        ``"momentum_buffer"`` (b, momentum only); created on the first call.
    lr, alpha, eps, weight_decay, momentum, centered
        As in :class:`RMSprop`.
    work : ndarray, optional
        Scratch space ``(2, *param.shape)`` in ``param``'s dtype.
    """
    g, w1 = scratch_and_decayed_grad(param, grad, weight_decay, work)
    if not state:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(param)
    state["step"] += 1
    v = state["square_avg"]
    v *= alpha
    np.multiply(g, g, out=w1)
    w1 *= 1.0 - alpha
    v += w1  # v ← αv + (1 − α)g²
    if centered:
        gbar = state.get("grad_avg")
        if gbar is None:
            gbar = state["grad_avg"] = np.zeros_like(param)
        gbar -= g
        gbar *= alpha
        gbar += g  # ḡ ← αḡ + (1 − α)g, written g + α(ḡ − g)
        np.multiply(gbar, gbar, out=w1)
        np.subtract(v, w1, out=w1)
        np.sqrt(w1, out=w1)
    else:
        np.sqrt(v, out=w1)
    w1 += eps  # d
    np.divide(g, w1, out=w1)  # g / d
    if momentum > 0.0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.zeros_like(param)
        buf *= momentum
        buf += w1
        np.multiply(buf, lr, out=w1)
    else:
        w1 *= lr
    param -= w1


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), with PyTorch's options and formulas.

    Algorithm::

        input: θ₀ (params), γ (lr), α (alpha), ε (eps), λ (weight_decay),
               μ (momentum), centered
        v₀ ← 0, ḡ₀ ← 0, b₀ ← 0
        for t = 1, 2, ...
            g_t ← ∇L(θ_{t−1}) + λ θ_{t−1}
            v_t ← α v_{t−1} + (1 − α) g_t²
            ṽ_t ← v_t
            if centered:
                ḡ_t ← α ḡ_{t−1} + (1 − α) g_t
                ṽ_t ← v_t − ḡ_t²
            if μ > 0:
                b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε)
                θ_t ← θ_{t−1} − γ b_t
            else:
                θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)

    Parameters
    ----------
    params : iterable of Parameter or of dict
    lr : float
        ``γ >= 0``.
    alpha : float
        Smoothing constant ``α`` of the squared-gradient average, in ``[0, 1)``.
    eps : float
        ``ε >= 0``, added to the root mean square (outside the square root, as
        PyTorch).
    weight_decay : float
        ``λ >= 0``: adds ``λθ`` (gradient of ``λ/2 ‖θ‖²``) to the gradient.
    momentum : float
        ``μ`` in ``[0, 1)``.
    centered : bool
        Divide by an estimate of the gradient's standard deviation instead of its
        root mean square.

    Notes
    -----
    Momentum here is PyTorch's: the buffer accumulates normalized gradients and is
    multiplied by the current learning rate (``θ ← θ − γb``), like :class:`SGD`'s
    ``convention="pytorch"``.

    References
    ----------
    G. Hinton, "Neural Networks for Machine Learning", lecture 6e (2012). A. Graves,
    "Generating sequences with recurrent neural networks", arXiv:1308.0850 (centered
    form). Seed 001 mentions RMSProp as a successor of SGD with momentum.
    PyTorch ``torch.optim.RMSprop``.
    """

    _n_work = 2
    _update_fn = staticmethod(rmsprop_update)
    _options = (("lr", float), ("alpha", float), ("eps", float), ("weight_decay", float),
                ("momentum", float), ("centered", bool))

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_nonnegative("lr", group["lr"])
        check_in_unit_interval("alpha", group["alpha"])
        check_nonnegative("eps", group["eps"])
        check_nonnegative("weight_decay", group["weight_decay"])
        check_in_unit_interval("momentum", group["momentum"])
        check_bool("centered", group["centered"])

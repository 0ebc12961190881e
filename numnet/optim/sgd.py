"""Stochastic gradient descent with momentum, in PyTorch's and in seed 001's convention."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from numnet import kernels
from numnet.optim.optimizer import (
    Optimizer,
    check_bool,
    check_in_unit_interval,
    check_nonnegative,
    fusable,
    required,
    scratch_and_decayed_grad,
)

CONVENTIONS = ("pytorch", "seed")


def sgd_update(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    convention: str = "pytorch",
    work: np.ndarray | None = None,
) -> None:
    """One SGD step on one parameter, in place.

    Math (``g`` the gradient, ``λ`` weight_decay, ``μ`` momentum, ``τ`` dampening)::

        g ← g + λθ                                   (gradient of L + λ/2‖θ‖²)
        "pytorch":  v ← μv + (1 − τ)g   (v₁ = g)      θ ← θ − lr·v
                    nesterov:                        θ ← θ − lr·(g + μv)
        "seed":     Δ ← μΔ − lr·g       (Δ₀ = 0)      θ ← θ + Δ
                    nesterov:                        θ ← θ + μΔ − lr·g

    Parameters
    ----------
    param : ndarray
        ``θ``, updated in place (its dtype is kept).
    grad : ndarray
        ``∂L/∂θ``, same shape and dtype as ``param``; not modified.
    state : dict
        The parameter's memory: ``"momentum_buffer"`` (``v``, convention ``"pytorch"``)
        or ``"delta"`` (``Δ``, convention ``"seed"``), created on the first call.
    lr, momentum, dampening, weight_decay, nesterov, convention
        As in :class:`SGD`.
    work : ndarray, optional
        Scratch space of shape ``(2, *param.shape)`` and ``param``'s dtype; allocated
        if not given.
    """
    g, w1 = scratch_and_decayed_grad(param, grad, weight_decay, work)
    if momentum == 0.0:
        np.multiply(g, lr, out=w1)
        param -= w1
    elif convention == "pytorch":
        _pytorch_momentum_step(param, g, state, w1, lr, momentum, dampening, nesterov)
    elif convention == "seed":
        _seed_momentum_step(param, g, state, w1, lr, momentum, nesterov)
    else:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def _pytorch_momentum_step(param, g, state, w1, lr, momentum, dampening, nesterov) -> None:
    """``v ← μv + (1 − τ)g`` (``v₁ = g``), ``θ ← θ − lr·v`` (nesterov: ``− lr·(g + μv)``)."""
    buf = state.get("momentum_buffer")
    if buf is None:
        buf = state["momentum_buffer"] = g.copy()  # v₁ = g
    elif dampening == 0.0 and not nesterov and fusable(param, g, buf) and kernels.enabled():
        # the compiled fast path: v ← μv + g and θ ← θ − lr·v in one pass
        dt = param.dtype.type
        kernels.get("sgd_momentum")(
            param.reshape(-1), g.reshape(-1), buf.reshape(-1), dt(lr), dt(momentum)
        )
        return
    else:
        buf *= momentum
        if dampening != 0.0:
            np.multiply(g, 1.0 - dampening, out=w1)
            buf += w1
        else:
            buf += g  # v ← μv + g
    if nesterov:
        np.multiply(buf, momentum, out=w1)
        w1 += g  # g + μv
        w1 *= lr
    else:
        np.multiply(buf, lr, out=w1)
    param -= w1


def _seed_momentum_step(param, g, state, w1, lr, momentum, nesterov) -> None:
    """Seed 001: ``Δ ← μΔ − lr·g`` (``Δ₀ = 0``), ``θ ← θ + Δ`` (nesterov: ``+ μΔ − lr·g``)."""
    delta = state.get("delta")
    if delta is None:
        delta = state["delta"] = np.zeros_like(param)
    np.multiply(g, lr, out=w1)  # lr·g
    delta *= momentum
    delta -= w1  # Δ ← μΔ − lr·g
    if nesterov:
        param -= w1
        np.multiply(delta, momentum, out=w1)
        param += w1  # θ ← θ + μΔ − lr·g
    else:
        param += delta


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    Algorithm (``convention="pytorch"``, the default)::

        input: θ₀ (params), γ (lr), μ (momentum), τ (dampening), λ (weight_decay),
               nesterov
        for t = 1, 2, ...
            g_t ← ∇L(θ_{t−1}) + λ θ_{t−1}
            if μ ≠ 0:
                b_t ← g_t                       if t = 1
                b_t ← μ b_{t−1} + (1 − τ) g_t   otherwise
                g_t ← g_t + μ b_t               if nesterov
                g_t ← b_t                       otherwise
            θ_t ← θ_{t−1} − γ_t g_t

    Algorithm (``convention="seed"``, seed 001 "momentum" with η = μ, α_t = γ_t)::

        for t = 1, 2, ...            (Δ₀ = 0)
            Δ_t ← μ Δ_{t−1} − γ_t g_t
            θ_t ← θ_{t−1} + Δ_t                 (nesterov: θ_{t−1} + μΔ_t − γ_t g_t)

    Parameters
    ----------
    params : iterable of Parameter or of dict
        Parameters, or parameter groups (dicts with ``"params"`` and options).
    lr : float
        Learning rate ``γ`` (α in seed 001, η in seed 000); required, ``>= 0``.
    momentum : float
        ``μ`` (η in seed 001), in ``[0, 1)``; 0 turns momentum off.
    dampening : float
        ``τ`` in ``[0, 1]``: scales the gradient added to the buffer (PyTorch
        convention only; incompatible with ``nesterov``).
    weight_decay : float
        ``λ >= 0``: adds ``λθ``, the gradient of ``λ/2 ‖θ‖²``, to the gradient (L2
        regularization, coupled: it goes through the momentum buffer).
    nesterov : bool
        Evaluate the momentum step as in Nesterov's accelerated gradient
        (Sutskever et al., 2013, in PyTorch's form).
    convention : {"pytorch", "seed"}
        Where the learning rate enters the momentum recursion; see Notes.

    Notes
    -----
    **Momentum conventions.** PyTorch accumulates gradients, ``v ← μv + g``, and
    multiplies by the *current* learning rate when stepping, ``θ ← θ − γ_t v``. Seed 001
    accumulates steps, ``Δ ← ηΔ − α_t ∇L``, ``W ← W + Δ``, so each past gradient keeps the
    learning rate it was scaled with. By induction, with ``Δ₀ = 0`` and ``v₁ = g₁``::

        Δ_t = −Σ_{s≤t} μ^{t−s} γ_s g_s,     −γ_t v_t = −Σ_{s≤t} μ^{t−s} γ_t g_s.

    With a constant learning rate ``γ_s = γ`` both are ``Δ_t = −γ v_t`` and the iterates
    coincide exactly (in exact arithmetic). When the learning rate changes (a
    schedule), they differ: after a decay from γ to γ/10, PyTorch immediately shrinks
    the whole remembered velocity by 10, while the seed's Δ still carries the earlier,
    larger steps and decays only at the rate μ. ``dampening`` is only defined for the
    PyTorch convention.

    ``weight_decay`` is the gradient of ``λ/2 ‖θ‖²``; for decay decoupled from the
    gradient statistics see :class:`AdamW`.

    References
    ----------
    Seed 000, "Gradient descent" (θ_k = θ_{k−1} − η_k ∇L); seed 001, SGD with momentum.
    I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization
    and momentum in deep learning", ICML 2013. PyTorch ``torch.optim.SGD``.
    """

    _n_work = 2
    _update_fn = staticmethod(sgd_update)
    _options = (("lr", float), ("momentum", float), ("dampening", float),
                ("weight_decay", float), ("nesterov", bool), ("convention", str))

    def __init__(
        self,
        params: Iterable,
        lr: float = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        convention: str = "pytorch",
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, convention=convention)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_nonnegative("lr", group["lr"])
        check_in_unit_interval("momentum", group["momentum"])
        check_in_unit_interval("dampening", group["dampening"], closed=True)
        check_nonnegative("weight_decay", group["weight_decay"])
        check_bool("nesterov", group["nesterov"])
        if group["convention"] not in CONVENTIONS:
            raise ValueError(
                f"convention must be one of {CONVENTIONS}, got {group['convention']!r}"
            )
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")
        if group["convention"] == "seed" and group["dampening"] != 0:
            raise ValueError("dampening is only defined for convention='pytorch'")


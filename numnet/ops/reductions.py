"""Reductions: sum, mean, amax/amin, logsumexp (primitives), var and std (composed).

``dim`` may be an int, a tuple of ints or ``None`` (all axes); ``keepdim`` keeps the
reduced axes with size 1, as in PyTorch. The VJPs put the reduced axes back with
``np.expand_dims`` and let broadcasting spread the adjoint.
"""

from __future__ import annotations

import warnings

import numpy as np

from numnet.ops._ieee import primitive
from numnet.ops.elementwise import select_adjoint
from numnet.ops.elementwise import sqrt as _sqrt
from numnet.ops.elementwise import where as _where


def _axes(dim, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def _expand(g: np.ndarray, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
    return g if keepdim else np.expand_dims(g, axes)


@primitive("sum", family="reductions", saves=())
def sum(x, *, dim=None, keepdim=False):
    """``Σ x`` over ``dim``. Math: ``δx = δy`` broadcast over the summed axes."""
    axes = _axes(dim, x.ndim)

    def vjp(g, needs):
        return (np.broadcast_to(_expand(g, axes, keepdim), x.shape),)

    return np.sum(x, axis=axes, keepdims=keepdim), vjp


@primitive("mean", family="reductions", saves=(), int_rule="raise")
def mean(x, *, dim=None, keepdim=False):
    """Mean over ``dim``. Math: ``δx = δy / n`` with ``n`` the number of averaged entries.

    The mean of an empty reduction (``n = 0``) is NaN, as in PyTorch (without NumPy's
    "Mean of empty slice" warning); its gradient is an empty array.
    """
    axes = _axes(dim, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1

    def vjp(g, needs):
        return (np.broadcast_to(_expand(g, axes, keepdim) / n, x.shape),)

    if n == 0:  # 0 / 0 (quietly NaN: primitives run under np.errstate, see ops._ieee)
        return np.sum(x, axis=axes, keepdims=keepdim) / x.dtype.type(0), vjp
    return np.mean(x, axis=axes, keepdims=keepdim), vjp


def _extreme(x, y, axes, keepdim, g, masked_fill: bool):
    """Route the adjoint to the positions holding the extreme, split evenly on ties:
    ``δy / count`` there, in one of PyTorch's two forms.

    * ``masked_fill=False``: ``(δy / count) ⊙ mask`` (``torch.amax``'s backward), a
      product: where the extreme is NaN (the reduced entries hold a NaN) no entry equals
      it, and every entry reduced into it gets NaN, as in PyTorch; an adjoint ``±∞`` or
      NaN gives NaN off the extreme (``∞ · 0``), also as in PyTorch.
    * ``masked_fill=True``: ``evenly_distribute_backward`` (the VJP of
      ``torch.max(input)``), a masked fill: entries off the extreme get 0 for any ``δy``
      (also ``±∞`` and NaN), and where the extreme is NaN the NaN entries share ``δy``
      (``count`` is then the number of NaNs reduced into it).
    """
    yk = y if keepdim else np.expand_dims(y, axes)
    mask = x == yk
    if masked_fill:
        nan_extreme = np.isnan(yk)
        if nan_extreme.any():  # NaN == NaN is false: the NaN entries hold a NaN extreme
            mask |= np.isnan(x) & nan_extreme
    count = mask.sum(axis=axes, keepdims=True)
    share = _expand(g, axes, keepdim) / count.astype(x.dtype)
    if masked_fill:
        return select_adjoint(share, mask)
    return (share * mask).astype(x.dtype)


def _check_extreme(x, axes, dim, name: str) -> None:
    """PyTorch's errors for an extreme over nothing (an empty reduced dimension)."""
    if dim is None and x.size == 0:
        raise ValueError(
            f"{name}(): cannot reduce an empty tensor (shape {x.shape}) over all its "
            "dimensions: there is no extreme of nothing; give the reduction dim (as PyTorch "
            "requires)"
        )
    for a in axes:
        if x.shape[a] == 0:
            raise ValueError(
                f"{name}(): expected reduction dim {a} to have non-zero size (input shape "
                f"{x.shape}): there is no extreme of nothing (PyTorch raises too)"
            )


def _extremum(reduce, name: str, x, dim, keepdim, masked_fill):
    """``reduce`` (``np.max`` or ``np.min``) over ``dim``, and its VJP: ``δx_i = δy`` at
    the positions holding the extreme, ties sharing it (:func:`_extreme`). ``name`` is
    the op the errors name."""
    axes = _axes(dim, x.ndim)
    _check_extreme(x, axes, dim, name)
    y = reduce(x, axis=axes, keepdims=keepdim)

    def vjp(g, needs):
        return (_extreme(x, y, axes, keepdim, g, masked_fill),)

    return y, vjp


@primitive("amax", family="reductions", saves_output=True)
def amax(x, *, dim=None, keepdim=False, masked_fill=False):
    """Largest value over ``dim``: ``torch.amax``, and ``torch.max(input)``'s gradient.

    Math: ``y = max_i x_i``; ``δx_i = δy / count`` at the ``count`` positions holding
    the maximum (ties share the adjoint evenly), 0 elsewhere.

    Parameters
    ----------
    x : Tensor of any shape and dtype
    dim : int, tuple of ints or None
        The reduced axes (all if None).
    keepdim : bool
        Keep the reduced axes with size 1.
    masked_fill : bool
        Which of PyTorch's two VJPs to use. False (default): ``torch.amax``'s product
        ``(δy / count) ⊙ mask``, so an adjoint ``±∞`` or NaN gives NaN off the maximum
        (``∞ · 0``), and where the maximum is NaN every entry reduced into it gets NaN
        (no entry equals NaN, ``count = 0``). True: ``torch.max(input)``'s masked fill
        (``evenly_distribute_backward``): exactly 0 off the maximum for any adjoint, and
        where the maximum is NaN the NaN entries share ``δy``. ``Tensor.max()`` without
        ``dim`` uses it.

    Returns
    -------
    Tensor
        ``x``'s shape without the reduced axes (size 1 if ``keepdim``), ``x``'s dtype.

    Raises
    ------
    ValueError
        If a reduced axis is empty, or ``dim`` is None and ``x`` is empty: there is no
        maximum of nothing (PyTorch raises ``RuntimeError``). The message names ``amax()``,
        or ``max()`` with ``masked_fill``.
    IndexError
        If ``dim`` is out of range.
    """
    return _extremum(np.max, "max" if masked_fill else "amax", x, dim, keepdim, masked_fill)


@primitive("amin", family="reductions", saves_output=True)
def amin(x, *, dim=None, keepdim=False, masked_fill=False):
    """Smallest value over ``dim``: ``torch.amin``, and ``torch.min(input)``'s gradient.

    As :func:`amax`, with the minimum: ``δx_i = δy / count`` at the ``count`` positions
    holding it; ``masked_fill`` selects ``torch.min(input)``'s VJP (``Tensor.min()``
    without ``dim``) instead of ``torch.amin``'s product. ``ValueError`` for an empty
    reduction (``amin()``, or ``min()`` with ``masked_fill``).
    """
    return _extremum(np.min, "min" if masked_fill else "amin", x, dim, keepdim, masked_fill)


@primitive("logsumexp", family="reductions", saves=(), int_rule="float")
def logsumexp(x, *, dim, keepdim=False):
    """``log Σ_i e^{x_i}`` computed as ``m + log Σ e^{x_i - m}``, ``m = max x`` (stable).

    Math: ``δx = δy ⊙ softmax(x)``.

    As in PyTorch: an empty reduction gives ``-inf`` (``log 0``), a row of ``-inf`` gives
    ``-inf`` with a NaN gradient, a row holding ``+inf`` gives ``+inf`` with a NaN
    gradient at the ``+inf`` entries and 0 elsewhere.
    """
    axes = _axes(dim, x.ndim)
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    e = np.exp(x - m)
    s = np.sum(e, axis=axes, keepdims=True)
    with np.errstate(divide="ignore"):
        yk = np.log(s) + m

    def vjp(g, needs):
        return (_expand(g, axes, keepdim) * (e / s),)

    return (yk if keepdim else np.squeeze(yk, axis=axes)), vjp


def _variance(x, dim, keepdim, unbiased, name):
    """``Σ (x - x̄)² / (n - correction)``; NaN (and a UserWarning) when ``n - correction ≤ 0``."""
    if x.dtype.kind != "f":  # as mean (int_rule "raise"); PyTorch refuses it too
        raise TypeError(
            f"{name}(): input of dtype {x.dtype} is not supported (PyTorch refuses it too); "
            "it is defined for floating-point tensors only: convert with .float()"
        )
    axes = _axes(dim, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    dof = n - int(bool(unbiased))
    # an empty reduction has no mean to subtract (and NumPy would warn "Mean of empty slice");
    # the mean is a constant of the graph: ∂/∂x̄ Σ (x - x̄)² = -2 Σ (x - x̄) = 0, so
    # δx = 2 δv (x - x̄) / (n - correction), PyTorch's closed form (no ∞ - ∞ = NaN
    # through the mean's path for an infinite δv)
    centred = x - mean(x, dim=axes, keepdim=True).detach() if n else x
    squares = sum(centred * centred, dim=axes, keepdim=keepdim)
    if dof > 0:
        return squares / dof
    warnings.warn(
        f"{name}(): degrees of freedom is <= 0 (reducing {n} element(s) with correction "
        f"{int(bool(unbiased))}); the result is NaN",
        UserWarning,
        stacklevel=3,
    )
    # multiplying by NaN (rather than dividing by 0) gives NaN values and NaN gradients,
    # as in PyTorch, without a NumPy "invalid value" RuntimeWarning
    return squares * float("nan")


def var(x, *, dim=None, keepdim=False, unbiased=True):
    """Variance over ``dim`` (composed: ``Σ (x - x̄)² / (n - 1)``, or ``/ n`` if not unbiased).

    ``n`` is the number of entries reduced into each output. When the degrees of freedom
    ``n - 1`` (unbiased) or ``n`` (biased) are ``≤ 0``, e.g. the unbiased variance of a
    single element or any variance of an empty reduction, the result is NaN and a
    ``UserWarning`` is emitted, as in PyTorch (no NumPy ``RuntimeWarning``). The gradient
    of such a NaN entry is NaN for every input entry reduced into it, also as in PyTorch.

    The gradient is PyTorch's closed form ``δx = 2 δv (x - x̄) / (n - 1)`` (the mean
    ``x̄`` is held constant: the derivative through it is 0), so an infinite ``δv``
    gives ``±∞``, and NaN only where ``x = x̄``, as in PyTorch.
    """
    return _variance(x, dim, keepdim, unbiased, "var")


def std(x, *, dim=None, keepdim=False, unbiased=True):
    """Standard deviation ``√var`` over ``dim`` (composed).

    NaN (with a ``UserWarning``) like :func:`var` when the degrees of freedom are ``≤ 0``
    (e.g. a single element with ``unbiased=True``). Where the variance is exactly 0 the
    gradient is 0, as in PyTorch, rather than the ``0 · ∞`` of differentiating ``√v``.
    """
    v = _variance(x, dim, keepdim, unbiased, "std")
    nonzero = v.data != 0  # NaN counts as nonzero: NaN value, NaN gradient
    return _where(nonzero, _sqrt(_where(nonzero, v, 1.0)), 0.0)

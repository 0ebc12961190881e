"""Linear algebra: ``matmul`` (batched) and the fused affine layer ``linear``.

The affine layer is seed 000's ``z_k = W_k y_{k-1} + b_k`` written for a batch of
row vectors ``X`` (N, n_{k-1}): ``Z = X Wᵀ + b`` with ``W`` of shape
``(n_k, n_{k-1})`` as in the seed and in ``torch.nn.Linear``. Its VJP is the
"Backward pass" box of seed 000, with ``δs = δZ`` the adjoint of the pre-activation:

* ``δW = δsᵀ X``   (seed: ``δW_k = δs_k y_{k-1}ᵀ``, summed over the batch)
* ``δb = Σ_n δs_n`` (seed: ``δb_k = δs_k``)
* ``δX = δs W``    (seed: ``δy_{k-1} = W_kᵀ δs_k``)
"""

from __future__ import annotations

import numpy as np

from numnet.ops._ieee import primitive

_ONES: dict[tuple, np.ndarray] = {}


def _ones(n: int, dtype) -> np.ndarray:
    """A cached read-only vector of ``n`` ones."""
    key = (n, np.dtype(dtype))
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(n, dtype=dtype)
        ones.flags.writeable = False
    return ones


def _check_matmul(a: np.ndarray, b: np.ndarray, what: str = "matmul") -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"{what}: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(
            f"{what}: shapes {a.shape} and {b.shape} are not aligned "
            f"({ka} (dim {a.ndim - 1} of the first) != {kb} (dim "
            f"{0 if b.ndim == 1 else b.ndim - 2} of the second))"
        )


@primitive("matmul", family="linalg", int_rule="same_kind")
def matmul(a, b):
    """Matrix product ``a @ b`` with NumPy's rules (1-D operands, batched leading dims).

    Math: ``δa = δy bᵀ``, ``δb = aᵀ δy`` (on the last two axes; batch axes that were
    broadcast are summed by the engine).
    """
    _check_matmul(a, b)
    y = np.matmul(a, b)

    def vjp(g, needs):
        if a.ndim == 1 and b.ndim == 1:  # inner product: δa = δy b, δb = δy a
            return (g * b if needs[0] else None), (g * a if needs[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if needs[0]:
            ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + (a.shape[0],))  # batch axes: engine sums
        if needs[1]:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb

    return y, vjp


def check_bias(op: str, bias, weight) -> None:
    """Raise unless ``bias`` is None or of shape ``(weight.shape[0],)`` (one per output)."""
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"{op}: bias of shape {bias.shape} does not match weight of shape "
            f"{weight.shape} (expected ({weight.shape[0]},))"
        )


@primitive("linear", family="linalg", int_rule="same_kind", saves=(0, 1))
def linear(x, weight, bias=None):
    """Affine map ``y = x Wᵀ + b`` (fused; ``torch.nn.functional.linear``).

    Parameters
    ----------
    x : (..., in_features)
    weight : (out_features, in_features)   (seed 000's ``W_k``, ``n_k × n_{k-1}``)
    bias : (out_features,), optional

    Returns
    -------
    Tensor (..., out_features)

    Raises
    ------
    ValueError
        If ``weight`` is not 2-D, or the shapes of ``x``, ``weight`` and ``bias``
        do not match.

    Notes
    -----
    The gradients (seed 000 "Backward pass", ``δs`` the adjoint of ``y``):
    ``δW = δsᵀ x``, ``δb = Σ δs``, ``δx = δs W``.
    """
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
            f"(input's last dim must be in_features = {weight.shape[1]})"
        )
    check_bias("linear", bias, weight)
    y = x @ weight.T
    if bias is not None:
        y += bias

    def vjp(g, needs):
        rows = g.size // g.shape[-1] if g.shape[-1] else int(np.prod(g.shape[:-1]))
        g2 = g.reshape(rows, g.shape[-1])  # (not -1: a size may be 0)
        x2 = x.reshape(rows, x.shape[-1])
        gx = (g @ weight) if needs[0] else None  # δx = δs W
        gw = None
        if needs[1]:  # δW = δsᵀ x
            gw = g2.T @ x2
        # δb = Σ δs, as a matrix-vector product (faster than a reduction along axis 0)
        gb = _ones(g2.shape[0], g2.dtype) @ g2 if bias is not None and needs[2] else None
        return gx, gw, gb

    return y, vjp

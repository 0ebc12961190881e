"""The Numba kernels behind :mod:`numnet.kernels` (imported only when one is used).

Each loop nest is written in the memory order of the arrays it walks (channels
innermost); the reference formulas are in :mod:`numnet.ops.conv` and
:mod:`numnet.ops.pool`.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)


@_jit
def col2im(dcols, gx, kh, kw, sh, sw, pt, pl, ho, wo):
    """``gx[n, r, s, c] = Σ dcols[m, (p, q, c)]`` over the patches ``m = (n·ho + i)·wo + j``
    that read pixel ``(r, s)`` (``r = i·sh + p − pt``, ``s = j·sw + q − pl``): the adjoint
    of im2col. ``gx (N, H, W, C)``, C-contiguous and unpadded, is overwritten; ``dcols``
    is read once, in memory order: for each kernel row ``p`` the ``kw·C`` values of a
    patch are one contiguous run of ``gx``'s row.

    The runs are added through 1-D views indexed by the loop counter: an index that the
    compiler cannot prove non-negative (``off + t``) gets a wrap-around test for negative
    indices, which stops vectorisation (measured 4x slower)."""
    n_, h, w, c_ = gx.shape
    gf = gx.reshape(n_, h, w * c_)
    gf[...] = 0
    run = kw * c_
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                row = dcols[(n * ho + i) * wo + j]
                s0 = j * sw - pl
                q0 = max(0, -s0)
                q1 = min(kw, w - s0)
                if q1 <= q0:
                    continue
                length = (q1 - q0) * c_
                off = (s0 + q0) * c_
                for p in range(kh):
                    r = i * sh + p - pt
                    if r < 0 or r >= h:
                        continue
                    src0 = p * run + q0 * c_
                    dst = gf[n, r, off : off + length]
                    src = row[src0 : src0 + length]
                    for t in range(length):
                        dst[t] += src[t]


@_jit
def max_pool_forward(x, y, idx, kh, kw, sh, sw):
    """``y = max`` over each ``kh × kw`` window of ``x (B, H, W, D)`` and ``idx`` the
    first arg-max ``p·kw + q`` in row-major order (the reference's rule, NaN
    propagating to ``y`` without moving the arg-max). ``idx`` may be empty (no graph).
    The channels of a window position are walked through 1-D views (see col2im)."""
    b_, ho, wo, d_ = y.shape
    keep = idx.size > 0
    for b in range(b_):
        for i in range(ho):
            for j in range(wo):
                yv = y[b, i, j]
                x0 = x[b, i * sh, j * sw]
                for d in range(d_):
                    yv[d] = x0[d]
                iv = idx[b, i, j] if keep else idx.reshape(-1)[:0]
                for d in range(iv.size):
                    iv[d] = 0
                for p in range(kh):
                    for q in range(kw):
                        if p == 0 and q == 0:
                            continue
                        k = p * kw + q
                        xv = x[b, i * sh + p, j * sw + q]
                        if keep:
                            for d in range(d_):
                                v = xv[d]
                                if v > yv[d]:
                                    yv[d] = v
                                    iv[d] = k
                                elif v != v:
                                    yv[d] = v
                        else:
                            for d in range(d_):
                                v = xv[d]
                                if v > yv[d] or v != v:
                                    yv[d] = v


@_jit
def max_pool_backward(g, idx, gx, kh, kw, sh, sw):
    """``gx[b, i·sh + p, j·sw + q, d] = g[b, i, j, d]·1{idx = p·kw + q}`` for windows
    that tile ``gx`` exactly (stride = kernel): every entry is written once."""
    b_, ho, wo, d_ = g.shape
    for b in range(b_):
        for i in range(ho):
            for p in range(kh):
                for j in range(wo):
                    for q in range(kw):
                        k = p * kw + q
                        for d in range(d_):
                            if idx[b, i, j, d] == k:
                                gx[b, i * sh + p, j * sw + q, d] = g[b, i, j, d]
                            else:
                                gx[b, i * sh + p, j * sw + q, d] = 0


@_jit
def sgd_momentum(param, grad, buf, lr, momentum):
    """``v ← μv + g; θ ← θ − lr·v`` in one pass over flat contiguous arrays."""
    for i in range(param.size):
        v = momentum * buf[i] + grad[i]
        buf[i] = v
        param[i] -= lr * v


@numba.njit(cache=True, nogil=True, error_model="numpy")  # no zero-division check: vectorised
def adam(param, grad, m, v, step_size, beta2, one_minus_beta1, one_minus_beta2, bc2_sqrt,
         eps, weight_decay, decay_factor):
    """One Adam/AdamW step over flat contiguous arrays, the operations of
    ``numnet.optim.adam_update`` in its order (so the same bits): ``θ ← θ·decay_factor``
    (AdamW's decoupled decay, skipped when the factor is 1), ``g ← g + λθ`` (Adam's L2,
    skipped when λ = 0), ``m ← m + (1 − β₁)(g − m)``, ``v ← β₂v + (1 − β₂)g²``,
    ``θ ← θ − step_size · m / (√v / √(1 − β₂ᵗ) + ε)``, ``step_size = lr / (1 − β₁ᵗ)``.
    The scalars come in the arrays' dtype, rounded once from Python floats."""
    if decay_factor != 1.0:
        for i in range(param.size):
            param[i] = param[i] * decay_factor
    if weight_decay != 0.0:
        for i in range(param.size):
            _adam_element(param, param[i] * weight_decay + grad[i], m, v, i, step_size,
                          beta2, one_minus_beta1, one_minus_beta2, bc2_sqrt, eps)
    else:
        for i in range(param.size):
            _adam_element(param, grad[i], m, v, i, step_size, beta2, one_minus_beta1,
                          one_minus_beta2, bc2_sqrt, eps)


@numba.njit(inline="always", error_model="numpy")
def _adam_element(param, g, m, v, i, step_size, beta2, one_minus_beta1, one_minus_beta2,
                  bc2_sqrt, eps):
    mi = m[i] + (g - m[i]) * one_minus_beta1
    vi = v[i] * beta2 + (g * g) * one_minus_beta2
    m[i] = mi
    v[i] = vi
    param[i] = param[i] - (mi / (np.sqrt(vi) / bc2_sqrt + eps)) * step_size

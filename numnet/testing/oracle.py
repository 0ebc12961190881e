"""An independent oracle: seed 000's layer-wise backpropagation, written literally.

Seed 000 ("Forward pass" / "Backward pass" boxes), column vectors, ``k = 1..L``::

    Forward:   z_k = W_k y_{k-1} + b_k,      y_k = φ_k(z_k),      y_0 = x
    Backward:  δy_L = ∇L(y)
               δW_k = diag{δy_k} diag{φ'_k(z_k)} 1 y_{k-1}ᵀ   (= (δy_k ⊙ φ'_k(z_k)) y_{k-1}ᵀ)
               δb_k = diag{δy_k} φ'_k(z_k)                    (= δy_k ⊙ φ'_k(z_k))
               δy_{k-1} = W_kᵀ diag{φ'_k(z_k)} δy_k

Notes: the seed's box omits ``b_k`` in the forward pass but lists ``δb_k`` in the
backward pass; here ``z_k = W_k y_{k-1} + b_k``. The seed prints
``δy_{k-1} = diag{φ'_k(z_k)} W_kᵀ δy_k``, whose dimensions do not agree
(``φ'_k(z_k)`` has ``n_k`` entries, ``W_kᵀ δy_k`` has ``n_{k-1}``): a typo for
``W_kᵀ diag{φ'_k(z_k)} δy_k``, which is what the derivation above the box gives and
what is implemented. A batch is handled by stacking samples as *columns*, so each
``δW_k`` sums the per-sample outer products.

This code shares nothing with the autodiff engine (plain NumPy), so tests can check
the engine against it.
"""

from __future__ import annotations

import numpy as np

# φ and φ' of the lecture activations, written from their formulas.
_PHI = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "arctan": (np.arctan, lambda z: 1 / (1 + z**2)),
}


def mlp_backprop(weights, biases, activations, x, dloss_dy):
    """Gradients of an MLP by seed 000's backward pass.

    Parameters
    ----------
    weights : list of (n_k, n_{k-1}) arrays ``W_k``
    biases : list of (n_k,) arrays ``b_k``
    activations : list of str
        One name per layer: ``'identity'``, ``'sigmoid'``, ``'tanh'``, ``'relu'`` or
        ``'arctan'``.
    x : (n_0, N) array: N samples as columns
    dloss_dy : callable ``y_L -> ∇L(y_L)`` of shape (n_L, N)

    Returns
    -------
    y : (n_L, N)
        The output.
    dW, db : list of ndarray
        The gradients, of the same shapes as the parameters.
    """
    ys, zs = [x], []
    for W, b, name in zip(weights, biases, activations):  # Forward pass
        z = W @ ys[-1] + b[:, None]
        zs.append(z)
        ys.append(_PHI[name][0](z))
    dy = dloss_dy(ys[-1])  # δy_L = ∇L(y)
    dW = [None] * len(weights)
    db = [None] * len(weights)
    for k in reversed(range(len(weights))):  # Backward pass, k = L, ..., 1
        ds = dy * _PHI[activations[k]][1](zs[k])  # diag{δy_k} φ'_k(z_k)
        dW[k] = ds @ ys[k].T  # (δy_k ⊙ φ'_k(z_k)) y_{k-1}ᵀ, summed over samples
        db[k] = ds.sum(axis=1)
        dy = weights[k].T @ ds  # δy_{k-1} = W_kᵀ diag{φ'_k(z_k)} δy_k
    return ys[-1], dW, db

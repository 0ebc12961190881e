"""Shape primitives: reshape, permute, broadcast, indexing, concatenation and stacking.

They move entries without changing them, so each VJP moves the adjoint back:
``reshape`` reshapes it, ``permute`` applies the inverse permutation, indexing
scatters it (adding on repeated integer indices), ``cat`` slices it.
"""

from __future__ import annotations

import numpy as np

from numnet.autograd.registry import primitive


@primitive("reshape", family="shape", saves=(), view=True)
def reshape(x, *, shape):
    """View ``x`` with another shape (one ``-1`` allowed). Math: ``δx = reshape(δy)``."""
    try:
        y = x.reshape(shape)
    except ValueError as exc:
        raise ValueError(f"cannot reshape a tensor of shape {x.shape} into {shape}") from exc

    def vjp(g, needs):
        return (g.reshape(x.shape),)

    return y, vjp


@primitive("permute", family="shape", saves=(), view=True)
def permute(x, *, dims):
    """Reorder the axes. Math: ``δx = permute(δy, inverse(dims))``."""
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} axes")
    inverse = tuple(np.argsort([d % x.ndim for d in dims]))

    def vjp(g, needs):
        return (np.transpose(g, inverse),)

    return np.transpose(x, dims), vjp


@primitive("broadcast_to", family="shape", saves=(), view=True)
def broadcast_to(x, *, shape):
    """Repeat ``x`` along axes of size 1 (``torch.Tensor.expand``). Math: ``δx = Σ δy``."""
    shape = tuple(x.shape[i - (len(shape) - x.ndim)] if s == -1 else s for i, s in enumerate(shape))

    def vjp(g, needs):
        return (g,)  # the engine sums the broadcast axes back

    return np.broadcast_to(x, shape), vjp


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(i, (list, np.ndarray)) or (hasattr(i, "data") and hasattr(i, "grad"))
        for i in items
    )


def _plain_index(index, top: bool = True):
    """Replace Tensors in an index by their arrays, and nested sequences by arrays
    (NumPy reads a tuple or list inside the index tuple as an integer array).

    Index arrays are copied: the VJP scatters with the index the forward gathered with,
    even if the caller's index tensor or array is overwritten before ``backward()``.
    """
    if isinstance(index, tuple) and top:
        return tuple(_plain_index(i, top=False) for i in index)
    if hasattr(index, "data") and hasattr(index, "grad"):
        return np.array(index.data)
    if isinstance(index, np.ndarray):
        return index.copy()
    if isinstance(index, (list, tuple)):
        return np.asarray(index)
    return index


@primitive("getitem", family="shape", saves=(), view=True)
def getitem(x, *, index):
    """``x[index]``: slices, ``None``, ellipsis, integer and boolean arrays (NumPy rules).

    Math: ``δx = scatter(δy)``; repeated integer indices add up (``np.add.at``).
    """
    index = _plain_index(index)
    try:
        y = x[index]
        if not isinstance(y, np.ndarray):  # one element: a 0-d view, not a copied scalar
            y = x[(*index, Ellipsis) if isinstance(index, tuple) else (index, Ellipsis)]
    except IndexError as exc:
        raise IndexError(
            f"index {index!r} is invalid for a tensor of shape {x.shape}: {exc}"
        ) from exc

    def vjp(g, needs):
        gx = np.zeros_like(x)
        if _is_advanced(index):
            np.add.at(gx, index, g)
        else:
            gx[index] = g
        return (gx,)

    return y, vjp


@primitive("cat", family="shape", saves=())
def cat(*xs, dim=0):
    """Concatenate along ``dim`` (``torch.cat``). Math: ``δx_i`` = the slice of ``δy``."""
    if not xs:
        raise ValueError("cat() needs at least one tensor")
    try:
        y = np.concatenate(xs, axis=dim)
    except ValueError as exc:
        raise ValueError(
            f"cat: shapes {[x.shape for x in xs]} do not match outside dim {dim}"
        ) from exc
    bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]

    def vjp(g, needs):
        return tuple(np.split(g, bounds, axis=dim))

    return y, vjp


@primitive("stack", family="shape", saves=())
def stack(*xs, dim=0):
    """Stack along a new axis ``dim`` (``torch.stack``). Math: ``δx_i = δy[..., i, ...]``."""
    if not xs:
        raise ValueError("stack() needs at least one tensor")
    if len({x.shape for x in xs}) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[x.shape for x in xs]}")
    y = np.stack(xs, axis=dim)

    def vjp(g, needs):
        return tuple(np.moveaxis(g, dim, 0))

    return y, vjp


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge axes ``start_dim..end_dim`` into one (composed from ``reshape``)."""
    nd = x.ndim
    if nd == 0:
        return reshape(x, shape=(1,))
    s, e = start_dim % nd, end_dim % nd
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return reshape(x, shape=shape)


def unsqueeze(x, dim: int):
    """Insert an axis of size 1 at ``dim`` (composed from ``reshape``)."""
    nd = x.ndim + 1
    d = dim % nd
    return reshape(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x, dim=None):
    """Remove axes of size 1 (all, or only ``dim``) (composed from ``reshape``)."""
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        d = dim % max(x.ndim, 1)
        shape = x.shape if x.shape[d] != 1 else x.shape[:d] + x.shape[d + 1 :]
    return reshape(x, shape=shape)

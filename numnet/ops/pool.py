"""Pooling: ``max_pool2d`` (gradient routed to the arg-max) and ``avg_pool2d``.

Seed 001: "the max-pooling layer divides each input channel in k × k blocks and
computes, as output, the maximum of the values of each block", e.g. for k = 2
``y^c_{ij} = max(x^c_{2i,2j}, x^c_{2i+1,2j}, x^c_{2i,2j+1}, x^c_{2i+1,2j+1})``.

Implementation
--------------
Arrays are handled in a canonical C-contiguous ``(B, H, W, D)`` form: a
channels-last input (what :func:`numnet.ops.conv2d` returns) is ``(N, H, W, C)``,
a plain ``(N, C, H, W)`` one is ``(N·C, H, W, 1)``; outputs keep the input's
layout. Both primitives loop over the ``kH·kW`` window offsets ``(p, q)`` in
row-major order, each step one vectorised operation on the strided slice
``x[:, p::s, q::s]`` (all samples, windows and channels at once):

* max: ``y = max_{pq} x_{pq}``; the index ``k = p·kW + q`` of the *first* offset
  attaining the maximum is kept (``uint8``, updated as ``idx = max(idx, k·1{x_k > y})``,
  valid because the offsets come in increasing order): PyTorch's tie rule. It is kept
  only when a graph may be recorded. The VJP routes ``δy`` back:
  ``δx_{pq} = δy ⊙ 1{idx = k}``, a selection as PyTorch's scatter (an input that is
  no window's arg-max gets 0 even for ``δy = ±∞`` or NaN).
* mean: ``y = (1/kH·kW) Σ_{pq} x_{pq}`` (zero padding counted, as PyTorch's default
  ``count_include_pad=True``); ``δx_{pq} += δy / (kH·kW)``.

For non-overlapping windows (``stride == kernel``, the usual case) the slices
partition the input, so gradients are written, not accumulated: this is the reshape
``(N, H/k, k, W/k, k, C)`` formulation visited one window offset at a time, which
avoids NumPy's slow multi-axis reductions (and was 2.5× faster than pooling rows
and columns in two separable passes).
"""

from __future__ import annotations

import numpy as np

from numnet import kernels
from numnet.autograd.engine import is_grad_enabled
from numnet.ops._ieee import primitive
from numnet.ops.conv import _pair, _positive_pair, parallel_batch
from numnet.ops.elementwise import select_adjoint


def _pool_geometry(x, kernel_size, stride, padding, what: str):
    if x.ndim != 4:
        raise ValueError(
            f"{what}: expected an input of shape (N, C, H, W), got shape {x.shape} "
            f"({x.ndim} dimensions)"
        )
    kernel = _positive_pair(kernel_size, "kernel_size", what)
    stride = kernel if stride is None else _positive_pair(stride, "stride", what)
    pad = _pair(padding, "padding", what)
    if min(pad) < 0 or pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{what}: padding {padding!r} must be non-negative and at most half the kernel "
            f"size {kernel}"
        )
    h, w = x.shape[2] + 2 * pad[0], x.shape[3] + 2 * pad[1]
    if kernel[0] > h or kernel[1] > w:
        raise ValueError(
            f"{what}: kernel of size {kernel} is larger than the padded input of size "
            f"({h}, {w}) (input shape {x.shape}, padding {pad})"
        )
    out = ((h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1)
    return kernel, stride, pad, out


def _canonical(x: np.ndarray):
    """``(B, H, W, D)`` C-contiguous form of ``x (N, C, H, W)``, and whether it is NHWC."""
    n, c = x.shape[:2]
    xt = x.transpose(0, 2, 3, 1)
    if xt.flags.c_contiguous and c > 1:  # channels-last: (N, H, W, C)
        return xt, True
    return np.ascontiguousarray(x).reshape(n * c, x.shape[2], x.shape[3], 1), False


def _to_canonical(g: np.ndarray, channels_last: bool) -> np.ndarray:
    """An ``(N, C, h, w)`` gradient in the canonical layout."""
    if channels_last:
        return np.ascontiguousarray(g.transpose(0, 2, 3, 1))
    n, c, h, w = g.shape
    return np.ascontiguousarray(g).reshape(n * c, h, w, 1)


def _from_canonical(a: np.ndarray, channels_last: bool, n: int, c: int) -> np.ndarray:
    if channels_last:
        return a.transpose(0, 3, 1, 2)
    return a.reshape(n, c, a.shape[1], a.shape[2])


def _pad(a: np.ndarray, pad, value) -> np.ndarray:
    if pad == (0, 0):
        return a
    b, h, w, d = a.shape
    out = np.empty((b, h + 2 * pad[0], w + 2 * pad[1], d), a.dtype)
    out.fill(value)
    out[:, pad[0] : pad[0] + h, pad[1] : pad[1] + w] = a
    return out


def _offset(a: np.ndarray, p: int, q: int, stride, out) -> np.ndarray:
    """The slice of canonical ``a`` seen at window offset ``(p, q)``: ``(B, Ho, Wo, D)``."""
    (sh, sw), (ho, wo) = stride, out
    return a[:, p : p + sh * (ho - 1) + 1 : sh, q : q + sw * (wo - 1) + 1 : sw]


def _scatter(g, idx, shape, kernel, stride, out, dtype) -> np.ndarray:
    """``δx``: ``g`` sent to every window offset (times ``1{idx = k}`` for max-pooling)."""
    (kh, kw), (ho, wo) = kernel, out
    partition = stride == kernel and shape[1] == kh * ho and shape[2] == kw * wo
    gx = np.empty(shape, dtype)
    if not partition:  # overlapping or incomplete windows: δx is a sum
        parallel_batch(lambda b0, b1: gx[b0:b1].fill(0), shape[0])
    offsets = [(p, q) for p in range(kh) for q in range(kw)]

    def scatter(b0: int, b1: int) -> None:  # rows b0..b1 of the canonical batch
        gs, dst = g[b0:b1], gx[b0:b1]
        for k, (p, q) in enumerate(offsets):
            target = _offset(dst, p, q, stride, out)
            if idx is None:
                if partition:
                    target[...] = gs
                else:
                    target += gs
            elif partition:  # δx_pq = δy where the arg-max is k, else 0 (for any δy)
                select_adjoint(gs, idx[b0:b1] == k, out=target)
            else:
                target += select_adjoint(gs, idx[b0:b1] == k)

    parallel_batch(scatter, shape[0])
    return gx


def _first_input_of_empty_windows(idx, low, kernel, stride, pad, out) -> None:
    """Windows whose maximum is the padding value (all ``-inf``): their arg-max becomes
    the window's first input in row-major order, PyTorch's choice, rather than the first
    offset, which may be padding (and would drop the gradient)."""
    if not low.any():
        return
    rows = np.maximum(0, pad[0] - stride[0] * np.arange(out[0]))  # first input row, col
    cols = np.maximum(0, pad[1] - stride[1] * np.arange(out[1]))
    first = rows[:, None] * kernel[1] + cols[None, :]
    np.copyto(idx, first[None, :, :, None].astype(idx.dtype), where=low)


@primitive("max_pool2d", family="conv", int_rule="no_bool")
def max_pool2d(x, *, kernel_size, stride=None, padding=0):
    """Max over ``kH × kW`` windows (``F.max_pool2d``); gradient to the (first) arg-max.

    Math: ``y_{ij} = max_{p,q} x_{s·i+p, s·j+q}``; ``δx_{s·i+p*, s·j+q*} += δy_{ij}``
    at the arg-max ``(p*, q*)`` (the first in row-major order on ties, as PyTorch).

    Parameters
    ----------
    x : (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), default ``kernel_size`` (non-overlapping windows)
    padding : int or (int, int), at most half the kernel; pads with ``-inf``

    Returns
    -------
    (N, C, H_out, W_out), ``H_out = ⌊(H + 2·pad - kH) / s⌋ + 1`` (rows that do not fill
    a window are dropped, PyTorch's ``ceil_mode=False``)

    Notes
    -----
    NaN inputs propagate to the output (as in PyTorch); their gradient routing is
    unspecified. A window holding only ``-inf`` (and padding) sends its gradient to its
    first input, as PyTorch does.
    """
    return _max_pool(x, kernel_size, stride, padding, relu=False)


@primitive("relu_max_pool2d", family="conv", int_rule="no_bool")
def relu_max_pool2d(x, *, kernel_size, stride=None, padding=0):
    """``max_pool2d(relu(x))`` computed as ``relu(max_pool2d(x))``: exactly the same values
    and, for inputs without NaN, the same gradients, with the ReLU on the ``kH·kW`` times
    smaller pooled output. (Where a window holds a NaN, the values agree (NaN) and the
    gradient's routing is unspecified, as :func:`max_pool2d`'s is: the fused and the
    composed form may send it to different inputs.)

    ReLU and max-pooling commute: ``max_k max(0, x_k) = max(0, max_k x_k)`` since
    ``max(0, ·)`` is non-decreasing. The gradients agree too, including the tie rule:
    where the window's maximum is positive, ReLU leaves the positive inputs (among them
    every arg-max) unchanged, so the first arg-max is the same and ``δx = δy`` there;
    where it is ≤ 0 both give ``δx = 0`` on the whole window (the composed form routes
    ``δy`` to an input whose ReLU derivative is 0). The VJP is
    ``δx_{pq} = δy ⊙ 1{y ≠ 0} ⊙ 1{idx = k}`` (``y ≠ 0`` as :func:`numnet.ops.relu`'s, so
    a NaN passes the adjoint as it does there), each mask a selection as in PyTorch
    (``δx = 0`` where a mask is 0, also for ``δy = ±∞`` or NaN).
    :class:`numnet.nn.Sequential` uses it for a ``ReLU`` directly followed by a
    ``MaxPool2d``.

    Parameters and returns as :func:`max_pool2d`.
    """
    return _max_pool(x, kernel_size, stride, padding, relu=True)


def _max_pool(x, kernel_size, stride, padding, *, relu: bool):
    """max_pool2d's forward and VJP, followed by a ReLU on the pooled output if ``relu``."""
    what = "relu_max_pool2d" if relu else "max_pool2d"
    kernel, stride, pad, out = _pool_geometry(x, kernel_size, stride, padding, what)
    n, c = x.shape[:2]
    a, nhwc = _canonical(x)
    fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    a = _pad(a, pad, fill)
    n_offsets = kernel[0] * kernel[1]
    y = np.empty((a.shape[0], *out, a.shape[3]), a.dtype)
    idx = None
    if is_grad_enabled():  # the arg-max is needed only for a VJP
        idx = np.empty(y.shape, np.uint8 if n_offsets < 256 else np.int32)
    fast = _windows_tile(a, kernel, stride, pad, out)
    if fast:
        _max_pool_compiled(a, y, idx, kernel, stride)
    else:
        _max_pool_reference(a, y, idx, kernel, stride, out)
    if idx is not None and pad != (0, 0):
        _first_input_of_empty_windows(idx, y == fill, kernel, stride, pad, out)
    live = None  # relu: where the ReLU passes the adjoint, 1{y ≠ 0} (kept, not y)
    if relu:  # on the pooled output: relu(max_pool(x)) = max_pool(relu(x))
        np.maximum(y, np.zeros((), y.dtype), out=y)
        if idx is not None:
            live = y != 0

    def vjp(g, needs):
        if idx is None:
            raise RuntimeError(f"{what}: the forward ran under no_grad; no arg-max was kept")
        gc = _to_canonical(g, nhwc)
        if relu:  # d relu = 1{y ≠ 0} on the pooled output (a new array: g is not ours)
            gc = select_adjoint(gc, live)
        if fast and gc.dtype == a.dtype:  # δx = δy routed to the arg-max (compiled)
            ga = np.empty(a.shape, gc.dtype)
            backward_fn = kernels.get("max_pool_backward")
            parallel_batch(
                lambda b0, b1: backward_fn(gc[b0:b1], idx[b0:b1], ga[b0:b1], *kernel, *stride),
                a.shape[0],
            )
            return (_from_canonical(ga, nhwc, n, c),)
        ga = _scatter(gc, idx, a.shape, kernel, stride, out, gc.dtype)
        ga = ga[:, pad[0] : ga.shape[1] - pad[0], pad[1] : ga.shape[2] - pad[1]]
        return (_from_canonical(ga, nhwc, n, c),)

    return _from_canonical(y, nhwc, n, c), vjp


def _windows_tile(a: np.ndarray, kernel, stride, pad, out) -> bool:
    """Whether the compiled max-pool kernels (numnet.kernels) apply: unpadded windows
    that tile the canonical input ``a`` exactly, in a float dtype."""
    return (
        pad == (0, 0)
        and stride == kernel
        and a.shape[1] == kernel[0] * out[0]
        and a.shape[2] == kernel[1] * out[1]
        and a.dtype in (np.float32, np.float64)
        and kernels.enabled()
    )


def _max_pool_compiled(a, y, idx, kernel, stride) -> None:
    """The compiled forward: window maxima into ``y``, arg-max offsets into ``idx``."""
    kernel_fn = kernels.get("max_pool_forward")
    keep = idx if idx is not None else np.empty((0, 0, 0, 0), np.uint8)
    parallel_batch(
        lambda b0, b1: kernel_fn(
            a[b0:b1], y[b0:b1], keep[b0:b1] if idx is not None else keep, *kernel, *stride
        ),
        a.shape[0],
    )


def _max_pool_reference(a, y, idx, kernel, stride, out) -> None:
    """The NumPy forward: ``y = max_k`` of the strided slices at the kernel offsets k,
    and (if ``idx`` is not None) the first offset reaching it."""
    offsets = [(p, q) for p in range(kernel[0]) for q in range(kernel[1])]

    def forward(b0: int, b1: int) -> None:  # rows b0..b1 of the canonical batch
        ys, src = y[b0:b1], a[b0:b1]
        ys[...] = _offset(src, 0, 0, stride, out)
        if idx is not None:
            idx[b0:b1] = 0
        for k, (p, q) in enumerate(offsets[1:], 1):
            v = _offset(src, p, q, stride, out)
            if idx is not None:  # offsets come in increasing order: idx = max(idx, k·1{v > y})
                better = np.greater(v, ys).view(np.uint8).astype(idx.dtype, copy=False)
                better *= k
                np.maximum(idx[b0:b1], better, out=idx[b0:b1])
            np.maximum(ys, v, out=ys)

    parallel_batch(forward, a.shape[0])


@primitive("avg_pool2d", family="conv", int_rule="no_bool")
def avg_pool2d(x, *, kernel_size, stride=None, padding=0):
    """Mean over ``kH × kW`` windows (``F.avg_pool2d``, ``count_include_pad=True``).

    Math: ``y_{ij} = (1 / kH·kW) Σ_{p,q} x_{s·i+p, s·j+q}``;
    ``δx_{s·i+p, s·j+q} += δy_{ij} / (kH·kW)``.

    Parameters
    ----------
    x : (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), default ``kernel_size``
    padding : int or (int, int), at most half the kernel; zeros, counted in the mean
    """
    kernel, stride, pad, out = _pool_geometry(x, kernel_size, stride, padding, "avg_pool2d")
    n, c = x.shape[:2]
    a, nhwc = _canonical(x)
    a = _pad(a, pad, 0)
    scale = np.asarray(1.0 / (kernel[0] * kernel[1]), dtype=x.dtype)
    y = _offset(a, 0, 0, stride, out).copy()
    for p in range(kernel[0]):
        for q in range(kernel[1]):
            if p or q:
                y += _offset(a, p, q, stride, out)
    if y.dtype.kind == "f":
        y *= scale
    else:  # integers (int_rule "no_bool"): PyTorch divides and truncates toward zero
        y = np.sign(y) * (np.abs(y) // (kernel[0] * kernel[1]))
    a_shape = a.shape

    def vjp(g, needs):
        gc = _to_canonical(g, nhwc) * scale  # every input of a window gets δy / (kH·kW)
        ga = _scatter(gc, None, a_shape, kernel, stride, out, gc.dtype)
        ga = ga[:, pad[0] : ga.shape[1] - pad[0], pad[1] : ga.shape[2] - pad[1]]
        return (_from_canonical(ga, nhwc, n, c),)

    return _from_canonical(y, nhwc, n, c), vjp

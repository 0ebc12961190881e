"""Convolution: ``conv2d`` as one fused primitive (im2col + one matrix product), ``conv1d``.

Seed 000 derives the convolutional layer from weight sharing: a layer that commutes
with translations has a Toeplitz weight matrix, i.e. it is a *convolution*
``(w ∗ x)_i = Σ_j w_{i-j} x_j``, and a filter bank maps ``m`` input channels to ``n``
output channels, ``y^j = φ(Σ_i w^{ij} ∗ x^i)``. Seed 001 writes the 2-D layer as a
*cross-correlation* with stride ``s`` and zero padding::

    y^c_{ij} = h( Σ_k ⟨x^k_{[si-l, si+l], [sj-l, sj+l]}, W_{k,c}⟩ + b_c )

Like PyTorch (and seed 001), :func:`conv2d` computes the cross-correlation; the two
differ only by a flip of the kernel, ``w ∗ x = corr(flip(w), x)``, so the true
convolution of seed 000 is :func:`convolve2d` (a flip, then ``conv2d``). Learned
filters make the distinction immaterial: a network learns the flipped kernel.

Implementation (channels-last, "im2col")
----------------------------------------
The input ``(N, C, H, W)`` is viewed as ``(N, H, W, C)``, zero-padded, and every
receptive field is gathered (one copy of a ``sliding_window_view``) into the rows
of a matrix ``X̂`` of shape ``(N·H_out·W_out, kH·kW·C)`` whose columns run over
``(kh, kw, c)`` with the channel fastest. Then the layer is one matrix product::

    Ŷ = X̂ Ŵᵀ + b,        Ŵ: (C_out, kH·kW·C) the kernel in the same column order

and its VJP is seed 000's backward box for that affine map (``δs = δŶ``)::

    δŴ = δŶᵀ X̂        δb = Σ_rows δŶ        δX̂ = δŶ Ŵ

``δX̂`` is scattered back onto the input ("col2im") as a sum over the ``kH·kW``
kernel offsets of strided slices: one vectorised add per offset (25 for a 5×5
kernel), never a loop over samples, pixels or channels. Offsets overlap, so the
adds cannot be one fancy-indexed assignment; the offset loop is also the fastest
scatter we measured (``np.add.at`` is ~20× slower).

The output is an ``(N, C_out, H_out, W_out)`` *view* of a channels-last array: the
layers that follow (ReLU, pooling, the next convolution) keep that layout, so no
transposition is ever copied between two convolutions. ``flatten`` copies into
PyTorch's ``(C, H, W)`` order, so fully connected weights stay interchangeable.

The im2col matrix is the big allocation (``N·H_out·W_out·kH·kW·C`` floats, 80 MB
for the second layer of the seeds' ConvNet at batch 128). It is taken from a small
pool of scratch buffers and returned to it when the graph node that keeps it is
freed (after ``backward``), so a training loop reuses the same pages every step
instead of faulting fresh ones in. Under ``no_grad`` the forward runs in chunks of
the batch, so evaluation with large batches needs little memory.

Groups split the channels into ``groups`` independent convolutions (``C_in/groups``
inputs each); the products are then batched over the groups.

With the compiled kernels (:mod:`numnet.kernels`; groups 1, no dilation, float
inputs) the same products run a few samples at a time instead: each chunk of X̂ is
multiplied while it is still in cache and formed again in the VJP rather than stored
(a small X̂, a first layer's, is kept), and δX̂ is scattered by a compiled col2im
(see :func:`_conv2d_chunked`).
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from collections.abc import Sequence

import numpy as np

from numnet import kernels
from numnet.autograd.engine import is_grad_enabled
from numnet.ops._ieee import primitive
from numnet.ops.linalg import check_bias
from numnet.parallel import get_num_threads, parallel_batch, set_num_threads  # noqa: F401


# -- scratch buffers ------------------------------------------------------------------
class BufferPool:
    """Reuses large scratch arrays (im2col matrices) across training steps.

    ``take`` returns a free array of the requested shape and dtype (or a new one);
    ``give`` puts it back explicitly (no reference counting: a buffer is reused only
    after its owner returned it). At most ``max_bytes`` are kept. Reusing buffers avoids
    the page faults of fresh large allocations (glibc returns blocks above 32 MB to
    the OS on every ``free``), which cost ~5 ms per 80 MB. Fork-safe: in a child made
    by ``os.fork()`` each pool gets a new lock, and a pool that was being changed at
    the fork starts empty. ``numnet.empty_cache()`` empties :data:`WORKSPACE`.
    """

    def __init__(self, max_bytes: int = 512 << 20) -> None:
        self.max_bytes = max_bytes
        self._free: dict[tuple, list[np.ndarray]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        _POOLS.add(self)  # made fork-safe by the at-fork hook below

    def _after_fork_in_child(self) -> None:
        """Called in a child made by ``os.fork()``, where only the forking thread runs."""
        held = self._lock.locked()  # by a thread of the parent that does not exist here
        self._lock = threading.Lock()
        if held:  # it was halfway through changing the pool: start empty
            self._free = {}
            self._bytes = 0

    def take(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            free = self._free.get(key)
            if free:
                buf = free.pop()
                self._bytes -= buf.nbytes
                return buf
        return np.empty(shape, dtype)

    def give(self, buf: np.ndarray) -> None:
        key = (buf.shape, buf.dtype)
        with self._lock:
            if self._bytes + buf.nbytes > self.max_bytes:
                self._free.clear()  # a new regime (batch size, model): start over
                self._bytes = 0
                if buf.nbytes > self.max_bytes:
                    return
            self._free.setdefault(key, []).append(buf)
            self._bytes += buf.nbytes

    def clear(self) -> None:
        """Drop every cached buffer."""
        with self._lock:
            self._free.clear()
            self._bytes = 0


_POOLS: weakref.WeakSet[BufferPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)

WORKSPACE = BufferPool()
_NO_GRAD_CHUNK_BYTES = 32 << 20  # im2col rows per chunk when no graph is recorded
# δX̂ is formed in chunks that fit in the L3 cache; not smaller, as every chunk costs
# kH·kW BLAS calls (each a fork/join of the BLAS threads, slow on a busy machine)
_COL2IM_CHUNK_BYTES = 32 << 20
# ... and the largest X̂ it keeps for the VJP instead of forming it again
_KEEP_BYTES = 16 << 20
_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# the chunked conv2d's X̂ chunk: a few samples, so it is still in cache when multiplied
_CHUNK_BYTES = 4 << 20
# ... and the largest X̂ it keeps for the VJP instead of forming it again
_KEEP_BYTES = 16 << 20


# -- argument parsing -----------------------------------------------------------------
def _pair(value, name: str, what: str = "conv2d") -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value), int(value))
    elif isinstance(value, Sequence) and len(value) == 2:
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{what}: {name} must be an int or a pair of ints, got {value!r}")
    return out


def _positive_pair(value, name: str, what: str = "conv2d") -> tuple[int, int]:
    out = _pair(value, name, what)
    if min(out) < 1:
        raise ValueError(f"{what}: {name} must be positive, got {value!r}")
    return out


def _padding(padding, kernel: tuple[int, int], dilation: tuple[int, int], stride, what: str):
    """``(top, bottom, left, right)`` from an int, a pair, ``'valid'`` or ``'same'``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{what}: padding='same' needs stride 1, got stride {stride}")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)  # PyTorch puts the odd pixel at the end
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        raise ValueError(
            f"{what}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
        )
    ph, pw = _pair(padding, "padding", what)
    if ph < 0 or pw < 0:
        raise ValueError(f"{what}: padding must be non-negative, got {padding!r}")
    return (ph, ph, pw, pw)


def _out_size(size: int, pad: int, k: int, s: int, d: int) -> int:
    return (size + pad - d * (k - 1) - 1) // s + 1


def _nhwc(x: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` -> a channels-last ``(N, H, W, C)`` array (free for our own outputs)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _pad_nhwc(xh: np.ndarray, pads) -> np.ndarray:
    pt, pb, pl, pr = pads
    if not any(pads):
        return xh
    n, h, w, c = xh.shape
    xp = np.empty((n, h + pt + pb, w + pl + pr, c), xh.dtype)
    xp[:, :pt] = 0  # the zero border, then the interior
    xp[:, h + pt :] = 0
    xp[:, pt : pt + h, :pl] = 0
    xp[:, pt : pt + h, w + pl :] = 0
    xp[:, pt : pt + h, pl : pl + w, :] = xh
    return xp


def _windows(xp: np.ndarray, kernel, stride, dilation, groups: int) -> np.ndarray:
    """Receptive fields of the padded NHWC input: a view ``(N, Ho, Wo, g, kH, kW, C/g)``."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    win = np.lib.stride_tricks.sliding_window_view(
        xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(1, 2)
    )[:, ::sh, ::sw, :, ::dh, ::dw]  # (N, Ho, Wo, C, kH, kW)
    n, ho, wo, c = win.shape[:4]
    win = win.reshape(n, ho, wo, groups, c // groups, kh, kw)
    return win.transpose(0, 1, 2, 3, 5, 6, 4)


def _check_conv2d(x, weight, bias, stride, pads, dilation, groups) -> tuple[int, int]:
    if x.ndim != 4:
        raise ValueError(
            f"conv2d: expected an input of shape (N, C_in, H, W), got shape {x.shape} "
            f"({x.ndim} dimensions; add a batch axis with x.unsqueeze(0) for one image)"
        )
    if weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected a weight of shape (C_out, C_in/groups, kH, kW), got shape "
            f"{weight.shape}"
        )
    if groups < 1 or x.shape[1] % groups or weight.shape[0] % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide both the input channels ({x.shape[1]}, input "
            f"shape {x.shape}) and the output channels ({weight.shape[0]}, weight shape "
            f"{weight.shape})"
        )
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"conv2d: input of shape {x.shape} has {x.shape[1]} channels but the weight of "
            f"shape {weight.shape} expects C_in = {weight.shape[1] * groups} "
            f"(weight.shape[1] = {weight.shape[1]} × groups = {groups})"
        )
    check_bias("conv2d", bias, weight)
    h, w = x.shape[2], x.shape[3]
    kh, kw = weight.shape[2], weight.shape[3]
    ho = _out_size(h, pads[0] + pads[1], kh, stride[0], dilation[0])
    wo = _out_size(w, pads[2] + pads[3], kw, stride[1], dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv2d: kernel of size ({kh}, {kw}) (dilation {dilation}) is larger than the "
            f"padded input of size ({h + pads[0] + pads[1]}, {w + pads[2] + pads[3]}) "
            f"(input shape {x.shape}, weight shape {weight.shape}, padding {pads})"
        )
    return ho, wo


# -- the primitive ----------------------------------------------------------------------
@primitive("conv2d", family="conv", int_rule="same_kind", saves=(0, 1))
def conv2d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of a batch of images with a bank of filters (``F.conv2d``).

    Math (seed 001, channels ``k``, filters ``W_{k,c}``, stride ``s``):
    ``y^c_{ij} = Σ_k Σ_{p,q} W_{c,k,p,q} x^k_{s·i + d·p - pad, s·j + d·q - pad} + b_c``;
    as one matrix product ``Ŷ = X̂ Ŵᵀ + b`` (im2col, see the module docstring), with
    ``δŴ = δŶᵀ X̂``, ``δb = Σ δŶ``, ``δX̂ = δŶ Ŵ`` scattered back by col2im.

    Parameters
    ----------
    x : (N, C_in, H, W)
    weight : (C_out, C_in / groups, kH, kW)   (``torch.nn.Conv2d.weight``)
    bias : (C_out,), optional
    stride, dilation : int or (int, int), positive
    padding : int, (int, int), ``'same'`` (stride 1; odd pixel at the end, as PyTorch)
        or ``'valid'`` (= 0). Zero padding.
    groups : int, dividing C_in and C_out

    Returns
    -------
    (N, C_out, H_out, W_out), ``H_out = ⌊(H + 2·pad - d·(kH - 1) - 1) / s⌋ + 1``
    """
    stride = _positive_pair(stride, "stride")
    dilation = _positive_pair(dilation, "dilation")
    kernel = (weight.shape[2], weight.shape[3]) if weight.ndim == 4 else (1, 1)
    pads = _padding(padding, kernel, dilation, stride, "conv2d")
    groups = int(groups)
    ho, wo = _check_conv2d(x, weight, bias, stride, pads, dilation, groups)
    n, c, h, w = x.shape
    cout, cg, kh, kw = weight.shape
    g, kg = groups, kh * kw * cg
    m = n * ho * wo
    dtype = np.result_type(x.dtype, weight.dtype)
    aug = bias is not None  # X̂ gets a column of ones and Ŵ the bias: Ŷ = [X̂ 1][Ŵ b]ᵀ
    ka = kg + aug
    w_hat = _weight_matrix(weight, bias, g, dtype)
    xp = _pad_nhwc(_nhwc(x), pads)
    geometry = (kh, kw, *stride, pads[0], pads[2], ho, wo)
    if _fast_conv(g, dilation, dtype, x.dtype):
        y, vjp = _conv2d_chunked(xp, w_hat, (n, h, w, c), stride, geometry)
        return y.transpose(0, 3, 1, 2), vjp
    padded_shape = xp.shape  # the VJP keeps the shape, not the array

    def im2col(n0: int, n1: int, buf: np.ndarray) -> np.ndarray:
        """X̂ (rows, g, kH·kW·C/g [+ 1]) for the samples n0..n1, written into ``buf``."""
        cols = buf.reshape(-1, g, ka)
        patches = cols[:, :, :kg].reshape(n1 - n0, ho, wo, g, kh, kw, cg)
        windows = _windows(xp[n0:n1], kernel, stride, dilation, g)
        parallel_batch(lambda a, b: np.copyto(patches[a:b], windows[a:b]), n1 - n0)
        if aug:
            cols[:, :, kg] = 1
        return cols

    y = np.empty((n, ho, wo, cout), dtype)
    cols, cols_buf = _im2col_product(im2col, w_hat, y.reshape(m, cout), n, ho * wo * g * ka)

    def vjp(gy, needs):
        gx = gw = gb = None
        gh = _nhwc(gy).reshape(m, cout)  # δŶ (free when δy is channels-last)
        if needs[1] or (aug and needs[2]):  # [δŴ δb] = δŶᵀ [X̂ 1]
            gw_hat = _weight_matrix_grad(gh, cols)
            gw, gb = _split_weight_grad(gw_hat, weight.shape, aug, needs)
        if needs[0]:
            gx = _col2im(gh, weight, padded_shape, (ho, wo), stride, dilation, pads, g)
        return gx, gw, gb

    if cols is not None:  # return X̂ to the pool once the graph node is gone
        weakref.finalize(vjp, WORKSPACE.give, cols_buf)
    return y.transpose(0, 3, 1, 2), vjp


def _split_weight_grad(gw_hat: np.ndarray, wshape, aug: bool, needs):
    """``δW (C_out, C_in/g, kH, kW)`` and ``δb`` from ``[δŴ δb]`` (g, C_out/g, k [+ 1])."""
    cout, cg, kh, kw = wshape
    kg = kh * kw * cg
    gw = gb = None
    if needs[1]:
        gw = np.ascontiguousarray(gw_hat[:, :, :kg].reshape(cout, kh, kw, cg).transpose(0, 3, 1, 2))
    if aug and needs[2]:
        gb = gw_hat[:, :, kg].reshape(cout)
    return gw, gb


def _fast_conv(g: int, dilation, dtype, x_dtype) -> bool:
    """Whether conv2d takes the chunked path (numnet.kernels enabled): X̂ is formed a
    few samples at a time, each chunk multiplied while it is in cache, and formed again
    in the VJP instead of being stored."""
    return (
        g == 1
        and dilation == (1, 1)
        and dtype in _FAST_DTYPES
        and x_dtype == dtype
        and kernels.enabled()
    )


def _im2col_chunk(xp, n0: int, n1: int, buf: np.ndarray, kernel, stride, kg: int) -> np.ndarray:
    """X̂ ``(rows, kH·kW·C [+ 1])`` of the samples n0..n1 of the padded NHWC ``xp`` into
    ``buf`` (one copy of their receptive fields; the last column is 1 if there is one)."""
    (kh, kw), c = kernel, xp.shape[3]
    windows = _windows(xp[n0:n1], kernel, stride, (1, 1), 1)
    cols = buf.reshape(-1, buf.shape[-1])
    np.copyto(cols[:, :kg].reshape(n1 - n0, *windows.shape[1:3], 1, kh, kw, c), windows)
    if cols.shape[1] > kg:
        cols[:, kg] = 1
    return cols


def _conv2d_chunked(xp, w_hat, shape, stride, geometry):
    """The chunked conv2d (groups 1, no dilation): ``Ŷ = X̂ Ŵᵀ`` a few samples at a time.

    Each chunk of X̂ (``_CHUNK_BYTES``) is formed and multiplied while it is still in
    cache. A large X̂ is not kept: the VJP forms each chunk again and does all of its
    work on it at once, ``[δŴ δb] += δŶ_chunkᵀ X̂_chunk`` and ``δX̂_chunk = δŶ_chunk Ŵ``
    scattered onto ``δx`` by the compiled col2im, which reads it in memory order. The
    same products as the reference path, in row blocks; the extra im2col costs less
    than writing X̂ to memory and reading it back twice (and a training step keeps no
    80 MB buffer). A small X̂
    (``_KEEP_BYTES``, e.g. a first layer with one input channel) is kept whole when a
    graph is recorded, and ``[δŴ δb]ᵀ = X̂ᵀ δŶ`` is one product (the faster operand
    order for its few columns).
    """
    n, h, w, c = shape
    ho, wo = geometry[-2:]
    ch = _Chunking(xp, w_hat, shape, stride, geometry, rows=ho * wo)
    y = np.empty((n, ho, wo, ch.cout), w_hat.dtype)
    y2 = y.reshape(n * ch.rows, ch.cout)
    if is_grad_enabled() and n * ch.rows * ch.ka * w_hat.dtype.itemsize <= _KEEP_BYTES:
        ch.kept = np.empty((n * ch.rows, ch.ka), w_hat.dtype)  # X̂ kept for the VJP

    def forward(a: int, b: int) -> None:
        buf = None if ch.kept is not None else ch.buffer(b - a, ch.ka)
        for n0, n1 in ch.chunks(a, b):
            r0, r1 = n0 * ch.rows, n1 * ch.rows
            out = buf if ch.kept is None else ch.kept[r0:r1]  # im2col takes its rows
            np.matmul(ch.im2col(n0, n1, out), ch.w2.T, out=y2[r0:r1])

    parallel_batch(forward, n, blas=True)
    return y, functools.partial(_conv2d_chunked_vjp, ch)


class _Chunking:
    """What the chunked conv2d's forward and VJP share: the padded input ``xp`` (NHWC),
    ``Ŵ`` as one matrix ``w2`` (C_out, kH·kW·C_in [+ 1]), the geometry, the chunk size in
    samples (``step``, from ``_CHUNK_BYTES``) and, when kept, X̂ of the whole batch."""

    def __init__(self, xp, w_hat, shape, stride, geometry, rows: int) -> None:
        self.xp, self.shape, self.stride, self.geometry = xp, shape, stride, geometry
        self.kernel = geometry[:2]
        self.rows = rows
        self.w2 = w_hat[0]
        self.cout, self.ka = w_hat.shape[1:]
        self.kg = self.kernel[0] * self.kernel[1] * shape[3]
        self.dtype = w_hat.dtype
        self.step = max(1, _CHUNK_BYTES // (rows * self.ka * self.dtype.itemsize))
        self.kept = None

    def chunks(self, a: int, b: int):
        """``(n0, n1)`` sample ranges of at most ``step`` samples covering ``a..b``."""
        return ((n0, min(b, n0 + self.step)) for n0 in range(a, b, self.step))

    def buffer(self, samples: int, cols: int) -> np.ndarray:
        """A scratch matrix for one chunk of at most ``samples`` samples."""
        return np.empty((min(self.step, samples) * self.rows, cols), self.dtype)

    def im2col(self, n0: int, n1: int, out: np.ndarray) -> np.ndarray:
        """X̂ of samples ``n0..n1``, written into ``out``."""
        return _im2col_chunk(self.xp, n0, n1, out[: (n1 - n0) * self.rows], self.kernel,
                             self.stride, self.kg)


def _conv2d_chunked_vjp(ch: _Chunking, gy, needs):
    """The chunked conv2d's VJP: per chunk ``[δŴ δb] += δŶᵀ [X̂ 1]`` (X̂ formed again, or
    the kept one in one product) and ``δX̂ = δŶ Ŵ`` scattered onto ``δx`` by col2im."""
    n = ch.shape[0]
    gh = _nhwc(gy).reshape(n * ch.rows, ch.cout)  # δŶ (free when δy is channels-last)
    aug = ch.ka > ch.kg
    want_w = bool(needs[1] or (aug and needs[2]))
    gx = np.empty(ch.shape, ch.dtype) if needs[0] else None
    partials: dict[int, np.ndarray] = {}  # by first sample: summed in batch order

    def backward(a: int, b: int) -> None:
        acc = _chunked_backward(ch, gh, gx, want_w, a, b)
        if want_w:
            partials[a] = acc

    if want_w or gx is not None:
        parallel_batch(backward, n, blas=True)
    gw = gb = None
    if want_w:
        # in the order of the batch, not of the threads' finishing: the same bits on
        # every run, whatever the number of threads
        first, *rest = (partials[k] for k in sorted(partials))
        gw_hat = np.ascontiguousarray(first)
        for part in rest:
            gw_hat += part
        c = ch.shape[3]
        gw, gb = _split_weight_grad(gw_hat[None], (ch.cout, c, *ch.kernel), aug, needs)
    if gx is not None:
        gx = gx.transpose(0, 3, 1, 2)
    return gx, gw, gb


def _chunked_backward(ch: _Chunking, gh, gx, want_w: bool, a: int, b: int):
    """Samples ``a..b`` of the VJP: returns their ``[δŴ δb]`` (when wanted) and writes
    their ``δx`` into ``gx`` (when given)."""
    rows = ch.rows
    chunked_w = want_w and ch.kept is None
    acc = None
    if chunked_w:
        buf, tmp = ch.buffer(b - a, ch.ka), np.empty((ch.cout, ch.ka), ch.dtype)
        acc = np.zeros((ch.cout, ch.ka), ch.dtype)
    elif want_w:  # [δŴ δb]ᵀ = [X̂ 1]ᵀ δŶ over the rows a..b
        acc = np.matmul(ch.kept[a * rows : b * rows].T, gh[a * rows : b * rows]).T
    if gx is not None:
        dbuf, col2im = ch.buffer(b - a, ch.kg), kernels.get("col2im")
    for n0, n1 in ch.chunks(a, b):
        g_chunk = gh[n0 * rows : n1 * rows]
        if chunked_w:  # [δŴ δb] += δŶᵀ [X̂ 1] for this chunk
            acc += np.matmul(g_chunk.T, ch.im2col(n0, n1, buf), out=tmp)
        if gx is not None:  # δX̂ = δŶ Ŵ, scattered while in cache
            dcols = np.matmul(g_chunk, ch.w2[:, : ch.kg], out=dbuf[: (n1 - n0) * rows])
            col2im(dcols, gx[n0:n1], *ch.geometry)
    return acc


def _weight_matrix(weight, bias, g: int, dtype) -> np.ndarray:
    """``[Ŵ b]`` in the (kh, kw, c) column order of X̂: (g, C_out/g, kH·kW·C_in/g [+ 1])."""
    cout, cg, kh, kw = weight.shape
    og, kg = cout // g, kh * kw * cg
    w_hat = np.empty((g, og, kg + (bias is not None)), dtype=dtype)
    w_hat[:, :, :kg].reshape(g, og, kh, kw, cg)[...] = weight.reshape(g, og, cg, kh, kw).transpose(
        0, 1, 3, 4, 2
    )
    if bias is not None:
        w_hat[:, :, kg] = bias.reshape(g, og)
    return w_hat


def _product(cols: np.ndarray, w_hat: np.ndarray, out: np.ndarray) -> None:
    """``out (rows, C_out) = X̂ Ŵᵀ`` for one chunk of rows of X̂ (rows, g, k)."""
    g, og = w_hat.shape[:2]
    if g == 1:
        np.matmul(cols[:, 0, :], w_hat[0].T, out=out)
    else:
        out.reshape(-1, g, og)[...] = np.matmul(
            cols.transpose(1, 0, 2), w_hat.transpose(0, 2, 1)
        ).transpose(1, 0, 2)


def _im2col_product(im2col, w_hat, y2: np.ndarray, n: int, per_sample: int):
    """``Ŷ = X̂ Ŵᵀ`` into ``y2`` (N·Ho·Wo, C_out). Recording a graph, X̂ of the whole batch
    is formed in a pooled buffer and returned with it (``(cols, buffer)``) for δŴ; in
    evaluation it is formed in chunks of the batch (bounded memory) and ``(None, None)``
    is returned."""
    dtype = w_hat.dtype
    if is_grad_enabled():  # keep X̂ for δŴ
        cols_buf = WORKSPACE.take((n * per_sample,), dtype)
        cols = im2col(0, n, cols_buf)
        _product(cols, w_hat, y2)
        return cols, cols_buf
    rows = y2.shape[0] // n if n else 0
    step = max(1, _NO_GRAD_CHUNK_BYTES // (per_sample * np.dtype(dtype).itemsize))
    buf = WORKSPACE.take((min(step, n) * per_sample,), dtype)
    for n0 in range(0, n, step):
        n1 = min(n, n0 + step)
        chunk = im2col(n0, n1, buf[: (n1 - n0) * per_sample])
        _product(chunk, w_hat, y2[n0 * rows : n1 * rows])
    WORKSPACE.give(buf)
    return None, None


def _weight_matrix_grad(gh: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``[δŴ δb] = δŶᵀ [X̂ 1]`` per group: (g, C_out/g, k) from δŶ (M, C_out), X̂ (M, g, k)."""
    m, g = cols.shape[:2]
    if g == 1:
        return (gh.T @ cols[:, 0, :])[None]
    return np.matmul(gh.reshape(m, g, -1).transpose(1, 2, 0), cols.transpose(1, 0, 2))


def _col2im(gh, weight, padded_shape, out_shape, stride, dilation, pads, g):
    """``δx`` from ``δŶ (N·Ho·Wo, C_out)``: ``δX̂ = δŶ Ŵ`` scattered back by kernel offset.

    ``δX̂`` is formed one kernel offset at a time, ``δX̂_{pq} = δŶ Ŵ_{pq}`` with
    ``Ŵ_{pq} = W[:, :, p, q]`` (one batched product over the ``kH·kW`` offsets), so
    that each offset's block is contiguous and is added to its strided slice of
    ``δx`` with long inner loops; the batch is processed in chunks small enough for
    the blocks to stay in cache.
    """
    n, hp, wp, c = padded_shape
    ho, wo = out_shape
    cout, cg, kh, kw = weight.shape
    og, kk = cout // g, kh * kw
    # W_pq per group: (g, kH·kW, C_out/g, C_in/g)
    w_off = np.ascontiguousarray(
        weight.reshape(g, og, cg, kh, kw).transpose(0, 3, 4, 1, 2)
    ).reshape(g, kk, og, cg)
    gxp = np.empty(padded_shape, gh.dtype)
    parallel_batch(lambda a, b: gxp[a:b].fill(0), n)
    per_sample = ho * wo * kk * c * gh.dtype.itemsize
    step = max(1, _COL2IM_CHUNK_BYTES // per_sample)
    buf = WORKSPACE.take((g, kk, min(step, n) * ho * wo, cg), gh.dtype)
    for n0 in range(0, n, step):  # chunks of the batch, so δX̂ stays in cache
        n1 = min(n, n0 + step)
        rows = gh[n0 * ho * wo : n1 * ho * wo].reshape(-1, g, og).transpose(1, 0, 2)
        dcols = buf[:, :, : rows.shape[1]]
        np.matmul(rows[:, None], w_off, out=dcols)  # δX̂_pq = δŶ Ŵ_pq
        blocks = dcols.reshape(g, kh, kw, n1 - n0, ho, wo, cg)
        parallel_batch(
            lambda a, b, n0=n0, blocks=blocks: _add_offsets(
                gxp[n0 + a : n0 + b], blocks[:, :, :, a:b], stride, dilation
            ),
            n1 - n0,
        )
    WORKSPACE.give(buf)
    pt, pb, pl, pr = pads
    gx = gxp[:, pt : hp - pb, pl : wp - pr, :]
    return gx.transpose(0, 3, 1, 2)


def _add_offsets(target: np.ndarray, blocks: np.ndarray, stride, dilation) -> None:
    """col2im: add each kernel offset's block ``(g, n, Ho, Wo, C/g)`` to its strided slice."""
    g, kh, kw, n, ho, wo, cg = blocks.shape
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):  # one strided add per kernel offset (offsets overlap)
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            view = target[:, r0 : r0 + sh * (ho - 1) + 1 : sh, c0 : c0 + sw * (wo - 1) + 1 : sw]
            view.reshape(n, ho, wo, g, cg)[...] += blocks[:, i, j].transpose(1, 2, 3, 0, 4)


# -- composed ops -------------------------------------------------------------------------
def conv1d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation ``(N, C_in, L) -> (N, C_out, L_out)`` (``F.conv1d``).

    Seed 000's ``y^j_k = Σ_i Σ_p w^{ij}_p x^i_{k+p}`` (correlation form). Composed as
    :func:`conv2d` on images of height 1, so it needs no gradient code of its own.

    Parameters
    ----------
    x : (N, C_in, L)
    weight : (C_out, C_in / groups, k)   (``torch.nn.Conv1d.weight``)
    bias : (C_out,), optional
    stride, dilation : int; padding : int, ``'same'`` or ``'valid'``; groups : int
    """
    from numnet.ops.shape import reshape

    shape = tuple(x.shape)
    if len(shape) != 3:
        raise ValueError(f"conv1d: expected an input of shape (N, C_in, L), got shape {shape}")
    wshape = tuple(weight.shape)
    if len(wshape) != 3:
        raise ValueError(
            f"conv1d: expected a weight of shape (C_out, C_in/groups, k), got shape {wshape}"
        )
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding"))
    x4 = reshape(x, shape=(shape[0], shape[1], 1, shape[2]))
    w4 = reshape(weight, shape=(wshape[0], wshape[1], 1, wshape[2]))
    args = (x4, w4) if bias is None else (x4, w4, bias)
    try:
        y = conv2d(
            *args,
            stride=(1, _single(stride, "stride")),
            padding=padding,
            dilation=(1, _single(dilation, "dilation")),
            groups=groups,
        )
    except ValueError as exc:
        raise ValueError(f"conv1d (input {shape}, weight {wshape}): {exc}") from None
    return reshape(y, shape=(y.shape[0], y.shape[1], y.shape[3]))


def _single(value, name: str) -> int:
    if isinstance(value, Sequence) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"conv1d: {name} must be an int, got {value!r}")
    return int(value)


def convolve2d(x, weight, bias=None, **kwargs):
    """True 2-D convolution ``w ∗ x`` (seed 000): :func:`conv2d` with the kernel flipped.

    ``(w ∗ x)_{ij} = Σ_{p,q} w_{pq} x_{i-p, j-q}`` while ``conv2d`` computes the
    cross-correlation ``Σ_{p,q} w_{pq} x_{i+p, j+q}``; the two agree after
    ``w ↦ w[..., ::-1, ::-1]``. Keyword arguments are those of :func:`conv2d`.
    """
    from numnet.ops.shape import getitem

    flipped = getitem(weight, index=(Ellipsis, slice(None, None, -1), slice(None, None, -1)))
    return conv2d(x, flipped, bias, **kwargs) if bias is not None else conv2d(x, flipped, **kwargs)


def convolve1d(x, weight, bias=None, **kwargs):
    """True 1-D convolution ``(w ∗ x)_k = Σ_p w_p x_{k-p}`` (seed 000): flipped :func:`conv1d`."""
    from numnet.ops.shape import getitem

    flipped = getitem(weight, index=(Ellipsis, slice(None, None, -1)))
    return conv1d(x, flipped, bias, **kwargs)

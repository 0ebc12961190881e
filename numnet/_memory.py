"""``numnet.empty_cache()``: release numnet's scratch buffers.

numnet used to recycle large arrays through a process-wide cache that decided from
an array's reference count when it was free. It was removed: a reference
count is not a contract (weak references and raw pointers do not count, debuggers and
interpreter versions change it), and the memory reuse that pays is explicit instead:
the im2col matrices of :func:`numnet.ops.conv2d` come from a pool that the op takes
from and gives back to (:data:`numnet.ops.conv.WORKSPACE`, fork-safe).

:func:`empty_cache` is kept for compatibility (like ``torch.cuda.empty_cache``): it
empties that pool, so the next convolution allocates afresh.
"""

from __future__ import annotations

import numpy as np

ALIGNMENT = 64  # bytes: one cache line, one AVX-512 register


def empty_aligned(shape, dtype=np.float32, *, alignment: int = ALIGNMENT) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ``alignment``-byte boundary.

    NumPy allocates with ``malloc``, which aligns to 16 bytes only; large blocks come
    from ``mmap`` at 16 bytes past a page boundary. OpenBLAS's kernels write a product's
    result much faster when it is aligned to a cache line: on a Zen 4 host (SkylakeX
    and Haswell kernels), a 512×512 float32 weight gradient ``δW = δsᵀa`` with a
    128-row batch took 1.6× as long into an array 16 bytes past a 64-byte boundary as
    into an aligned one, while the alignment of the operands did not matter
    (``benchmarks/gemm_alignment.py``). PyTorch aligns its CPU tensors to 64 bytes.

    The array is a view of a slightly larger buffer (``.base`` is not None); it owns
    the memory through that base like any NumPy view.

    Parameters
    ----------
    shape : int or tuple of int
    dtype : data-type, default float32
    alignment : int, default 64
        A power of two, at least the dtype's item size.
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + alignment, np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def empty_cache() -> None:
    """Release numnet's scratch buffers (the convolution workspace) to the allocator."""
    from numnet.ops.conv import WORKSPACE

    WORKSPACE.clear()

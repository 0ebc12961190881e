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


def empty_cache() -> None:
    """Release numnet's scratch buffers (the convolution workspace) to the allocator."""
    from numnet.ops.conv import WORKSPACE

    WORKSPACE.clear()

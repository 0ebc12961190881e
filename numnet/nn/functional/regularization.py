"""Inverted dropout (a regularizer: the only one that is a function of the activations)."""

from __future__ import annotations

import numpy as np

from numnet.nn.functional._validation import _check_inplace, _floating, _tensor
from numnet.parallel import dropout_mask
from numnet.random import as_generator
from numnet.tensor import Tensor


def dropout(
    input, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None
) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1/(1-p).

    The expectation of the output equals the input, so evaluation (``training=False``)
    is the identity. The mask comes from ``generator`` (seed, Generator or numnet's
    default), never from global state. The positional order is PyTorch's; ``inplace``
    is accepted for compatibility, and numnet computes out of place (see :func:`relu`).
    """
    _check_inplace(inplace, "dropout")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    input = _tensor(input, "input")
    if not training or p == 0:
        return input
    _floating("dropout", input)
    if p == 1:
        return input * 0.0
    rng = as_generator(generator)
    # the same draw as ``rng.random(shape) >= p``; inside a data-parallel step, this
    # shard's rows of the unsplit batch's mask (numnet.parallel.dropout_mask)
    keep = dropout_mask(rng, input.shape, p)
    scale = np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    return input * (keep * scale)

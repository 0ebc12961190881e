"""``Parameter``: a leaf tensor that a Module owns and an optimizer updates."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Tensor


class Parameter(Tensor):
    """A trainable tensor: ``requires_grad=True`` by default, float32 unless ``dtype``.

    Parameters
    ----------
    data : array_like or Tensor
    requires_grad : bool
    """

    __slots__ = ()

    def __init__(self, data, *, dtype=None, requires_grad: bool = True) -> None:
        if dtype is None:
            arr = np.asarray(data._data if isinstance(data, Tensor) else data)
            dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float32
        # (a Tensor is passed on whole: a Parameter sharing its memory shares its counter)
        super().__init__(data, dtype=dtype, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

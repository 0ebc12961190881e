"""``Dropout`` (inverted): active in ``train()`` mode, the identity in ``eval()``."""

from __future__ import annotations

from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.random import as_generator


class Dropout(Module):
    """Zero each entry with probability ``p`` during training and scale by ``1/(1-p)``.

    Parameters
    ----------
    p : float in [0, 1]
    inplace : bool
        Accepted for PyTorch compatibility (``nn.Dropout(p, inplace=True)``); numnet
        computes out of place, with the same values and gradients.
    generator : int | numpy.random.Generator | None
        Source of the masks (kept on the module, so a seeded model is reproducible;
        its state is saved by training checkpoints).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator=None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        F._check_inplace(inplace, "Dropout")
        self.p = float(p)
        self.inplace = bool(inplace)
        self._generator = as_generator(generator)

    def get_config(self) -> dict:
        return {"p": self.p, "inplace": self.inplace}

    @property
    def generator(self):
        return self._generator

    @generator.setter
    def generator(self, value) -> None:
        self._generator = as_generator(value)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, generator=self._generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"

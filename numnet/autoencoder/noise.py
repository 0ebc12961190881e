"""Corruption processes for denoising autoencoders (seed 001), seeded and reproducible.

Seed 001: "Denoising autoencoder: provide as input a noisy version of the samples and
minimize the reconstruction error with respect to the clean sample". Two standard
corruptions (Vincent et al., 2008):

* **Gaussian**: ``x̃ = x + σ ε``, ``ε ~ N(0, I)``, optionally clipped to the pixel range;
* **masking**: ``x̃ = x ⊙ m``, ``m_j ~ Bernoulli(1 − p)``: each input is set to 0 with
  probability ``p`` (no rescaling, unlike dropout: the network must fill the holes).

The functions corrupt arrays (for evaluation at a chosen noise level); the modules
corrupt their input in ``train()`` mode only and are the identity in ``eval()`` mode,
so ``Sequential(GaussianNoise(0.5), autoencoder)`` trained on ``(X, X)`` with
:func:`numnet.train.fit` is a denoising autoencoder that sees fresh noise every batch.
Every source of randomness is a seed or a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from numnet import ops
from numnet.nn.module import Module
from numnet.random import as_generator
from numnet.tensor import Tensor

__all__ = ["GaussianNoise", "MaskingNoise", "gaussian_noise", "masking_noise"]


def _float_array(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    if X.dtype.kind != "f":
        X = X.astype(np.float32)
    return X


def _check_clip(clip) -> tuple[float, float] | None:
    if clip is None:
        return None
    lo, hi = (float(c) for c in clip)
    if not lo < hi:
        raise ValueError(f"clip must be (low, high) with low < high, got {clip!r}")
    return lo, hi


def gaussian_noise(X, std: float, *, generator=None, clip=None) -> np.ndarray:
    """``x + σ ε`` with ``ε ~ N(0, 1)`` i.i.d., in ``X``'s float dtype.

    Parameters
    ----------
    X : array (any shape)
    std : float ≥ 0
        ``σ``.
    generator : int | numpy.random.Generator | None
        The same seed gives the same noise.
    clip : (low, high), optional
        Clip the result, e.g. ``(0, 1)`` for pixel intensities.
    """
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    X = _float_array(X)
    rng = as_generator(generator)
    noisy = X + (std * rng.standard_normal(X.shape, dtype=np.float64)).astype(X.dtype)
    bounds = _check_clip(clip)
    if bounds is not None:
        np.clip(noisy, *bounds, out=noisy)
    return noisy


def masking_noise(X, p: float, *, generator=None) -> np.ndarray:
    """Set each entry of ``X`` to 0 with probability ``p`` (no rescaling).

    Parameters
    ----------
    X : array (any shape)
    p : float in [0, 1]
    generator : int | numpy.random.Generator | None
    """
    if not 0 <= p <= 1:
        raise ValueError(f"masking probability must be in [0, 1], got {p!r}")
    X = _float_array(X)
    keep = as_generator(generator).random(X.shape) >= p
    return X * keep.astype(X.dtype)


class _Noise(Module):
    """A corruption active in training mode only, drawing from its own generator."""

    def __init__(self, *, generator=None) -> None:
        self._generator = as_generator(generator)

    def get_config(self) -> dict:
        return {}  # the generator is never part of a config

    @property
    def generator(self) -> np.random.Generator:
        return self._generator

    @generator.setter
    def generator(self, value) -> None:
        self._generator = as_generator(value)


class GaussianNoise(_Noise):
    """Add ``N(0, std²)`` noise in training mode; identity in evaluation mode.

    Parameters
    ----------
    std : float ≥ 0
    clip : (low, high), optional
        Clip the corrupted input (e.g. ``(0.0, 1.0)`` for images).
    generator : int | numpy.random.Generator | None
        Kept on the module (and saved by training checkpoints), so runs are reproducible.
    """

    def __init__(self, std: float, *, clip=None, generator=None) -> None:
        if not np.isfinite(std) or std < 0:
            raise ValueError(f"std must be a finite number >= 0, got {std!r}")
        super().__init__(generator=generator)
        self.std = float(std)
        self.clip = _check_clip(clip)

    def get_config(self) -> dict:
        return {"std": self.std, "clip": self.clip}

    def forward(self, x):
        if not self.training or self.std == 0:
            return x
        x = x if isinstance(x, Tensor) else Tensor(x)
        eps = self._generator.standard_normal(x.shape, dtype=np.float64)
        out = x + Tensor._wrap((self.std * eps).astype(x.dtype))
        return out if self.clip is None else ops.clamp(out, min=self.clip[0], max=self.clip[1])

    def extra_repr(self) -> str:
        return f"std={self.std}" + (f", clip={self.clip}" if self.clip else "")


class MaskingNoise(_Noise):
    """Zero each input with probability ``p`` in training mode; identity in evaluation mode.

    Parameters
    ----------
    p : float in [0, 1]
    generator : int | numpy.random.Generator | None
    """

    def __init__(self, p: float, *, generator=None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"masking probability must be in [0, 1], got {p!r}")
        super().__init__(generator=generator)
        self.p = float(p)

    def get_config(self) -> dict:
        return {"p": self.p}

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        x = x if isinstance(x, Tensor) else Tensor(x)
        keep = self._generator.random(x.shape) >= self.p
        return x * Tensor._wrap(keep.astype(x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"

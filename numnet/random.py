"""Explicit randomness: every random choice in numnet takes a seed or a Generator.

``generator=None`` falls back to numnet's default ``numpy.random.Generator``, which
:func:`manual_seed` re-seeds (like ``torch.manual_seed``); numnet never touches
NumPy's legacy global state (``np.random.seed``).
"""

from __future__ import annotations

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed numnet's default generator and return it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator() -> np.random.Generator:
    """The generator used where ``generator=None``."""
    return _default


def as_generator(generator: int | np.random.Generator | None) -> np.random.Generator:
    """A ``Generator`` from a seed, a Generator (returned as is) or ``None`` (the default)."""
    if generator is None:
        return _default
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if isinstance(generator, np.random.SeedSequence):
        return np.random.default_rng(generator)
    raise TypeError(
        f"expected an int seed, a numpy.random.Generator or None, got {type(generator).__name__}"
    )

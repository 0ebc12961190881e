"""Explicit randomness: every random choice in numnet takes a ``generator`` (or, in the
scikit-learn-shaped estimators, a ``random_state``).

One keyword per API family, one meaning of ``None``:

* the PyTorch-shaped API (tensors, ``nn``, ``optim``, ``data``, ``train``, models and
  autoencoders) takes ``generator=``: an int seed, a ``numpy.random.Generator`` (used
  and advanced in place, as ``torch.Generator`` is), a ``numpy.random.SeedSequence``, or
  ``None``;
* the scikit-learn-shaped estimators (``numnet.classic``, ``numnet.sklearn``) take
  ``random_state=`` with the same accepted values, because ``clone`` and
  ``GridSearchCV`` expect that name;
* the reproductions (``numnet.experiments``, ``numnet reproduce --seed``) take an int
  ``seed``: it is part of the record a run writes.

``None`` always means numnet's default generator, which :func:`manual_seed` re-seeds
(like ``torch.manual_seed``). scikit-learn's ``random_state=None`` means NumPy's legacy
global state instead; numnet never touches that state (``np.random.seed``), so a
``random_state=None`` estimator draws from numnet's default generator.

The older keywords ``seed=`` and ``rng=`` of the PyTorch-shaped API still work for one
release and emit a :class:`DeprecationWarning` (:func:`renamed_kwarg`).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

_default = np.random.default_rng()

#: What a ``generator=`` / ``random_state=`` argument may be.
GeneratorLike = "int | numpy.random.Generator | numpy.random.SeedSequence | None"


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed numnet's default generator and return it (``torch.manual_seed``)."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator() -> np.random.Generator:
    """The generator used where ``generator=None`` (or ``random_state=None``)."""
    return _default


def as_generator(generator, *, name: str = "generator") -> np.random.Generator:
    """Normalise a ``generator=`` (or ``random_state=``) argument to a ``Generator``.

    Parameters
    ----------
    generator : int, numpy.random.Generator, numpy.random.SeedSequence or None
        An int (>= 0) seeds a fresh generator; a Generator is returned as is (and is
        advanced by whoever draws from it); ``None`` gives numnet's default generator
        (:func:`default_generator`, re-seeded by :func:`manual_seed`).
    name : str
        The keyword's name, used in the error message.

    Raises
    ------
    TypeError
        For any other type (bools and floats included: ``1.0`` is not a seed).
    ValueError
        For a negative int seed (NumPy's rule).
    """
    if generator is None:
        return _default
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, (bool, np.bool_)):
        if generator < 0:
            raise ValueError(f"{name} must be a non-negative int seed, got {int(generator)}")
        return np.random.default_rng(int(generator))
    if isinstance(generator, np.random.SeedSequence):
        return np.random.default_rng(generator)
    raise TypeError(
        f"{name}: expected an int seed, a numpy.random.Generator, a SeedSequence or None, "
        f"got {type(generator).__name__}"
    )


def check_random_state(random_state) -> np.random.Generator:
    """scikit-learn's ``check_random_state`` for numnet's estimators.

    Accepts what :func:`as_generator` accepts; ``None`` is numnet's default generator
    (not NumPy's legacy global state, as in scikit-learn). Raises ``TypeError`` or
    ``ValueError`` as :func:`as_generator` does, naming ``random_state``.
    """
    return as_generator(random_state, name="random_state")


def renamed_kwarg(old: str, new: str = "generator", *, since: str = "0.2"):
    """Decorator: accept the deprecated keyword ``old`` as ``new`` for one release.

    A call that passes ``old=`` gets a :class:`DeprecationWarning` and the value is passed
    on as ``new=``; passing both raises ``TypeError`` (as Python does for a duplicated
    argument). The wrapped function keeps its signature and docstring (``old`` does not
    appear in ``inspect.signature``); its ``__renamed_kwargs__`` maps each deprecated
    name to the current one (decorators stack: ``@renamed_kwarg("seed")`` over
    ``@renamed_kwarg("rng")``).
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(
                        f"{func.__qualname__}() got both {old!r} and {new!r}; "
                        f"{old!r} is the deprecated name of {new!r}: pass only {new}="
                    )
                warnings.warn(
                    f"{func.__qualname__}(): {old}= is deprecated and will be removed after "
                    f"numnet {since}; use {new}= instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.__renamed_kwargs__ = {**getattr(func, "__renamed_kwargs__", {}), old: new}
        return wrapper

    return decorate

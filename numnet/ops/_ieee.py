"""IEEE special values without NumPy warnings: the ``primitive`` decorator the ops use.

PyTorch returns ``inf``, ``-inf`` and NaN silently (``log(0) = -inf``, ``1/0 = inf``,
``0·inf = NaN``, ``exp(1e3) = inf``); NumPy computes the same values but also emits a
``RuntimeWarning`` ("divide by zero", "invalid value", "overflow"). This decorator is
:func:`numnet.autograd.registry.primitive` with the op's forward run under
``np.errstate(all="ignore")``; the VJP closures run inside the engine's backward walk,
which holds one ``errstate(all="ignore")`` for the whole pass
(:func:`numnet.autograd.engine.backward`; hooks get the caller's settings back). So
numnet's ops give IEEE results silently, like PyTorch, whatever the global
``np.seterr`` state (the values are the same either way; only the warnings go). The
cost is one ``errstate`` per forward (about 0.7 µs) and one per backward pass.

Explicit warnings (``warnings.warn``, e.g. the variance's "degrees of freedom is <= 0")
are unaffected.
"""

from __future__ import annotations

import functools

import numpy as np

from numnet.autograd import registry as _registry


def _quiet(fn):
    @functools.wraps(fn)
    def forward(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return forward


def primitive(name: str, *, quiet: bool = True, **options):
    """:func:`numnet.autograd.registry.primitive` with a warning-free forward and VJP.

    ``quiet=False`` skips the ``errstate`` for ops that move values without computing
    new ones (reshape, indexing, concatenation...), which never warn.
    """
    register = _registry.primitive(name, **options)

    def decorate(fn):
        return register(_quiet(fn) if quiet else fn)

    return decorate

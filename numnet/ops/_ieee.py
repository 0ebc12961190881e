"""IEEE special values without NumPy warnings: the ``primitive`` decorator the ops use.

PyTorch returns ``inf``, ``-inf`` and NaN silently (``log(0) = -inf``, ``1/0 = inf``,
``0·inf = NaN``, ``exp(1e3) = inf``); NumPy computes the same values but also emits a
``RuntimeWarning`` ("divide by zero", "invalid value", "overflow"). This decorator is
:func:`numnet.autograd.registry.primitive` with the op's forward *and* the VJP closure it
returns run under ``np.errstate(all="ignore")``, so numnet's ops give IEEE results
silently, like PyTorch, whatever the global ``np.seterr`` state (the values are the same
either way; only the warnings go). The cost is one ``errstate`` per forward and per VJP
(about 1 µs each).

Explicit warnings (``warnings.warn``, e.g. the variance's "degrees of freedom is <= 0")
are unaffected.
"""

from __future__ import annotations

import functools

import numpy as np

from numnet.autograd import registry as _registry


def _quiet_vjp(vjp):
    def quiet_vjp(g, needs):
        with np.errstate(all="ignore"):
            return vjp(g, needs)

    return quiet_vjp


def _quiet(fn, differentiable: bool):
    @functools.wraps(fn)
    def forward(*args, **kwargs):
        with np.errstate(all="ignore"):
            out = fn(*args, **kwargs)
        if differentiable:
            y, vjp = out
            return y, _quiet_vjp(vjp)
        return out

    return forward


def primitive(name: str, **options):
    """:func:`numnet.autograd.registry.primitive` with a warning-free forward and VJP."""
    register = _registry.primitive(name, **options)
    differentiable = options.get("differentiable", True)

    def decorate(fn):
        return register(_quiet(fn, differentiable))

    return decorate

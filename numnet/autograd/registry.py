"""The primitive registry: every op's forward and vector-Jacobian product, side by side.

A *primitive* is a NumPy function that returns its output together with a closure
computing the vector-Jacobian product (VJP) ``δx_i = (∂y/∂x_i)ᵀ δy`` for each of its
inputs. Writing the two next to each other keeps each gradient rule beside the
formula it differentiates (seed 000 "Backward pass", seed 004 "reverse mode")::

    @primitive("exp", family="elementwise")
    def exp(x):
        y = np.exp(x)

        def vjp(g, needs):
            return (g * y,)  # d exp(x) = exp(x) dx

        return y, vjp

``vjp(g, needs)`` receives the adjoint ``g`` of the output (same shape as the output)
and a tuple of booleans saying which inputs need a gradient; it returns one array per
input (``None`` where not needed). Gradients may have the *broadcast* shape: the
engine sums them back to each input's shape in one place
(:func:`numnet.autograd.engine.unbroadcast`).

Non-differentiable primitives (comparisons, ``argmax``, ``sign``...) are registered
with ``differentiable=False`` and return only their output.

Saved tensors and version counters
----------------------------------
A VJP closure keeps the arrays it needs (``x`` for ``log``, ``y`` for ``exp``). If one
of them is overwritten in place before ``backward()`` (an optimizer step between two
backward passes through a retained graph, the GAN recipe), the gradient would silently
use the new values. Like PyTorch, numnet records the version of every tensor a VJP
saves and the engine raises ``RuntimeError`` when it has changed. A primitive says what
it saves: ``saves=`` the indices of the inputs its VJP reads (default: all of them;
``()`` for ``add``, ``sum``, ``reshape``...), ``saves_output=True`` if it reads its
own output. ``view=True`` marks ops whose output may share the first input's memory
(``reshape``, ``permute``, indexing): the output then shares that input's counter.

Calling the decorated function applies the primitive to :class:`~numnet.Tensor` s (or
array-likes), records the graph node when gradients are needed, and returns a Tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from numnet.autograd.engine import is_grad_enabled


@dataclass(frozen=True)
class Primitive:
    """A registered op: its name, family (the ``ops`` module) and NumPy forward."""

    name: str
    family: str
    forward: Callable[..., Any]
    differentiable: bool = True
    saves: tuple[int, ...] | None = None  # inputs the VJP reads (None: all)
    saves_output: bool = False  # the VJP reads the output
    view: bool = False  # the output may be a view of input 0


PRIMITIVES: dict[str, Primitive] = {}


def primitive(
    name: str,
    *,
    family: str,
    differentiable: bool = True,
    saves: tuple[int, ...] | None = None,
    saves_output: bool = False,
    view: bool = False,
):
    """Register ``fn`` as primitive ``name`` and return its Tensor-level wrapper.

    Positional arguments of the wrapper are the op's tensor inputs (Tensors, arrays or
    Python scalars); keyword arguments are passed to the forward unchanged. ``saves``,
    ``saves_output`` and ``view`` describe what the VJP keeps (see the module docstring).
    """

    def decorate(fn: Callable[..., Any]):
        if name in PRIMITIVES:
            raise RuntimeError(f"primitive {name!r} is registered twice")
        prim = Primitive(
            name, family, fn, differentiable, None if saves is None else tuple(saves),
            saves_output, view,
        )
        PRIMITIVES[name] = prim

        def apply_primitive(*inputs, **kwargs):
            return apply(prim, inputs, kwargs)

        apply_primitive.__name__ = fn.__name__
        apply_primitive.__qualname__ = fn.__qualname__
        apply_primitive.__doc__ = fn.__doc__
        apply_primitive.__module__ = fn.__module__
        apply_primitive.primitive = prim
        return apply_primitive

    return decorate


def _float_dtype(tensors) -> np.dtype | None:
    """The one floating dtype among ``tensors``; mixing float32 and float64 is an error."""
    found = None
    for t in tensors:
        dt = t.data.dtype
        if dt.kind == "f":
            if found is None:
                found = dt
            elif dt != found:
                raise TypeError(
                    f"mixed floating dtypes {found} and {dt}: numnet does not upcast "
                    "silently; convert explicitly with .float() or .double()"
                )
    return found


def _promote(x, dtype, promote_ints: bool):
    """A non-Tensor operand, or (elementwise ops) an integer Tensor, in the op's float dtype.

    NumPy would promote int64 with float32 to float64; numnet keeps the float dtype.
    """
    if not isinstance(x, _Tensor):
        return _Tensor._constant(x, dtype)
    if promote_ints and x.data.dtype.kind in "iu":
        return _Tensor._wrap(x.data.astype(dtype))
    return x


def apply(prim: Primitive, inputs: tuple, kwargs: dict):
    """Run ``prim`` on ``inputs`` and, when needed, record the graph node."""
    tensors = [x for x in inputs if isinstance(x, _Tensor)]
    dtype = _float_dtype(tensors)
    promote_ints = dtype is not None and prim.family in ("elementwise", "linalg")
    if len(tensors) != len(inputs) or promote_ints:
        inputs = tuple(_promote(x, dtype, promote_ints) for x in inputs)
    arrays = [x._data for x in inputs]
    record = prim.differentiable and is_grad_enabled() and any(x.requires_grad for x in inputs)
    if not prim.differentiable:
        return _Tensor._wrap(prim.forward(*arrays, **kwargs))
    out, vjp = prim.forward(*arrays, **kwargs)
    if dtype is None and getattr(out, "dtype", None) == np.float64:
        out = np.asarray(out, dtype=np.float32)  # integer inputs (int / int, mean): float32
    if not record:
        t = _Tensor._wrap(out)
    else:
        t = _Tensor._node(out, inputs, vjp, prim.name)
        saves = prim.saves
        if saves is None:
            t._saved = tuple((i, x._vc[0]) for i, x in enumerate(inputs))
        elif saves:
            t._saved = tuple((i, inputs[i]._vc[0]) for i in saves)
        if prim.saves_output:
            t._saved = (t._saved or ()) + ((-1, 0),)
    if prim.view and out.base is not None and np.may_share_memory(out, arrays[0]):
        t._vc = inputs[0]._vc  # a view: writes through either are writes to both
        if prim.saves_output and t._saved:  # (no view op saves its output today)
            t._saved = tuple((i, t._vc[0] if i == -1 else v) for i, v in t._saved)
    return t


from numnet.tensor import Tensor as _Tensor  # noqa: E402  (tensor.py imports the ops)

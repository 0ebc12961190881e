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

The VJP contract
----------------
``vjp(g, needs)`` receives the adjoint ``g`` of the output (an array of the output's
shape and dtype) and a tuple of booleans, one per input, saying which inputs need a
gradient. It returns a tuple with one entry per input:

* ``None`` where ``needs[i]`` is false (it may also compute the gradient anyway: the
  engine ignores it), or for an input that has no gradient (integer labels);
* otherwise an array (or a NumPy scalar, for 0-d results) whose shape is the input's
  shape or any shape that *broadcasts* to the output's shape as the input did: the
  engine sums it back to the input's shape in one place
  (:func:`numnet.autograd.engine.unbroadcast`). Its dtype should be the input's; the
  engine casts it if not.

What a VJP may return, and who owns it: a VJP **may** return the incoming adjoint
``g`` itself (``add``'s ``(g, g)``), its own output or one of its inputs' arrays (what
it saves: ``dot``'s ``δx = w`` when ``g == 1``), a view of any of these, or one array
for two inputs. It **must not** modify ``g`` or its saved arrays in place, because
``g`` may be another node's gradient, a hook's Tensor or the caller's array. In return
the engine never writes into such arrays: it accumulates the gradients reaching one
node *in place* (``acc += g_i``, which spares an allocation per addition on the hot
path) only into an array it owns, that is, a fresh array the VJP returned once (none
of the above) or one the engine allocated itself (by ``unbroadcast``, a dtype cast, or
the first out-of-place addition); any other array is copied by the first addition
into it (``_add_outgrads`` in :mod:`numnet.autograd.engine`). Any *other* array a VJP
returns is handed over to the engine: a VJP must not keep it (a cache reused by later
calls) unless it returns a view or a copy of it. ``tests/autograd/test_vjp_contract.py`` checks
these rules.

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

Integer and boolean inputs: one rule, PyTorch's type promotion
---------------------------------------------------------------
:func:`apply` computes every primitive in one *result dtype*, found as PyTorch finds it.
The operands taking part (``promote=`` indices, default all; plus the scalar keyword
arguments named by ``promote_kwargs=``, e.g. ``clamp``'s bounds) are ranked by category,
bool < integer < floating, and the highest wins: a floating Tensor gives its own dtype
(a Python float or float array next to integer or bool Tensors gives the default float
dtype, float32, PyTorch's ``torch.get_default_dtype()``); integers give int64; bool
stays bool. So ``int + int`` is int64, ``int * 0.5`` float32, ``True + True`` True,
``int + bool`` int64, and an int Tensor with a float Tensor takes the float Tensor's
dtype. Every taking-part operand is converted to the result dtype before the forward
runs (never silently to float64). Each primitive then declares with ``int_rule=`` what
it does when that dtype is integer or bool:

``"keep"`` (default)
    compute in int64 / bool: ``add``, ``mul``, ``maximum``, ``where``, ``sum`` (a sum
    of bools counts them, int64), ``amax``, the shape ops, the comparisons (bool out)...
``"float"``
    compute in the default float dtype: ``div`` (true division), ``exp``, ``log``,
    ``sqrt``, ``sigmoid``, ``tanh``, ``arctan``, ``logsumexp``.
``"no_bool"``
    like ``"keep"`` for integers, but a bool result dtype is refused: ``neg``, ``abs``,
    ``pow``, ``clamp``, ``relu``, the poolings,
    ``argmax``, ``argmin``, ``sign_step``.
``"no_bool_operand"``
    refuse any bool operand, whatever the result dtype (``sub``: PyTorch refuses
    ``x - mask`` and suggests ``^`` or ``logical_not``).
``"same_kind"``
    like ``"no_bool"``, and an integer or bool operand next to a floating one is
    refused instead of promoted: ``matmul``, ``linear``, ``conv2d`` (PyTorch: "mat1 and
    mat2 must have the same dtype"). Integer pixel values fed to a float32 layer would
    otherwise train silently on unscaled inputs.
``"raise"``
    floating-point only: ``mean``, ``softplus``, ``leaky_relu``, ``log_softmax`` and the
    losses (PyTorch has no integer kernel for them: ``mean()`` "could not infer output
    dtype").

These are PyTorch's outcomes (checked op by op against torch in
``tests/ops/test_dtype_sweep.py``). Where PyTorch raises (``RuntimeError`` or
``NotImplementedError``), numnet raises :class:`TypeError` naming the op and the dtype,
like its other dtype errors (mixed float32/float64, ``requires_grad`` on integers).
Known difference: numnet promotes an int Tensor mixed with a float Tensor in the
losses, where PyTorch requires equal dtypes.

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
    int_rule: str = "keep"  # integer/bool result dtype: keep, float, no_bool, ..., raise
    promote: tuple[int, ...] | None = None  # inputs taking part in type promotion (None: all)
    promote_kwargs: tuple[str, ...] = ()  # scalar keyword arguments taking part


INT_RULES = ("keep", "float", "no_bool", "no_bool_operand", "same_kind", "raise")
DEFAULT_FLOAT = np.dtype(np.float32)  # numnet's default float dtype (torch.get_default_dtype())

PRIMITIVES: dict[str, Primitive] = {}


def primitive(
    name: str,
    *,
    family: str,
    differentiable: bool = True,
    saves: tuple[int, ...] | None = None,
    saves_output: bool = False,
    view: bool = False,
    int_rule: str = "keep",
    promote: tuple[int, ...] | None = None,
    promote_kwargs: tuple[str, ...] = (),
):
    """Register ``fn`` as primitive ``name`` and return its Tensor-level wrapper.

    Positional arguments of the wrapper are the op's tensor inputs (Tensors, arrays or
    Python scalars); keyword arguments are passed to the forward unchanged. ``saves``,
    ``saves_output`` and ``view`` describe what the VJP keeps; ``int_rule``, ``promote``
    and ``promote_kwargs`` the result dtype (see the module docstring).
    """
    if int_rule not in INT_RULES:
        raise ValueError(f"primitive {name!r}: int_rule must be one of {INT_RULES}")

    def decorate(fn: Callable[..., Any]):
        _check_new_name(name, fn)
        if view and (saves != () or saves_output):
            # its output shares input 0's counter: a saved version would have to follow it
            raise ValueError(f"primitive {name!r}: a view op must save nothing (saves=())")
        prim = Primitive(
            name, family, fn, differentiable, None if saves is None else tuple(saves),
            saves_output, view, int_rule, None if promote is None else tuple(promote),
            tuple(promote_kwargs),
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


def _check_new_name(name: str, fn: Callable[..., Any]) -> None:
    """Refuse a second primitive under ``name`` unless it is the same one again.

    Registering the same forward again (the same function object, or the function of
    the same module and qualified name, as after ``importlib.reload`` of an ``ops``
    module) replaces the entry; a *different* function under a taken name raises
    ``RuntimeError``.
    """
    old = PRIMITIVES.get(name)
    if old is None or old.forward is fn:
        return
    same = (getattr(old.forward, "__module__", None), getattr(old.forward, "__qualname__", None))
    if same != (getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)):
        raise RuntimeError(
            f"primitive {name!r} is registered twice (by {same[0]}.{same[1]} and "
            f"{fn.__module__}.{fn.__qualname__})"
        )


def _float_dtype(tensors) -> np.dtype | None:
    """The one floating dtype among ``tensors``; mixing float32 and float64 is an error."""
    found = None
    for t in tensors:
        dt = t._data.dtype
        if dt.kind == "f":
            if found is None:
                found = dt
            elif dt != found:
                raise TypeError(
                    f"mixed floating dtypes {found} and {dt}: numnet does not upcast "
                    "silently; convert explicitly with .float() or .double()"
                )
    return found


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # PyTorch's categories: bool < integer < float


def _dtype(x) -> np.dtype:
    """The dtype of an operand (Tensor, array or Python scalar)."""
    return x._data.dtype if isinstance(x, _Tensor) else np.asarray(x).dtype


def _kind(x) -> str:
    """The dtype kind of an operand (Tensor, array or Python scalar)."""
    return _dtype(x).kind


def _refuse(prim: Primitive, what: str, hint: str) -> TypeError:
    return TypeError(
        f"{prim.name}(): {what} is not supported (PyTorch refuses it too); {hint}"
    )


def result_dtype(prim: Primitive, inputs: tuple, kwargs: dict, float_dtype) -> np.dtype | None:
    """The dtype ``prim`` computes in (PyTorch's promotion, then ``prim.int_rule``).

    ``float_dtype`` is the floating dtype of the Tensor operands (None if there is
    none). Returns None when no operand has a numeric kind (nothing to promote).
    Raises :class:`TypeError` where PyTorch raises.
    """
    if float_dtype is not None and prim.promote is None:
        if prim.int_rule not in ("no_bool_operand", "same_kind"):
            return float_dtype  # fast path: a floating Tensor among the operands decides
        if all(isinstance(x, _Tensor) and x._data.dtype.kind == "f" for x in inputs):
            return float_dtype  # (sub of floating Tensors: no bool operand possible)
    idx = range(len(inputs)) if prim.promote is None else prim.promote
    kinds = [_kind(inputs[i]) for i in idx if i < len(inputs)]
    kinds += [_kind(kwargs[k]) for k in prim.promote_kwargs if kwargs.get(k) is not None]
    cats = [_CATEGORY[k] for k in kinds if k in _CATEGORY]
    if not cats:
        return None
    rule = prim.int_rule
    if rule == "no_bool_operand" and "b" in kinds:
        raise _refuse(
            prim, "a bool operand",
            "use ^ or logical operations on masks, or convert with .long() or .float()",
        )
    category = max(cats)
    if rule == "same_kind" and category == 2 and min(cats) < 2:
        names = sorted(
            {str(_dtype(inputs[i])) for i in idx if i < len(inputs) and inputs[i] is not None}
        )
        raise _refuse(
            prim, f"mixing {' and '.join(names)} operands",
            "it needs one dtype: convert with .float() (and scale pixel values, e.g. "
            "x.float() / 255)",
        )
    if category == 2:
        return float_dtype if float_dtype is not None else DEFAULT_FLOAT
    dtype = np.dtype(np.int64) if category == 1 else np.dtype(np.bool_)
    if rule == "float":
        return DEFAULT_FLOAT
    if rule == "raise":
        raise _refuse(
            prim, f"input of dtype {dtype}",
            "it is defined for floating-point tensors only: convert with .float()",
        )
    if rule in ("no_bool", "same_kind") and category == 0:
        raise _refuse(prim, "bool input", "convert with .long() or .float()")
    return dtype


def _promote(x, dtype, takes_part: bool):
    """An operand as a Tensor, in the result dtype ``dtype`` if it takes part in promotion.

    Non-Tensor operands of the ops that take no part (``where``'s condition,
    ``cross_entropy``'s labels) keep their kind: float32, int64 or bool.
    """
    if not isinstance(x, _Tensor):
        floating = takes_part and dtype is not None and dtype.kind == "f"
        x = _Tensor._constant(x, dtype if floating else None)
    if takes_part and dtype is not None and x._data.dtype != dtype:
        return _Tensor._wrap(x._data.astype(dtype))  # never a Tensor requiring grad
    return x


def _same_float(inputs) -> np.dtype | None:
    """The dtype when every input is a Tensor of one floating dtype (the hot path's
    case, where promotion has nothing to do), else None."""
    dtype = None
    for x in inputs:
        if not isinstance(x, _Tensor):
            return None
        dt = x._data.dtype
        if dtype is None:
            if dt.kind != "f":
                return None
            dtype = dt
        elif dt != dtype:
            return None
    return dtype


def apply(prim: Primitive, inputs: tuple, kwargs: dict):
    """Run ``prim`` on ``inputs`` and, when needed, record the graph node."""
    dtype = _same_float(inputs) if prim.promote is None else None
    if dtype is None:  # operands to promote (scalars, arrays, integers, bools, mixes)
        tensors = [x for x in inputs if isinstance(x, _Tensor)]
        dtype = _float_dtype(tensors)
        target = result_dtype(prim, inputs, kwargs, dtype)
        part = range(len(inputs)) if prim.promote is None else prim.promote
        if len(tensors) != len(inputs) or any(
            i in part and x._data.dtype != target for i, x in enumerate(inputs)
        ):
            inputs = tuple(_promote(x, target, i in part) for i, x in enumerate(inputs))
    arrays = [x._data for x in inputs]
    if not prim.differentiable:
        return _Tensor._wrap(prim.forward(*arrays, **kwargs))
    record = False
    if is_grad_enabled():
        for x in inputs:
            if x.requires_grad:
                record = True
                break
    out, vjp = prim.forward(*arrays, **kwargs)
    if dtype is None and getattr(out, "dtype", None) == np.float64:
        out = np.asarray(out, dtype=DEFAULT_FLOAT)  # safety net: a forward computing in float64
    if not record:
        t = _Tensor._wrap(out)
    else:
        t = _Tensor._node(out, inputs, vjp, prim.name)
        saves = prim.saves
        if saves is None:
            t._saved = [(i, x._vc[0]) for i, x in enumerate(inputs)]
        elif saves:
            t._saved = [(i, inputs[i]._vc[0]) for i in saves]
        if prim.saves_output:
            t._saved = (t._saved or []) + [(-1, 0)]
    if prim.view and out.base is not None and np.may_share_memory(out, arrays[0]):
        t._vc = inputs[0]._vc  # a view: writes through either are writes to both
    return t


from numnet.tensor import Tensor as _Tensor  # noqa: E402  (tensor.py imports the ops)

"""``numnet.Tensor``: an ndarray that remembers how it was computed.

A Tensor holds ``data`` (a NumPy array, float32 unless asked otherwise), ``grad``
(an array of the same shape, or ``None``), ``requires_grad``, its ``_parents`` (a
tuple) and the VJP that pushes a gradient back to them. Arithmetic on Tensors calls
the primitives in :mod:`numnet.ops`; ``loss.backward()`` runs
:func:`numnet.autograd.engine.backward`.

Dtypes: floating data is stored as float32 by default (``dtype=numnet.float64`` on
request); integer and boolean data keep their kind (labels, masks). Python scalars
and NumPy arrays combined with a Tensor take the Tensor's float dtype. Mixing float32
and float64 Tensors raises ``TypeError`` instead of upcasting silently.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np

from numnet._device import CPU as _CPU
from numnet._device import _cpu_only
from numnet._device import device as _device
from numnet._device import parse_to as _parse_to
from numnet.autograd.engine import backward as _backward
from numnet.autograd.engine import is_grad_enabled

if TYPE_CHECKING:
    from numnet.utils.hooks import RemovableHandle, _HookList, _Hooks

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _to_array(data, dtype=None) -> np.ndarray:
    """Floating data -> float32 (unless ``dtype``), integers -> int64, booleans kept."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "b":
        return arr
    raise TypeError(f"cannot make a Tensor from data of dtype {arr.dtype}")


def _forward(op: str):
    """A method calling ``numnet.ops.<op>(self, other)``."""

    def method(self, other):
        return getattr(_ops, op)(self, other)

    method.__name__ = op
    return method


def _binary(op: str):
    """``(method, reflected method)``: ``numnet.ops.<op>`` on ``(self, other)`` and on
    ``(other, self)`` (``2 - x`` calls ``x.__rsub__(2)``, which is ``ops.sub(2, x)``)."""

    def reflected(self, other):
        return getattr(_ops, op)(other, self)

    reflected.__name__ = f"r{op}"
    return _forward(op), reflected


def _unary(op: str):
    """A method calling ``numnet.ops.<op>(self)``."""

    def method(self):
        return getattr(_ops, op)(self)

    method.__name__ = op
    return method


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation.

    Parameters
    ----------
    data : array_like
        Values. Floating data becomes float32 unless ``dtype`` says otherwise
        (a float64 ndarray is converted to float32 too: pass ``dtype=numnet.float64``
        to keep double precision).
    dtype : numpy dtype, optional
    requires_grad : bool
        Record operations on this tensor so that ``backward()`` fills ``.grad``.
    """

    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "_parents",
        "_vjp",
        "_op",
        "_retains_grad",
        "_hooks",
        "_vc",
        "_saved",
        "__weakref__",
    )
    __array_ufunc__ = None  # make ndarray (op) Tensor defer to Tensor's reflected ops
    __array_priority__ = 1000

    def __init__(self, data, *, dtype=None, requires_grad: bool = False) -> None:
        self._data = _to_array(data, dtype)
        # A Tensor made from a Tensor without a copy shares its memory, hence its counter.
        shares = isinstance(data, Tensor) and self._data is data._data
        self._vc = data._vc if shares else [0]
        self._saved = None
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients (got dtype {self._data.dtype})"
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._vjp = None
        self._op: str | None = None
        self._retains_grad = False
        self._hooks: _Hooks | None = None

    # -- construction helpers used by the registry -------------------------------------
    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        t = cls.__new__(cls)
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._vc = [0]
        t._saved = None
        t.grad = None
        t.requires_grad = False
        t._parents = ()
        t._vjp = None
        t._op = None
        t._retains_grad = False
        t._hooks = None
        return t

    @classmethod
    def _node(cls, array: np.ndarray, parents: tuple, vjp, op: str) -> Tensor:
        t = cls._wrap(array)
        t.requires_grad = True
        t._parents = tuple(parents)
        t._vjp = vjp
        t._op = op
        return t

    @classmethod
    def _constant(cls, value, dtype) -> Tensor:
        """A non-Tensor operand (scalar or array) of an op whose float dtype is ``dtype``.

        Numbers take the op's float dtype, so ``x * 2`` and ``x * np.float64(2)`` stay
        float32 for a float32 ``x``; booleans keep their kind (masks).
        """
        arr = np.asarray(value)
        if arr.dtype.kind in "fiu":
            if dtype is not None:
                arr = arr.astype(dtype, copy=False)
            elif arr.dtype.kind == "f":
                arr = arr.astype(np.float32, copy=False)
            else:
                arr = arr.astype(np.int64, copy=False)
        elif arr.dtype.kind != "b":
            raise TypeError(f"unsupported operand of type {type(value).__name__}")
        return cls._wrap(arr)

    # -- data and its version counter ------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The values (a NumPy array; shared memory, not a copy).

        Assigning ``t.data = array`` (and augmented assignment such as
        ``p.data -= lr * p.grad``) counts as an in-place write: it bumps the tensor's
        version (see :attr:`_version`). Writing *into* the array (``t.data[...] = v``)
        goes around numnet, as in PyTorch, and is not tracked: use ``t[...] = v``,
        ``t.copy_(v)`` or ``t.fill_(v)`` under :class:`numnet.no_grad` instead.
        """
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value if isinstance(value, np.ndarray) else np.asarray(value)
        self._vc[0] += 1

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen (``torch.Tensor._version``).

        Every in-place write made through numnet bumps it: optimizer steps,
        ``load_state_dict``, ``nn.init`` on an existing tensor, the in-place methods
        (``zero_``, ``fill_``, ``copy_``, ``add_``, ``mul_``..., ``t[...] = v``, ``+=``)
        and ``t.data = ...``. Views of a tensor (``reshape``, ``permute``, basic
        indexing, ``detach()``) share their base's counter. A recorded operation
        remembers the versions of the tensors its backward pass needs; ``backward()``
        raises ``RuntimeError`` if one has changed since (the gradient would otherwise
        be computed from the new values).
        """
        return self._vc[0]

    def _bump_version(self) -> None:
        """Record an in-place write into this tensor's memory (see :attr:`_version`)."""
        self._vc[0] += 1

    # -- basic properties ------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded op."""
        return self._vjp is None

    @property
    def grad_fn(self) -> str | None:
        """Name of the primitive that produced this tensor (``None`` for leaves)."""
        return self._op

    def size(self, dim: int | None = None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype != np.float32:
            extra += f", dtype={self._data.dtype}"
        if self._op is not None:
            extra += f", grad_fn={self._op}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data)

    __hash__ = object.__hash__

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, like ``torch.Tensor.numpy``)."""
        return self._data

    def detach(self) -> Tensor:
        """A tensor sharing ``data`` (and its version counter) but cut from the graph."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def clone(self) -> Tensor:
        """A copy, differentiable (``δself = δclone``); saves nothing for backward."""
        return (
            _ops.cast(self, dtype=self._data.dtype)
            if self.requires_grad
            else Tensor._wrap(self._data.copy())
        )

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError("only floating-point tensors can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after ``backward()``."""
        self._retains_grad = True

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient with respect to this tensor is computed.

        ``grad`` is a :class:`Tensor` holding the complete adjoint ``δself`` of this
        backward pass (all contributions summed). The hook may return ``None`` or a
        replacement gradient of the same shape (a Tensor or an array), which is what
        the rest of the backward pass then sees (for a leaf: what is accumulated into
        ``.grad``). Hooks run in the order they were registered, each on the previous
        one's result. Do not modify ``grad`` in place. Returns a handle whose
        ``remove()`` unregisters the hook. (``torch.Tensor.register_hook``.)
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return self._hook_list("grad").add(hook)

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        """Call ``hook(self)`` on a leaf once its ``.grad`` is final for this backward pass.

        The engine visits each leaf right after the last operation that uses it, so the
        hook runs while the rest of the backward pass is still to come: this is the
        place for an optimizer step per parameter ("optimizer in backward"), while the
        gradient is still in the cache, and for ``p.grad = None`` to free it early.
        Returns a handle whose ``remove()`` unregisters the hook.
        (``torch.Tensor.register_post_accumulate_grad_hook``.)
        """
        if not self.is_leaf:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return self._hook_list("post").add(hook)

    def _hook_list(self, kind: str) -> _HookList:
        if self._hooks is None:
            from numnet.utils.hooks import _Hooks  # on first use: numnet.utils loads lazily

            self._hooks = _Hooks()
        return getattr(self._hooks, kind)

    # Copies (copy.deepcopy, pickle) leave the hooks behind, as in PyTorch: a hook belongs
    # to the tensor it was registered on (a deep-copied model must not run the original's
    # optimizer-in-backward hooks), and a lambda hook would make the tensor unpicklable.
    def __getstate__(self):
        state = {name: getattr(self, name) for name in _STATE_SLOTS}
        return None, state

    def __setstate__(self, state) -> None:
        _, slots = state
        for name, value in slots.items():
            setattr(self, name, value)
        self._hooks = None

    def astype(self, dtype) -> Tensor:
        """Convert the dtype (differentiable between float dtypes)."""
        return _ops.cast(self, dtype=np.dtype(dtype))

    def to(self, *args, **kwargs) -> Tensor:
        """This tensor with another dtype (``torch.Tensor.to``); numnet runs on the CPU.

        The call forms are PyTorch's:

        * ``to(dtype, non_blocking=False, copy=False)``
        * ``to(device=None, dtype=None, non_blocking=False, copy=False)``
        * ``to(other, non_blocking=False, copy=False)``: ``other``'s dtype and device.

        Parameters
        ----------
        *args
            One of the forms above, positionally: ``dtype``; ``device``;
            ``device, dtype``; or ``other`` (a Tensor), then ``non_blocking`` and
            ``copy``.
        **kwargs
            ``dtype`` (numpy dtype or torch.dtype): the new dtype; the conversion is
            differentiable between float dtypes. ``device`` (str, numnet.device or
            torch.device): must be the CPU (``'cpu'``, ``'cpu:0'``). ``copy`` (bool,
            default False): return a new tensor even when nothing changes.
            ``non_blocking`` (bool) and ``memory_format`` are accepted and ignored.

        Returns
        -------
        Tensor
            ``self`` when the dtype is already right and ``copy`` is false (as in
            PyTorch; numnet has one CPU, so ``'cpu:0'`` returns ``self`` too, where
            PyTorch copies), else a new tensor of the same shape.

        Raises
        ------
        RuntimeError
            For any device other than the CPU (``'cuda'``, ``'mps'``...): numnet runs on
            the CPU only.
        TypeError
            If the arguments fit none of the forms above.
        """
        dtype, copy = _parse_to(args, kwargs, tensor_type=Tensor)
        if dtype is None or dtype == self._data.dtype:
            return self.clone() if copy else self
        return self.astype(dtype)

    @property
    def device(self) -> _device:
        """Where the data lives: always ``numnet.device('cpu')``."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        """False: numnet runs on the CPU only."""
        return False

    def cpu(self) -> Tensor:
        """This tensor (``torch.Tensor.cpu``): numnet's tensors are always on the CPU."""
        return self

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        """Raise ``RuntimeError``: numnet runs on the CPU only (``torch.Tensor.cuda``)."""
        raise _cpu_only("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return Tensor._wrap(self._data.astype(np.int64))

    # -- in-place operations (PyTorch's trailing-underscore methods) ----------------------
    # They write into ``data`` and bump the version counter. As in PyTorch, an in-place
    # write into a leaf that requires grad raises while gradients are recorded (wrap
    # updates in ``numnet.no_grad()``). Unlike PyTorch, numnet does not record in-place
    # operations in the graph: on a non-leaf that requires grad they raise too (the
    # augmented assignments ``+=``... fall back to the out-of-place operation there).
    def _check_inplace(self, what: str) -> None:
        if self.requires_grad and is_grad_enabled():
            if self._vjp is None:
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place "
                    f"operation ({what}): wrap it in numnet.no_grad(), or use the "
                    "out-of-place form"
                )
            raise RuntimeError(
                f"in-place operation {what} on a tensor that is part of a recorded graph "
                "(numnet does not record in-place operations): use the out-of-place form"
            )

    def _write(self, what: str, fn, operand=None) -> Tensor:
        self._check_inplace(what)
        if isinstance(operand, Tensor) and operand.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"in-place operation {what} with an operand that requires grad: numnet does "
                "not record in-place operations (the gradient would be lost); use the "
                "out-of-place form, e.g. x = x + y, or wrap the write in numnet.no_grad()"
            )
        fn(self._data)
        self._vc[0] += 1
        return self

    def _operand(self, other) -> np.ndarray:
        return other._data if isinstance(other, Tensor) else np.asarray(other)

    def zero_(self) -> Tensor:
        """Fill with zeros, in place."""
        return self._write("zero_()", lambda a: a.fill(0))

    def fill_(self, value) -> Tensor:
        """Fill with ``value``, in place."""
        return self._write("fill_()", lambda a: a.fill(self._operand(value)), value)

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) in, in place."""
        s = self._operand(src)
        return self._write("copy_()", lambda a: np.copyto(a, s, casting="unsafe"), src)

    def add_(self, other, *, alpha=1) -> Tensor:
        """``self += alpha * other``, in place (``other`` broadcast to this shape)."""
        o = self._operand(other)
        if alpha != 1:
            o = o * alpha
        return self._write("add_()", lambda a: np.add(a, o, out=a, casting="same_kind"), other)

    def sub_(self, other, *, alpha=1) -> Tensor:
        """``self -= alpha * other``, in place."""
        o = self._operand(other)
        if self._data.dtype.kind == "b" or o.dtype.kind == "b":
            raise TypeError(
                "sub_(): subtraction with a bool tensor is not supported (PyTorch refuses it "
                "too); use logical operations on masks, or convert with .long() or .float()"
            )
        if alpha != 1:
            o = o * alpha
        return self._write("sub_()", lambda a: np.subtract(a, o, out=a, casting="same_kind"), other)

    def mul_(self, other) -> Tensor:
        """``self *= other``, in place."""
        o = self._operand(other)
        return self._write("mul_()", lambda a: np.multiply(a, o, out=a, casting="same_kind"), other)

    def div_(self, other) -> Tensor:
        """``self /= other``, in place (floating tensors only)."""
        o = self._operand(other)
        return self._write("div_()", lambda a: np.divide(a, o, out=a, casting="same_kind"), other)

    def clamp_(self, min=None, max=None) -> Tensor:
        """Clip to ``[min, max]``, in place."""
        if min is None and max is None:
            raise ValueError("clamp_() needs at least one of min and max")
        return self._write("clamp_()", lambda a: np.clip(a, min, max, out=a))

    def __setitem__(self, index, value) -> None:
        """``t[index] = value``, in place (like ``torch.Tensor.__setitem__``)."""
        if isinstance(index, Tensor):
            index = index._data
        v = self._operand(value)
        self._write("__setitem__", lambda a: a.__setitem__(index, v), value)

    def _inplace_or_new(self, name: str, op, other):
        # In place when nothing is recorded (a leaf that requires grad raises, as in
        # PyTorch); out of place when the result must be recorded (a non-leaf, or an
        # operand that requires grad): the same values and gradients as PyTorch's
        # recorded in-place op, but the name is rebound instead of the memory written.
        if is_grad_enabled() and (
            (self.requires_grad and self._vjp is not None)
            or (not self.requires_grad and isinstance(other, Tensor) and other.requires_grad)
        ):
            return op(self, other)
        return getattr(self, name)(other)

    def __iadd__(self, other):
        return self._inplace_or_new("add_", _ops.add, other)

    def __isub__(self, other):
        return self._inplace_or_new("sub_", _ops.sub, other)

    def __imul__(self, other):
        return self._inplace_or_new("mul_", _ops.mul, other)

    def __itruediv__(self, other):
        return self._inplace_or_new("div_", _ops.div, other)

    # -- autodiff ------------------------------------------------------------------------
    def backward(self, gradient=None, *, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Gradients accumulate across calls (as in PyTorch); the graph is freed after
        the call, so a second ``backward`` through it raises ``RuntimeError`` unless
        ``retain_graph=True`` was passed the first time.
        """
        _backward(self, gradient, retain_graph=retain_graph)

    # -- operators: each calls the primitive of numnet.ops named in the table --------------
    __add__, __radd__ = _binary("add")
    __sub__, __rsub__ = _binary("sub")
    __mul__, __rmul__ = _binary("mul")
    __truediv__, __rtruediv__ = _binary("div")
    __pow__, __rpow__ = _binary("pow")
    __matmul__, __rmatmul__ = _binary("matmul")
    __lt__, __le__, __gt__, __ge__ = _forward("lt"), _forward("le"), _forward("gt"), _forward("ge")
    __eq__, __ne__ = _forward("eq"), _forward("ne")  # elementwise, like NumPy and PyTorch
    __neg__, __abs__ = _unary("neg"), _unary("abs")

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return _ops.getitem(self, index=index)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # -- methods mirroring torch.Tensor --------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False):
        return _ops.sum(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        return _ops.mean(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, keepdim: bool = False, unbiased: bool = True):
        """Variance; NaN (with a UserWarning) if ``n - unbiased ≤ 0``, as in PyTorch."""
        return _ops.var(self, dim=dim, keepdim=keepdim, unbiased=unbiased)

    def std(self, dim=None, keepdim: bool = False, unbiased: bool = True):
        """Standard deviation; NaN (with a UserWarning) if ``n - unbiased ≤ 0``."""
        return _ops.std(self, dim=dim, keepdim=keepdim, unbiased=unbiased)

    def max(self, dim=None, keepdim: bool = False):
        """Largest value; with ``dim``, a ``(values, indices)`` pair as in PyTorch.

        Without ``dim``: a 0-d Tensor, and ``torch.max(input)``'s gradient: ``δy / count``
        on each of the ``count`` tied maxima (the NaN entries if the maximum is NaN) and
        exactly 0 elsewhere, for any adjoint (``ops.amax(x, masked_fill=True)``; plain
        ``amax`` multiplies, as ``torch.amax``). ``ValueError`` for an empty tensor
        (PyTorch: ``RuntimeError``). With ``dim`` the gradient goes to the returned index
        only (like ``torch.max(x, dim)``).
        """
        if dim is None:
            return _ops.amax(self, masked_fill=True)
        return self._pick(_ops.argmax(self, dim=dim, keepdim=True), dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        """Smallest value; with ``dim``, a ``(values, indices)`` pair as in PyTorch.

        The gradients are :meth:`max`'s, at the minima.
        """
        if dim is None:
            return _ops.amin(self, masked_fill=True)
        return self._pick(_ops.argmin(self, dim=dim, keepdim=True), dim, keepdim)

    def _pick(self, indices: Tensor, dim: int, keepdim: bool) -> MaxMin:
        """Entries at ``indices`` (keepdim shape) along ``dim``, and the indices."""
        dim = dim % self.ndim
        grid = list(np.indices(indices.shape, sparse=True))
        grid[dim] = indices.data
        values = _ops.getitem(self, index=tuple(grid))
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return MaxMin(values, indices)

    def amax(self, dim=None, keepdim: bool = False):
        return _ops.amax(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=None, keepdim: bool = False):
        return _ops.amin(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return _ops.argmax(self, dim=dim, keepdim=keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _ops.argmin(self, dim=dim, keepdim=keepdim)

    def logsumexp(self, dim, keepdim: bool = False):
        return _ops.logsumexp(self, dim=dim, keepdim=keepdim)

    def reshape(self, *shape):
        return _ops.reshape(self, shape=_shape_arg(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _ops.permute(self, dims=tuple(axes))

    def permute(self, *dims):
        return _ops.permute(self, dims=_shape_arg(dims))

    def t(self):
        """Transpose a 2-D tensor (``torch.Tensor.t``); 0-D and 1-D tensors come back as is.

        Raises
        ------
        RuntimeError
            If the tensor has more than 2 dimensions (as in PyTorch; use
            :meth:`transpose` or :meth:`permute`).
        """
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.T if self.ndim == 2 else self

    @property
    def T(self):
        return _ops.permute(self, dims=tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: int):
        return _ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def expand(self, *shape):
        return _ops.broadcast_to(self, shape=_shape_arg(shape))

    exp, log, sqrt, abs = _unary("exp"), _unary("log"), _unary("sqrt"), _unary("abs")
    sigmoid, tanh, relu = _unary("sigmoid"), _unary("tanh"), _unary("relu")
    pow, matmul = _forward("pow"), _forward("matmul")

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min=min, max=max)

    clip = clamp

    def softmax(self, dim: int = -1):
        return _ops.softmax(self, dim=dim)

    def log_softmax(self, dim: int = -1):
        return _ops.log_softmax(self, dim=dim)


def _shape_arg(args) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(int(a) for a in args[0])
    return tuple(int(a) for a in args)


from numnet import ops as _ops  # noqa: E402  (ops import Tensor from this module)

# The slots that copy.deepcopy and pickle carry over (not the hooks, not __weakref__).
_STATE_SLOTS = tuple(n for n in Tensor.__slots__ if n not in ("_hooks", "__weakref__"))


def __getattr__(name: str):
    """``numnet.tensor.RemovableHandle``, which lives in :mod:`numnet.utils.hooks`
    (imported on first use, so that ``import numnet`` does not load ``numnet.utils``)."""
    if name == "RemovableHandle":
        from numnet.utils.hooks import RemovableHandle

        return RemovableHandle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

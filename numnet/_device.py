"""``numnet.device``: where a tensor lives. numnet runs on the CPU only.

PyTorch code moves models and tensors between devices (``model.to("cuda")``,
``x.cpu()``, ``torch.zeros(3, device=dev)``). numnet keeps those calls working for the
CPU, where everything already is, so such code runs unchanged with ``device="cpu"``;
any other device raises ``RuntimeError`` saying that numnet runs on the CPU only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["device"]

_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "mtia", "hpu", "vulkan")


def _cpu_only(what: str) -> RuntimeError:
    return RuntimeError(
        f"numnet runs on the CPU only: device {what!r} is not available (use 'cpu', or leave "
        "the device out)"
    )


class device:  # noqa: N801  (torch.device's name)
    """A device (``torch.device``); the only one numnet has is ``'cpu'``.

    Parameters
    ----------
    type : str or device
        ``'cpu'``, or ``'cpu:0'`` (an index after the colon); a ``numnet.device`` or a
        ``torch.device`` is accepted too.
    index : int, optional
        Device ordinal; for the CPU only ``0`` (or ``None``) makes sense.

    Attributes
    ----------
    type : str
        ``'cpu'``.
    index : int or None
        The index given (``'cpu:0'`` → 0), else ``None``.

    Raises
    ------
    RuntimeError
        For any device other than the CPU (``'cuda'``, ``'mps'``, ``'cuda:0'``, a CUDA
        ``torch.device``...): numnet runs on the CPU only. Unlike ``torch.device``,
        which can name a device the machine lacks, ``numnet.device('cuda')`` raises
        at construction. Also for a malformed string (``'cpu:x'``), as in PyTorch.
    TypeError
        If ``type`` is not a string or a device.

    Examples
    --------
    >>> numnet.device("cpu").type
    'cpu'
    >>> numnet.device("cpu:0")
    device(type='cpu', index=0)
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            dev_type, dev_index = type.type, type.index
        elif _is_torch_device(type):
            dev_type, dev_index = type.type, type.index
        elif isinstance(type, str):
            dev_type, _, rest = type.strip().partition(":")
            dev_index = None
            if rest:
                if not rest.isdigit():
                    raise RuntimeError(f"invalid device string: {type!r}")
                dev_index = int(rest)
        else:
            raise TypeError(
                f"device() expects a string such as 'cpu' or a device, got {_type_name(type)}"
            )
        if index is not None:
            if dev_index is not None:
                raise RuntimeError(
                    f"device string {type!r} already has an index; do not pass index={index}"
                )
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
                raise RuntimeError(f"device index must be a non-negative int, got {index!r}")
            dev_index = int(index)
        if dev_type != "cpu":
            shown = dev_type if dev_index is None else f"{dev_type}:{dev_index}"
            if dev_type not in _KNOWN_TYPES:
                raise RuntimeError(
                    f"unknown device type {dev_type!r} in {shown!r}: numnet runs on the CPU "
                    "only (use 'cpu')"
                )
            raise _cpu_only(shown)
        self._type, self._index = dev_type, dev_index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, device):
            return (self._type, self._index) == (other._type, other._index)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return device, (str(self),)


def _type_name(obj) -> str:
    return type(obj).__name__


def _is_torch_device(obj) -> bool:
    t = type(obj)
    return t.__name__ == "device" and t.__module__.split(".")[0] == "torch"


def _is_torch_dtype(obj) -> bool:
    t = type(obj)
    return t.__name__ == "dtype" and t.__module__.split(".")[0] == "torch"


CPU = device("cpu")


def is_device_like(obj) -> bool:
    """True for what ``.to()`` reads as a device: a ``numnet.device``, a ``torch.device``,
    or a string that is not a dtype name (``'cpu'``, ``'cuda:0'``)."""
    if isinstance(obj, device) or _is_torch_device(obj):
        return True
    if isinstance(obj, str):
        try:
            np.dtype(obj)
        except TypeError:
            return True
        return False
    return False


def check_device(dev) -> device:
    """``dev`` as a :class:`device` (``None`` → the CPU); RuntimeError unless the CPU."""
    if dev is None:
        return CPU
    return device(dev)


def as_dtype(dtype) -> np.dtype:
    """A NumPy dtype from a NumPy dtype, a type, a name, or a ``torch.dtype``.

    Raises
    ------
    TypeError
        If ``dtype`` names no NumPy dtype (e.g. ``torch.bfloat16``).
    """
    if _is_torch_dtype(dtype):
        name = str(dtype).rpartition(".")[2]
        try:
            return np.dtype({"bool": "bool", "half": "float16"}.get(name, name))
        except TypeError:
            raise TypeError(f"{dtype} has no NumPy equivalent") from None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype, got {dtype!r}") from None


def parse_to(args, kwargs, *, tensor_type) -> tuple[np.dtype | None, bool]:
    """Read the arguments of ``Tensor.to`` / ``Module.to`` as PyTorch does.

    Forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its
    dtype), each followed by ``non_blocking`` and ``copy``, and the keywords ``dtype``,
    ``device``, ``non_blocking``, ``copy`` (``memory_format`` is accepted and ignored).

    Returns
    -------
    dtype : numpy.dtype or None
        The dtype asked for, ``None`` if none.
    copy : bool

    Raises
    ------
    RuntimeError
        If a device other than the CPU is named.
    TypeError
        If the arguments fit none of the forms.
    """
    args = list(args)
    kwargs = dict(kwargs)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword argument(s) {sorted(kwargs)}")
    if args:
        first = args.pop(0)
        if isinstance(first, tensor_type):
            if dev is not None or dtype is not None:
                raise TypeError("to(other) takes no device or dtype besides the tensor")
            dtype = first.dtype
        elif first is None or is_device_like(first):
            if dev is not None:
                raise TypeError("to() got the device twice")
            dev = first
            if args and not isinstance(args[0], bool):
                if dtype is not None:
                    raise TypeError("to() got the dtype twice")
                dtype = args.pop(0)
        else:
            if dtype is not None:
                raise TypeError("to() got the dtype twice")
            dtype = first
        if args:
            non_blocking = args.pop(0)
        if args:
            copy = args.pop(0)
        if args:
            raise TypeError(f"to() got {len(args)} too many positional arguments")
    check_device(dev)
    del non_blocking  # nothing is asynchronous on the CPU
    return (None if dtype is None else as_dtype(dtype)), bool(copy)

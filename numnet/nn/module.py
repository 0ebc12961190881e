"""``Module``: a plain container whose parameters are found by walking its attributes.

Parameters and sub-modules are discovered from the instance's attributes in the
order they were assigned, descending into lists, tuples and dicts, so names are
deterministic: ``layers.0.weight``, ``encoder.bias``. ``Sequential`` names its
children ``0``, ``1``, ... exactly like PyTorch, so state dicts are interchangeable.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from numnet.nn.parameter import Parameter

MODULE_CLASSES: dict[str, type] = {}


class StateDictError(RuntimeError, KeyError, ValueError):
    """:meth:`Module.load_state_dict` failed: keys, shapes or values do not fit the model.

    A ``RuntimeError``, as PyTorch raises; also a ``KeyError`` and a ``ValueError``
    (what numnet raised for missing keys and for shapes before), so that older
    ``except`` clauses still catch it.
    """

    def __str__(self) -> str:  # KeyError would show the message quoted, on one line
        return str(self.args[0]) if self.args else ""


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` did not match (``torch``'s ``_IncompatibleKeys``).

    Attributes
    ----------
    missing_keys : list of str
        Names of parameters the state dict had no value for.
    unexpected_keys : list of str
        Keys of the state dict that name no parameter.
    """

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )

    __str__ = __repr__


class Module:
    """Base class of every layer and model.

    Subclasses set parameters and sub-modules as attributes in ``__init__`` and
    implement ``forward``; calling the module calls ``forward``.

    The constructor arguments are remembered (``_init_args``), so a model built from
    numnet's layers can be described as a JSON config (:func:`numnet.nn.config.to_config`)
    and rebuilt without pickling anything.
    """

    training: bool = True

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        MODULE_CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj._init_args = (args, kwargs)
        return obj

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- discovery --------------------------------------------------------------------
    def _attribute_items(self) -> Iterator[tuple[str, object]]:
        """(name, value) for Parameters and Modules in attributes, lists, tuples and dicts."""
        for name, value in vars(self).items():
            if name.startswith("_"):  # private state (caches, generators) is not walked
                continue
            yield from _flatten_attribute(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names."""
        for name, value in self._attribute_items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all sub-modules, depth first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, value in self._attribute_items():
            if isinstance(value, Parameter):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """All parameters with deterministic dotted names (shared ones listed once)."""
        seen: set[int] = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._own_parameters():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def num_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.data.size for p in self.parameters())

    # -- modes and gradients --------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active) on this module and all sub-modules."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Convert every parameter to a dtype, in place (``torch.nn.Module.to``).

        Forms (as in PyTorch): ``to(dtype)`` (e.g. ``numnet.float64`` for gradcheck),
        ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype),
        ``to(device=..., dtype=...)``; ``non_blocking`` is accepted and ignored.

        Parameters
        ----------
        dtype : numpy dtype or torch.dtype, optional
            A floating dtype. Parameters already of that dtype are left alone; the
            others get converted data (a version bump) and their ``.grad``, if any,
            converted too (as in PyTorch).
        device : str, numnet.device or torch.device, optional
            Must be the CPU (``'cpu'``, ``'cpu:0'``): numnet runs on the CPU only.

        Returns
        -------
        Module
            ``self``.

        Raises
        ------
        TypeError
            If ``dtype`` is not floating point (as PyTorch), or the arguments fit none
            of the forms.
        RuntimeError
            For any device other than the CPU (``'cuda'``, ``'mps'``...).
        """
        from numnet._device import parse_to
        from numnet.tensor import Tensor

        dtype, _ = parse_to(args, kwargs, tensor_type=Tensor)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"parameters must stay floating point, got {dtype}")
        for p in self.parameters():
            if p.data.dtype != dtype:
                p.data = p.data.astype(dtype)
                if p.grad is not None:
                    p.grad = p.grad.astype(dtype)
        return self

    def cpu(self) -> Module:
        """``self`` (``torch.nn.Module.cpu``): numnet's modules are always on the CPU."""
        return self

    def cuda(self, device=None) -> Module:
        """Raise ``RuntimeError``: numnet runs on the CPU only (``torch.nn.Module.cuda``)."""
        from numnet._device import _cpu_only

        raise _cpu_only("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module and this one (e.g. custom init)."""
        for m in list(self.modules())[::-1]:
            fn(m)
        return self

    # -- state -------------------------------------------------------------------------
    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every (name, parameter) pair, shared parameters and modules under every name.

        The walk is ``state_dict``'s (PyTorch's): a module's own parameters, then its
        children depth first, without removing duplicates; a module that contains
        itself (a cycle) is not entered twice on one path.
        """

        def walk(name: str, module: Module, path: frozenset) -> Iterator[tuple[str, Parameter]]:
            path = path | {id(module)}
            for attr, value in module._attribute_items():
                if isinstance(value, Parameter):
                    yield (f"{name}.{attr}" if name else attr), value
            for attr, child in module.named_children():
                if id(child) not in path:
                    yield from walk(f"{name}.{attr}" if name else attr, child, path)

        yield from walk(prefix, self, frozenset())

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of all parameters, by name (PyTorch names and ``(out, in)`` layouts).

        Returns
        -------
        OrderedDict[str, numpy.ndarray]
            One entry per name, in PyTorch's order. As in PyTorch, a parameter shared
            by several modules (tied weights) is listed under *every* name, all names
            holding the same array object (one copy per parameter), whereas
            :meth:`named_parameters` lists it once. The arrays are copies of the
            parameters: training on does not change them.
        """
        copies: dict[int, np.ndarray] = {}
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, p in self._state_items():
            if id(p) not in copies:
                copies[id(p)] = p.data.copy()
            out[name] = copies[id(p)]
        return out

    def shared_parameter_names(self) -> dict[str, list[str]]:
        """Names of the parameters that appear under more than one name (tied weights).

        Returns
        -------
        dict[str, list[str]]
            ``{first name: [every name, first included]}`` for each shared parameter,
            the first name being the one :meth:`named_parameters` uses; empty when
            nothing is shared.
        """
        names: dict[int, list[str]] = {}
        for name, p in self._state_items():
            names.setdefault(id(p), []).append(name)
        return {group[0]: group for group in names.values() if len(group) > 1}

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters, checking names and shapes.

        Parameters
        ----------
        state_dict : mapping of str to array_like or Tensor
            Values by :meth:`state_dict` name (PyTorch's names); each is copied into
            its parameter in place, cast to the parameter's dtype (float64 values
            load into float32 parameters, as ``torch.Tensor.copy_`` does).
        strict : bool
            Require the keys to match the model's exactly (missing and unexpected
            keys are errors); with ``strict=False`` they are returned instead.

        Returns
        -------
        IncompatibleKeys
            The named tuple ``(missing_keys, unexpected_keys)`` (PyTorch's
            ``_IncompatibleKeys``), two lists of names; both empty when every key
            matched.

        Raises
        ------
        StateDictError
            A ``RuntimeError`` (as in PyTorch) listing every problem at once: with
            ``strict``, missing and unexpected keys; in any mode, a shape that differs
            from the parameter's (name, both shapes), a non-numeric value, or two
            names of one shared parameter given different values. It is also a
            ``KeyError`` and a ``ValueError``, the exceptions numnet raised before.
            Nothing is copied when it is raised.

        Notes
        -----
        Values are not checked for being finite: NaN and infinity load as they are,
        as in PyTorch.

        A parameter shared by several modules (tied weights) has several names. Its
        value may be given under all of them (PyTorch's ``state_dict`` and numnet's
        both write every name), or under any one, or some (the form of a
        deduplicated safetensors file): it is missing only if none of its names is
        present. PyTorch instead reports the absent names as missing and, given
        different values, silently keeps the last; numnet raises.
        """
        groups: dict[int, list[str]] = {}
        params: dict[int, Parameter] = {}
        for name, p in self._state_items():
            groups.setdefault(id(p), []).append(name)
            params[id(p)] = p
        known = {name for names in groups.values() for name in names}
        missing: list[str] = []
        unexpected = [k for k in state_dict if k not in known]
        errors: list[str] = []
        arrays: list[tuple[Parameter, np.ndarray]] = []
        for pid, names in groups.items():
            p = params[pid]
            present = [n for n in names if n in state_dict]
            if not present:
                missing.extend(names)
                continue
            first = None
            for name in present:
                value = state_dict[name]
                arr = np.asarray(value.data if hasattr(value, "grad") else value)
                if arr.dtype.kind not in "fiub":
                    errors.append(f"{name!r} has non-numeric dtype {arr.dtype}")
                elif arr.shape != p.data.shape:
                    errors.append(
                        f"size mismatch for {name!r}: copying a param with shape "
                        f"{arr.shape} from the state dict, the shape in the current model "
                        f"is {p.data.shape}"
                    )
                elif first is None:
                    first = (name, arr)
                elif not np.array_equal(arr, first[1], equal_nan=arr.dtype.kind == "f"):
                    errors.append(
                        f"{first[0]!r} and {name!r} name one shared parameter but hold "
                        "different values"
                    )
            if first is not None:
                arrays.append((p, first[1]))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + _quoted(unexpected))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + _quoted(missing))
        if errors:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for p, arr in arrays:  # all checked: now copy
            p.data[...] = arr
            p._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # -- display -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        kids = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not kids:
            return head + ")"
        lines = [head]
        for name, m in kids:
            text = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        return "\n".join(lines) + "\n)"


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names) + "."


def _flatten_attribute(name: str, value) -> Iterator[tuple[str, object]]:
    if isinstance(value, (Parameter, Module)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _flatten_attribute(f"{name}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten_attribute(f"{name}.{key}", item)

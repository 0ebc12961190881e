"""``Module``: a plain container whose parameters are found by walking its attributes.

Parameters and sub-modules are discovered from the instance's attributes in the
order they were assigned, descending into lists, tuples and dicts, so names are
deterministic: ``layers.0.weight``, ``encoder.bias``. ``Sequential`` names its
children ``0``, ``1``, ... exactly like PyTorch, so state dicts are interchangeable.

Architectures are described by :meth:`Module.get_config` and rebuilt by
:meth:`Module.from_config` (Keras's convention); :mod:`numnet.nn.config` turns them
into JSON and back, looking numnet's classes up in :data:`MODULE_CLASSES`.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from numnet.nn.parameter import Parameter

#: numnet's own module classes by qualified name (``"numnet.nn.linear.Linear"``): the
#: classes :func:`numnet.nn.config.from_config` builds without being given them.
MODULE_CLASSES: dict[str, type] = {}

#: Constructor arguments never recorded in a config: weights are loaded afterwards.
_RANDOM_ARGUMENTS = ("generator", "rng", "random_state")
_RANDOM_TYPES = (np.random.Generator, np.random.RandomState, np.random.SeedSequence)


def qualified_name(cls: type) -> str:
    """``"module.QualName"``: the name a config stores for ``cls``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register_module_class(cls: type) -> type:
    """Make ``cls`` buildable from a config by its qualified name (numnet's own classes).

    Registering the same class again does nothing; another class of the same qualified
    name (the class re-created by ``importlib.reload`` of its module) replaces the
    entry, so configs then build the reloaded class. Every ``Module`` subclass defined
    in a ``numnet`` module registers itself; classes of other packages are passed to
    :func:`numnet.nn.config.from_config` or :func:`numnet.io.load` in ``classes=``.

    Returns
    -------
    type
        ``cls`` (usable as a decorator).
    """
    MODULE_CLASSES[qualified_name(cls)] = cls
    return cls


def _init_signature(cls: type) -> inspect.Signature:
    """The signature of ``cls.__init__`` without ``self``."""
    sig = inspect.signature(cls.__init__)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


def _var_positional(cls: type) -> str | None:
    """The name of ``cls.__init__``'s ``*args`` parameter, if it has one."""
    for p in _init_signature(cls).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return p.name
    return None


def _named_arguments(cls: type, args, kwargs) -> dict:
    """The call ``cls(*args, **kwargs)`` as a config: every argument by its name.

    A ``*name`` parameter becomes the list ``name``; ``**kwargs`` are merged in.

    Raises
    ------
    TypeError
        If the arguments do not fit the constructor's signature.
    """
    sig = _init_signature(cls)
    named = {}
    for name, value in sig.bind(*args, **kwargs).arguments.items():
        kind = sig.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        else:
            named[name] = list(value) if kind is inspect.Parameter.VAR_POSITIONAL else value
    return named


def _call_arguments(cls: type, config: dict) -> tuple[list, dict]:
    """``(args, kwargs)`` calling ``cls`` with ``config`` (:func:`_named_arguments` undone).

    The entry named like a ``*name`` parameter (``Sequential(*modules)``: ``modules``)
    is passed positionally; every other entry by keyword.
    """
    var = _var_positional(cls)
    kwargs = dict(config)
    if var is None or var not in kwargs:
        return [], kwargs
    args = kwargs.pop(var)
    if not isinstance(args, (list, tuple)):
        raise TypeError(f"{cls.__name__}: config entry {var!r} must be a list, got {args!r:.100}")
    return list(args), kwargs


def _describes_init(cls: type) -> bool:
    """Whether the ``get_config`` that ``cls`` inherits was written for its ``__init__``.

    It was unless a class below the one defining ``get_config`` redefines ``__init__``
    (a subclass with other constructor arguments).
    """
    mro = cls.__mro__
    init_owner = next(c for c in mro if "__init__" in vars(c))
    config_owner = next(c for c in mro if "get_config" in vars(c))
    return mro.index(config_owner) <= mro.index(init_owner)


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

    **Architecture as a config** (Keras's ``get_config``/``from_config``). Every numnet
    layer defines :meth:`get_config`, its constructor arguments by name (sub-modules,
    dtypes and constant arrays included, random generators never), and
    :meth:`from_config` rebuilds it; :func:`numnet.nn.config.to_config` turns that
    into JSON (sub-modules nested) and :func:`numnet.io.save` stores it beside the
    weights, so a model is rebuilt without pickling anything.

    Your own subclass has three options:

    * define ``get_config()`` returning its constructor arguments by name (and
      ``from_config`` if ``cls(**config)`` cannot rebuild it);
    * define neither: numnet then records the arguments each instance was constructed
      with and returns them (Keras 3 does the same), without ``generator``, ``rng``
      and ``random_state`` and without any ``numpy.random.Generator``. The arguments
      must then be values a config can store (numbers, strings, lists, tuples, dicts,
      dtypes, arrays, modules); the recorded values are the ones passed, not later
      changes. A subclass that redefines ``__init__`` without defining ``get_config``
      gets this default too, since the ``get_config`` it would inherit describes
      another constructor;
    * save only the weights (:func:`numnet.io.save_state_dict`) and rebuild the model
      in code.

    Loading a class that is not numnet's needs it in ``classes=`` of
    :func:`numnet.io.load` (only numnet's classes are built otherwise).
    """

    training: bool = True
    _auto_config: bool = False  # whether instances record their constructor arguments

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if not _describes_init(cls):  # an inherited get_config would describe another __init__
            cls.get_config = Module.get_config
        cls._auto_config = (
            cls.get_config is Module.get_config and cls.__init__ is not object.__init__
        )
        if cls.__module__.partition(".")[0] == "numnet":
            register_module_class(cls)

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        if cls._auto_config:
            obj._init_args = (args, kwargs)
        return obj

    # -- architecture -------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments by name, from which :meth:`from_config` rebuilds it.

        Values are what :mod:`numnet.nn.config` stores as JSON: ``None``, booleans,
        numbers, strings, lists, tuples, string-keyed dicts, NumPy dtypes, constant
        arrays or (non-parameter) Tensors, and sub-modules (nested as their own
        config). Random generators are never part of a config.

        The default (see the class docstring): ``{}`` for a class whose constructor
        takes no arguments, else the arguments this instance was constructed with.
        """
        if not self._auto_config:
            return {}
        args, kwargs = self.__dict__.get("_init_args", ((), {}))
        named = _named_arguments(type(self), args, kwargs)
        return {
            name: value
            for name, value in named.items()
            if name not in _RANDOM_ARGUMENTS and not isinstance(value, _RANDOM_TYPES)
        }

    @classmethod
    def from_config(cls, config: dict) -> Module:
        """Build a new module from :meth:`get_config`'s dict: ``cls(**config)``.

        The entry named like a ``*args`` parameter of the constructor is passed
        positionally (``Sequential(*modules)`` from ``{"modules": [...]}``). Sub-modules
        are modules here: :func:`numnet.nn.config.from_config` builds the nested ones
        from JSON first. Override it when the constructor cannot take the config.
        """
        args, kwargs = _call_arguments(cls, config)
        return cls(*args, **kwargs)

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

        The call forms are PyTorch's:

        * ``to(dtype, non_blocking=False)``, e.g. ``numnet.float64`` for gradcheck
        * ``to(device=None, dtype=None, non_blocking=False)``
        * ``to(tensor, non_blocking=False)``: the tensor's dtype.

        Parameters
        ----------
        *args
            One of the forms above, positionally: ``dtype``; ``device``;
            ``device, dtype``; or a Tensor, then ``non_blocking``.
        **kwargs
            ``dtype`` (numpy dtype or torch.dtype): a floating dtype. Parameters
            already of that dtype are left alone; the others get converted data (a
            version bump) and their ``.grad``, if any, converted too (as in PyTorch).
            ``device`` (str, numnet.device or torch.device): must be the CPU
            (``'cpu'``, ``'cpu:0'``): numnet runs on the CPU only. ``non_blocking`` and
            ``memory_format`` are accepted and ignored.

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
        groups = [names for _, names in self._parameter_names()]
        return {group[0]: group for group in groups if len(group) > 1}

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
        errors: list[str] = []
        missing: list[str] = []
        arrays: list[tuple[Parameter, np.ndarray]] = []
        known: set[str] = set()
        for p, names in self._parameter_names():
            known.update(names)
            present = [n for n in names if n in state_dict]
            if not present:
                missing.extend(names)
                continue
            value = _one_value(p, present, state_dict, errors)
            if value is not None:
                arrays.append((p, value))
        unexpected = [k for k in state_dict if k not in known]
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

    def _parameter_names(self) -> list[tuple[Parameter, list[str]]]:
        """Every parameter with all its :meth:`state_dict` names (several when shared)."""
        groups: dict[int, tuple[Parameter, list[str]]] = {}
        for name, p in self._state_items():
            groups.setdefault(id(p), (p, []))[1].append(name)
        return list(groups.values())

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


def _one_value(p: Parameter, names: list[str], state_dict, errors: list[str]):
    """The array that ``state_dict`` gives parameter ``p`` under ``names`` (its names
    present there), or ``None`` after appending to ``errors`` what does not fit:
    a non-numeric value, another shape, or two names holding different values."""
    first = None
    for name in names:
        value = state_dict[name]
        arr = np.asarray(value.data if hasattr(value, "grad") else value)
        if arr.dtype.kind not in "fiub":
            errors.append(f"{name!r} has non-numeric dtype {arr.dtype}")
        elif arr.shape != p.data.shape:
            errors.append(
                f"size mismatch for {name!r}: copying a param with shape {arr.shape} from "
                f"the state dict, the shape in the current model is {p.data.shape}"
            )
        elif first is None:
            first = (name, arr)
        elif not np.array_equal(arr, first[1], equal_nan=arr.dtype.kind == "f"):
            errors.append(
                f"{first[0]!r} and {name!r} name one shared parameter but hold different values"
            )
    return None if first is None else first[1]


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

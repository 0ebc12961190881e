"""``Module``: a plain container whose parameters are found by walking its attributes.

Parameters and sub-modules are discovered from the instance's attributes in the
order they were assigned, descending into lists, tuples and dicts, so names are
deterministic: ``layers.0.weight``, ``encoder.bias``. ``Sequential`` names its
children ``0``, ``1``, ... exactly like PyTorch, so state dicts are interchangeable.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from numnet.nn.parameter import Parameter

MODULE_CLASSES: dict[str, type] = {}


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

    def to(self, dtype) -> Module:
        """Convert every parameter to ``dtype`` (e.g. ``numnet.float64`` for gradcheck)."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"parameters must stay floating point, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

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
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of all parameters, by name (PyTorch names and ``(out, in)`` layouts)."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy arrays from ``state_dict`` into the parameters, checking names and shapes.

        Raises
        ------
        KeyError
            ``strict`` and keys are missing or unexpected (all of them are listed).
        ValueError
            A shape differs (name, expected and found shapes), or values are not finite.
        """
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state_dict]
        unexpected = [k for k in state_dict if k not in params]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys: {missing}")
            if unexpected:
                parts.append(f"unexpected keys: {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        arrays = {}
        for name, p in params.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            arr = np.asarray(value.data if hasattr(value, "grad") else value)
            if arr.shape != p.data.shape:
                raise ValueError(
                    f"load_state_dict: shape mismatch for {name!r}: the model has "
                    f"{p.data.shape}, the state dict has {arr.shape}"
                )
            if arr.dtype.kind not in "fiu":
                raise ValueError(f"load_state_dict: {name!r} has non-numeric dtype {arr.dtype}")
            arrays[name] = arr
        for name, arr in arrays.items():  # all checked: now copy
            params[name].data[...] = arr

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


def _flatten_attribute(name: str, value) -> Iterator[tuple[str, object]]:
    if isinstance(value, (Parameter, Module)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _flatten_attribute(f"{name}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten_attribute(f"{name}.{key}", item)

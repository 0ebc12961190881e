"""Containers: ``Sequential`` and ``ModuleList`` (children named ``0``, ``1``, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from numnet import ops
from numnet.nn.module import Module


class ModuleList(Module):
    """A list of modules whose children are named by their index, as in PyTorch."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        self._items: list[Module] = []
        for m in modules:
            self.append(m)

    def get_config(self) -> dict:
        return {"modules": list(self._items)}

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} holds Modules, got {type(module).__name__}")
        self._items.append(module)
        return self

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, m in enumerate(self._items):
            yield str(i), m

    def __getitem__(self, i):
        if isinstance(i, slice):
            return type(self)(self._items[i])
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)


class Sequential(ModuleList):
    """Apply modules in order: ``Sequential(Linear(2, 8), Tanh(), Linear(8, 1))``.

    Parameter names are ``0.weight``, ``0.bias``, ``2.weight``, ... exactly as in
    ``torch.nn.Sequential``, so weights move between the two unchanged.

    A ``ReLU`` directly followed by a ``MaxPool2d`` runs as one
    :func:`numnet.ops.relu_max_pool2d` (pool first, ReLU on the smaller pooled output:
    the same values and gradients, exactly). The pair is fused only when both are
    those exact classes and neither module's ``forward`` has been replaced on the
    instance (as :func:`numnet.utils.model_summary` and the training diagnostics do
    to observe a module), so whatever watches a module still sees it called.
    """

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        super().__init__(modules)

    get_config = ModuleList.get_config  # {"modules": [...]}, passed back as *modules

    def forward(self, x):
        items = self._items
        i, n = 0, len(items)
        while i < n:
            m = items[i]
            if i + 1 < n and _relu_then_max_pool(m, items[i + 1]):
                pool = items[i + 1]
                x = ops.relu_max_pool2d(
                    x, kernel_size=pool.kernel_size, stride=pool.stride, padding=pool.padding
                )
                i += 2
                continue
            x = m(x)
            i += 1
        return x


def _relu_then_max_pool(first: Module, second: Module) -> bool:
    """Whether ``second(first(x))`` is ``relu_max_pool2d``: a plain ``ReLU`` then a plain
    ``MaxPool2d``, neither with an instance-level ``forward`` (a hook-like wrapper)."""
    from numnet.nn.activation import ReLU
    from numnet.nn.pooling import MaxPool2d

    return (
        type(first) is ReLU
        and type(second) is MaxPool2d
        and "forward" not in vars(first)
        and "forward" not in vars(second)
    )

"""Containers: ``Sequential`` and ``ModuleList`` (children named ``0``, ``1``, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
    """

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        super().__init__(modules)

    get_config = ModuleList.get_config  # {"modules": [...]}, passed back as *modules

    def forward(self, x):
        for m in self._items:
            x = m(x)
        return x

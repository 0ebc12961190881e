"""Hook handles (``torch.utils.hooks.RemovableHandle``) and a tensor's hook lists.

``Tensor.register_hook`` and ``Tensor.register_post_accumulate_grad_hook`` add a
callable to one of the two :class:`_HookList` of the tensor's :class:`_Hooks` and
return a :class:`RemovableHandle`; the autograd engine runs the hooks in the order
they were registered.
"""

from __future__ import annotations

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by the ``register_*hook`` methods; ``remove()`` unregisters the hook.

    Also a context manager: the hook is removed when the ``with`` block ends.
    """

    __slots__ = ("_hooks", "_key")

    def __init__(self, hooks: _HookList, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._hooks.items.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _HookList:
    """Hooks of one kind, in registration order, each under a key its handle removes."""

    __slots__ = ("items", "_next")

    def __init__(self) -> None:
        self.items: dict[int, object] = {}  # insertion-ordered
        self._next = 0

    def add(self, hook) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {hook!r}")
        key, self._next = self._next, self._next + 1
        self.items[key] = hook
        return RemovableHandle(self, key)


class _Hooks:
    """A tensor's gradient hooks (``register_hook``) and post-accumulate hooks."""

    __slots__ = ("grad", "post")

    def __init__(self) -> None:
        self.grad = _HookList()
        self.post = _HookList()

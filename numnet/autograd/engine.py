"""The backward walk: an iterative topological sort, then one reverse loop.

Seed 004 ("Automatic differentiation") describes reverse mode as walking the
computational graph from the output back to the parameters, multiplying each
node's incoming adjoint by its local Jacobian. Every primitive supplies that
product as a vector-Jacobian product (VJP, see :mod:`numnet.autograd.registry`);
this module only orders the nodes and routes the adjoints:

1. sort the graph below the root (children after parents in reverse order),
   iteratively, so graphs of any depth work without recursion limits;
2. visit the nodes from the root down; each node's adjoint is complete when it is
   visited, because every consumer of the node was visited before it;
3. call the node's VJP, undo broadcasting once (:func:`unbroadcast`) and add
   the results into the parents' adjoints; leaves accumulate into ``.grad``.

Calling ``backward`` twice on one graph
---------------------------------------
Like PyTorch, the graph is freed after a backward pass (the VJP closures and the
arrays they hold are released), and a second ``backward`` through the same graph
raises ``RuntimeError`` unless the first call passed ``retain_graph=True``.
Gradients of leaves *accumulate* across backward calls, as in PyTorch: call
``optimizer.zero_grad()`` (or set ``.grad = None``) between steps.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numnet.tensor import Tensor

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside :class:`no_grad` (per thread)."""
    return getattr(_state, "enabled", True)


def _check_mode(mode, name: str, alternative: str = "") -> bool:
    """``mode`` as a Python bool; ``TypeError`` (as PyTorch) for anything but a bool."""
    if not isinstance(mode, (bool, np.bool_)):
        raise TypeError(f"{name}: mode must be a bool{alternative}, got {type(mode).__name__}")
    return bool(mode)


def _wrap_generator(make_context: Callable, func: Callable) -> Callable:
    """``func``, a generator function, with each of its steps run in ``make_context()``.

    Between steps (at each ``yield``) the caller's modes hold, as in PyTorch's decorator:
    a fresh context is entered to start or resume the generator, to throw a caller's
    exception into it, and to close it.
    """

    @functools.wraps(func)
    def decorated(*args, **kwargs):
        gen = func(*args, **kwargs)
        send, value = gen.send, None
        while True:  # each step of the generator runs in the context
            try:
                with make_context():
                    item = send(value)
            except StopIteration as stop:
                return stop.value
            send = gen.send
            try:
                value = yield item
            except GeneratorExit:
                with make_context():
                    gen.close()
                raise
            except BaseException as exc:  # thrown in by the caller: pass it on
                send, value = gen.throw, exc

    return decorated


class _GradModeContext:
    """A grad-mode context manager that is also a decorator: PyTorch's
    ``_DecoratorContextManager``.

    Used as a decorator, one instance serves every call, so it keeps no state for the
    calls: each call enters a fresh context (:meth:`clone`), and recursive calls and
    calls from several threads at once restore their own saved modes. A generator
    function runs each step in the context, the caller's mode in between (as PyTorch's
    decorator does).
    """

    def clone(self) -> _GradModeContext:
        """A fresh context with the same settings (what each decorated call enters)."""
        return type(self)()

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self.clone, func)

        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return decorated


class _SwitchGrad(_GradModeContext):
    """Turn recording to ``mode`` on entry, back to the previous mode on exit.

    A function in place of the (absent) argument decorates it: ``@no_grad`` works without
    parentheses, as in PyTorch 2. The previous modes are a stack, so one instance may be
    entered again inside itself (``with ctx: ... with ctx:``) in one thread.
    """

    mode: bool

    def __new__(cls, orig_func: Callable | None = None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # @no_grad, without parentheses

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(is_grad_enabled())
        _state.enabled = self.mode

    def __exit__(self, *exc) -> bool:
        _state.enabled = self._prev.pop()
        return False


class no_grad(_SwitchGrad):
    """Disable graph recording: ``torch.no_grad``.

    Results of ops made inside never require grad and record no graph (evaluation,
    parameter updates). A context manager, or a decorator, with or without parentheses
    (``@no_grad`` or ``@no_grad()``); per thread, restored on exit also when the block
    raises.

    Notes
    -----
    As a decorator each call enters a fresh context, so concurrent calls of one decorated
    function from several threads (numnet runs training steps in worker threads, see
    :mod:`numnet.parallel`) and recursive calls do not share saved state; a generator
    function runs each step without recording and the caller's mode in between, as in
    PyTorch. Factory functions given ``requires_grad=True`` make leaves that require
    grad inside, as in PyTorch.

    Examples
    --------
    >>> import numnet
    >>> w = numnet.ones(3, requires_grad=True)
    >>> with numnet.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    >>> @numnet.no_grad
    ... def predict(x):
    ...     return w * x
    >>> predict(numnet.ones(3)).requires_grad
    False
    """

    mode = False


class enable_grad(_SwitchGrad):
    """Re-enable graph recording inside :class:`no_grad`: ``torch.enable_grad``.

    A context manager, or a decorator with or without parentheses, per thread; as a
    decorator each call enters a fresh context (see :class:`no_grad`).

    Examples
    --------
    >>> import numnet
    >>> w = numnet.ones(3, requires_grad=True)
    >>> with numnet.no_grad(), numnet.enable_grad():
    ...     y = w * 2
    >>> y.requires_grad
    True
    """

    mode = True


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off: ``torch.set_grad_enabled``, a function or a context.

    As in PyTorch, the call itself sets the mode (``numnet.set_grad_enabled(False)`` as
    a statement turns recording off in this thread until it is turned on again); used as
    ``with set_grad_enabled(mode):`` the mode from before the call is restored on exit,
    also when the block raises. As a decorator (``@set_grad_enabled(False)``) it changes
    nothing at decoration time, and each call of the function runs in a fresh context
    (thread-safe, generators step by step: see :class:`no_grad`).

    Parameters
    ----------
    mode : bool
        Record the graph if true (e.g. ``set_grad_enabled(is_train)``).

    Raises
    ------
    TypeError
        If ``mode`` is not a bool (PyTorch refuses it too; NumPy's bool is accepted).

    Examples
    --------
    >>> import numnet
    >>> w = numnet.ones(3, requires_grad=True)
    >>> with numnet.set_grad_enabled(False):
    ...     (w * 2).requires_grad
    False
    >>> _ = numnet.set_grad_enabled(False)
    >>> (w * 2).requires_grad
    False
    >>> _ = numnet.set_grad_enabled(True)
    >>> (w * 2).requires_grad
    True
    """

    def __init__(self, mode: bool) -> None:
        self.mode = _check_mode(mode, "set_grad_enabled")
        self.prev = is_grad_enabled()
        _state.enabled = self.mode

    def clone(self) -> set_grad_enabled:
        return type(self)(self.mode)

    def __call__(self, func: Callable) -> Callable:
        _state.enabled = self.prev  # decorating switches nothing: undo the call's switch
        return super().__call__(func)

    def __enter__(self) -> None:
        _state.enabled = self.mode

    def __exit__(self, *exc) -> bool:
        _state.enabled = self.prev
        return False


def is_inference_mode_enabled() -> bool:
    """True inside :class:`inference_mode` (per thread): ``torch.is_inference_mode_enabled``."""
    return getattr(_state, "inference", False)


class inference_mode(_GradModeContext):
    """Context manager / decorator for inference: PyTorch's ``torch.inference_mode``.

    ``inference_mode()`` (or ``inference_mode(True)``) turns graph recording off as
    :class:`no_grad` does, and :func:`is_inference_mode_enabled` returns True inside;
    ``inference_mode(False)`` leaves inference mode and turns recording *on*, as
    PyTorch does (its guard sets grad mode to ``not mode``): outside any
    ``no_grad``/``inference_mode`` block that changes nothing, inside one it
    re-enables recording. Both flags are per thread and restored on exit, also when
    the block raises.

    Parameters
    ----------
    mode : bool
        Enter inference mode if true. A function in its place decorates it, so
        ``@inference_mode`` works without parentheses, as in PyTorch.

    Raises
    ------
    TypeError
        If ``mode`` is neither a bool nor a callable (PyTorch fails later, with a
        less clear message).

    Notes
    -----
    Differences from PyTorch, on purpose (numnet has no *inference tensors*):

    * numnet's inference mode is :class:`no_grad`: a Tensor made inside is an
      ordinary Tensor and may later be used in an autograd computation, where PyTorch
      raises ``RuntimeError`` ("Inference tensors cannot be saved for backward").
    * Inside it, :class:`enable_grad` or ``set_grad_enabled(True)`` turns recording
      back on, as inside ``no_grad``; PyTorch never records in inference mode.
    * PyTorch's extra speed-up over ``no_grad`` (no version-counter bumps and no view
      tracking for inference tensors) does not apply: numnet's version counters stay.
      What ``no_grad`` saves (no VJP closures; convolution and pooling keep no
      saved arrays) it saves too.

    As a decorator each call enters a fresh context, so recursive or concurrent calls
    (from several threads) do not share state; a generator function runs each step
    in inference mode, the caller's mode in between (as PyTorch's decorator does).

    Examples
    --------
    >>> import numnet
    >>> w = numnet.ones(3, requires_grad=True)
    >>> with numnet.inference_mode():
    ...     y = w * 2
    >>> y.requires_grad
    False
    >>> @numnet.inference_mode
    ... def predict(x):
    ...     return w * x
    >>> predict(numnet.ones(3)).requires_grad
    False
    """

    def __new__(cls, mode: bool = True):
        if callable(mode):  # @inference_mode, without parentheses
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = _check_mode(mode, "inference_mode", " (or a function to decorate)")
        self._prev: list[tuple[bool, bool]] = []

    def clone(self) -> inference_mode:
        return type(self)(self.mode)

    def __enter__(self) -> None:
        self._prev.append((is_grad_enabled(), is_inference_mode_enabled()))
        _state.enabled, _state.inference = not self.mode, self.mode

    def __exit__(self, *exc) -> bool:
        _state.enabled, _state.inference = self._prev.pop()
        return False


FREED = object()  # marks a node whose VJP was released by a previous backward pass


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting.

    Math: if ``y = broadcast(x)`` copies ``x`` along some axes, then
    ``∂L/∂x = Σ_{copied axes} ∂L/∂y``. This is the only place in numnet where
    broadcasting is undone; primitives return gradients of the broadcast shape.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        return np.broadcast_to(grad, shape).copy()
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    if extra:
        out = out.reshape(out.shape[extra:])
    return out.reshape(shape)


def post_order(roots: list, next_nodes: Callable[[Tensor], list]) -> list:
    """Every node reachable from ``roots`` through ``next_nodes``, each after the nodes
    ``next_nodes`` gives for it (iterative depth-first post-order: no recursion limit).

    ``next_nodes(node)`` lists the inputs to visit, the one to visit *last* first (it
    is pushed on the stack first). Shared by the backward pass and
    :func:`numnet.viz.graph.graph_nodes`.
    """
    order: list = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in next_nodes(node):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def _differentiable_inputs(node: Tensor) -> list:
    """The inputs of ``node`` that require grad, leaves first (so visited last)."""
    leaves = []
    ops = []
    for p in node._parents:  # one loop, no comprehensions: this runs once per node
        if p.requires_grad:
            if p._vjp is None:
                leaves.append(p)
            else:
                ops.append(p)
    return leaves + ops


def _topological_order(root) -> list[Tensor]:
    """Nodes reachable from ``root`` (a Tensor or a list of them) through recorded ops,
    every node after its inputs.

    A node's leaf inputs are visited after its non-leaf inputs, so that in the reversed
    order (the order of the backward pass) each leaf comes right after the last
    operation that uses it: its ``.grad`` is final, and its post-accumulate hooks run,
    as early as possible.
    """
    return post_order(root if isinstance(root, list) else [root], _differentiable_inputs)


# -- the pieces of the walk: seed, hooks, versions, accumulate ----------------------------
def _seed(out: Tensor, g, i: int | None = None) -> list:
    """``[adjoint, owned]`` to start the walk at ``out``: ``g`` as an array of ``out``'s
    shape and dtype, or ones if ``g`` is None and ``out`` has one element.

    ``i`` is the output's position in :func:`grad` (``None``: :func:`backward`, whose
    errors PyTorch words differently). Only the ones made here are owned.
    """
    if g is None:
        if out._data.size != 1:
            if i is None:
                raise RuntimeError(
                    f"backward() on a non-scalar tensor of shape {out.shape} needs a "
                    "gradient argument of the same shape (e.g. loss.sum().backward() or "
                    "out.backward(numnet.ones_like(out)))"
                )
            raise RuntimeError(
                f"grad(): output {i} has shape {out.shape}: grad can be implicitly "
                "created only for scalar outputs (pass grad_outputs)"
            )
        return [np.ones_like(out._data), True]
    from numnet.tensor import Tensor

    arr = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.dtype)
    if arr.shape != out.shape:
        if i is None:
            raise ValueError(
                f"backward(): gradient shape {arr.shape} does not match tensor shape {out.shape}"
            )
        if arr.size != 1 or out._data.size != 1:
            raise RuntimeError(
                f"grad(): grad_outputs[{i}] has shape {arr.shape} but output {i} "
                f"has shape {out.shape}"
            )
        arr = arr.reshape(out.shape)
    return [arr, False]


def _run_grad_hooks(node: Tensor, g: np.ndarray, err: dict) -> np.ndarray:
    """Pass the adjoint of ``node`` through its ``register_hook`` hooks, in order.

    The result is never owned by the engine: a hook may keep the Tensor it was given
    (``grads.append(g)``), so a leaf's ``.grad`` must not share that array (an in-place
    ``zero_grad(set_to_none=False)`` would change what the hook kept; PyTorch copies too).
    Like PyTorch's engine, hooks run with gradient recording off.
    """
    from numnet.tensor import Tensor

    for hook in list(node._hooks.grad.items.values()):
        with set_grad_enabled(False), np.errstate(**err):  # the caller's NumPy settings
            result = hook(Tensor._wrap(g))
        if result is None:
            continue
        new = np.asarray(result.data if isinstance(result, Tensor) else result)
        if new.shape != g.shape:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} changed the gradient's shape "
                f"from {g.shape} to {new.shape}"
            )
        if new.dtype != g.dtype:
            raise TypeError(
                f"hook {getattr(hook, '__name__', hook)!r} changed the gradient's dtype "
                f"from {g.dtype} to {new.dtype}"
            )
        g = new
    return g


def _run_post_accumulate_hooks(node: Tensor, err: dict) -> None:
    """Run a leaf's ``register_post_accumulate_grad_hook`` hooks (its ``.grad`` is final)."""
    for hook in list(node._hooks.post.items.values()):
        with set_grad_enabled(False), np.errstate(**err):
            hook(node)


def _check_saved_versions(node: Tensor) -> None:
    """Raise if a tensor that ``node``'s VJP saved was modified in place since.

    ``node._saved`` holds ``(i, version)`` pairs: ``i`` indexes ``node._parents``, or is
    ``-1`` for the node's own output. (PyTorch: "one of the variables needed for
    gradient computation has been modified by an inplace operation".)
    """
    for i, version in node._saved:
        t = node if i == -1 else node._parents[i]
        now = t._vc[0]
        if now != version:
            what = f"output of '{node._op}'" if i == -1 else f"input {i} of '{node._op}'"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: the {what}, a {t._data.dtype} tensor of shape "
                f"{list(t._data.shape)}, is at version {now}; expected version {version} "
                "instead. (An optimizer step, load_state_dict, nn.init or an in-place "
                "method changed it after the graph was recorded: compute the loss again "
                "after the update, or backward before it.)"
            )


def _accumulate_grad(node: Tensor, g: np.ndarray, owned: bool) -> None:
    """Add ``g`` into ``node.grad`` like PyTorch (a new array: ``.grad`` may be shared)."""
    if node.grad is None:
        node.grad = g if owned else g.copy()
    else:
        node.grad = np.asarray(node.grad + g)  # (0-d sums are NumPy scalars)


def _add_outgrads(adjoints: dict[int, list], node: Tensor, parent_grads, needs, g) -> None:
    """Add the VJP's results into the accumulators of ``node``'s parents.

    Each result is first summed back to its parent's shape (:func:`unbroadcast`) and
    cast to its dtype. An accumulator ``[array, owned]`` is updated in place only when
    the engine owns its array: a fresh result of the VJP (see the contract in
    :mod:`numnet.autograd.registry`), that is not the incoming adjoint ``g``, not the
    node's output or one of its inputs' arrays (what a VJP saves), not a view and not
    returned for two parents. Any other array is copied by the first addition into it.
    """
    parents = node._parents
    returned = [id(pg) for pg in parent_grads if pg is not None]
    for parent, pg, need in zip(parents, parent_grads, needs):
        if pg is None or not need:
            continue
        if isinstance(pg, np.ndarray):
            fresh = pg.base is None and pg is not g and returned.count(id(pg)) == 1
            if fresh and (pg is node._data or any([pg is p._data for p in parents])):
                fresh = False  # an array the VJP saved: the node's output or an input
        else:  # NumPy returns scalars for 0-d results
            fresh = True
            pg = np.asarray(pg)
        data = parent._data
        reduced = unbroadcast(pg, data.shape)
        if reduced is not pg:
            pg, fresh = reduced, True
        if pg.dtype != data.dtype:
            pg, fresh = pg.astype(data.dtype), True
        slot = adjoints.get(id(parent))
        if slot is None:
            adjoints[id(parent)] = [pg, fresh]
        elif slot[1]:
            slot[0] += pg
        else:
            adjoints[id(parent)] = [np.asarray(slot[0] + pg), True]


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time: the graph's buffers were freed "
    "by the first backward(). Pass retain_graph=True to the first call if you need to "
    "backward twice."
)


# -- the reverse loop ---------------------------------------------------------------------
def _walk(
    order: list,
    adjoints: dict[int, list],
    retain_graph: bool,
    err: dict,
    capture: dict[int, list] | None = None,
    relevant: set[int] | None = None,
) -> None:
    """The reverse loop of :func:`backward` over ``order`` (children after parents).

    ``adjoints`` maps ``id(root)`` to ``[adjoint, owned]`` for every root; an owned
    array may be updated in place. With ``capture`` (:func:`grad`), the complete
    adjoint of each node whose id is a key is stored there, no ``.grad`` is touched,
    and only the parents in ``relevant`` (those that lead to a captured node) receive
    adjoints. The complete adjoint of a node goes through its hooks, into ``.grad``
    (leaves, ``retain_grad``) or ``capture``, then through its VJP to its parents.
    """
    for node in reversed(order):
        entry = adjoints.pop(id(node), None)
        if entry is None:
            continue
        g, owned = entry
        hooks = node._hooks
        if hooks is not None and hooks.grad.items:
            g, owned = _run_grad_hooks(node, g, err), False
        vjp = node._vjp
        if capture is not None:
            slot = capture.get(id(node))
            if slot is not None:
                slot.append(g if owned else g.copy())  # the caller's array
            if vjp is None:  # leaves keep their .grad
                continue
        elif vjp is None:  # a leaf
            _accumulate_grad(node, g, owned)
            if hooks is not None and hooks.post.items:
                _run_post_accumulate_hooks(node, err)
            continue
        if vjp is FREED:
            raise RuntimeError(_FREED_MESSAGE)
        if node._saved is not None:
            _check_saved_versions(node)
        if node._retains_grad and capture is None:
            _accumulate_grad(node, g, False)
        if relevant is None:
            needs = tuple([p.requires_grad for p in node._parents])
            parent_grads = vjp(g, needs)
        else:
            needs = tuple([p.requires_grad and id(p) in relevant for p in node._parents])
            parent_grads = vjp(g, needs) if any(needs) else None
        if not retain_graph:
            node._vjp = FREED
        if parent_grads is not None:
            _add_outgrads(adjoints, node, parent_grads, needs, g)


def backward(root: Tensor, grad: np.ndarray | None = None, *, retain_graph: bool = False) -> None:
    """Accumulate ``∂root/∂leaf`` (times ``grad``) into every leaf's ``.grad``.

    Parameters
    ----------
    root : Tensor
        The output to differentiate, usually a scalar loss.
    grad : ndarray, optional
        The adjoint ``δroot``; required unless ``root`` has a single element.
    retain_graph : bool
        Keep the graph so that ``backward`` can be called on it again.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad: no input of the "
            "computation had requires_grad=True (or it ran under numnet.no_grad())"
        )
    seed = _seed(root, grad)
    _run_walk(_topological_order(root), {id(root): seed}, retain_graph)


def _run_walk(order: list, adjoints: dict[int, list], retain_graph: bool, **kw) -> None:
    """:func:`_walk` with NumPy's floating-point warnings off for the VJPs.

    Like PyTorch, inf and NaN propagate silently (see numnet.ops._ieee); one errstate
    for the whole walk. Hooks are user code: they run with the caller's settings.
    """
    err = np.geterr()
    with np.errstate(all="ignore"):
        _walk(order, adjoints, retain_graph, err, **kw)


# -- torch.autograd.grad ------------------------------------------------------------------
def _as_tuple(value, what: str) -> tuple:
    from numnet.tensor import Tensor

    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise TypeError(f"grad(): {what} must be a Tensor or a sequence of Tensors, got {type(value)}")


def _grad_outputs_tuple(grad_outputs, n: int) -> tuple:
    """``grad_outputs`` as one entry per output (``None`` entries allowed)."""
    if grad_outputs is None:
        grad_outputs = (None,) * n
    elif isinstance(grad_outputs, (list, tuple)):
        grad_outputs = tuple(grad_outputs)
    else:
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != n:
        raise RuntimeError(
            f"grad(): grad_outputs has {len(grad_outputs)} entries but there are {n} outputs"
        )
    return grad_outputs


def _check_differentiable(tensors: tuple, what: str) -> None:
    """Raise unless every entry of ``tensors`` is a Tensor that requires grad."""
    from numnet.tensor import Tensor

    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): {what} {i} is a {type(t).__name__}, not a Tensor")
        if t.requires_grad:
            continue
        if what == "input":
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) does not require grad")
        raise RuntimeError(f"grad(): output {i} does not require grad and does not have a grad_fn")


def _seed_outputs(outputs: tuple, grad_outputs: tuple) -> tuple[dict[int, list], list]:
    """The walk's starting adjoints (an output listed twice gets the sum) and its roots."""
    adjoints: dict[int, list] = {}
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        seed = _seed(out, g, i)
        slot = adjoints.get(id(out))
        if slot is None:
            adjoints[id(out)] = seed
            roots.append(out)
        else:
            adjoints[id(out)] = [np.asarray(slot[0] + seed[0]), True]
    return adjoints, roots


def _leading_to(order: list, targets) -> set[int]:
    """Ids of the nodes of ``order`` (inputs first) from which a target is reached."""
    relevant: set[int] = set()
    for node in order:  # every node after its inputs: one pass finds them all
        if id(node) in targets or any(id(p) in relevant for p in node._parents):
            relevant.add(id(node))
    return relevant


def _captured_grads(inputs: tuple, capture: dict, allow_unused, materialize: bool) -> tuple:
    """One Tensor per input from ``capture`` (``None``/zeros for an unused input, or raise)."""
    from numnet.tensor import Tensor

    result = []
    for i, t in enumerate(inputs):
        found = capture[id(t)]
        if found:
            result.append(Tensor._wrap(found[0]))
        elif allow_unused:
            result.append(Tensor._wrap(np.zeros_like(t._data)) if materialize else None)
        else:
            raise RuntimeError(
                f"grad(): input {i} (shape {t.shape}) was not used in the graph of the "
                "outputs; pass allow_unused=True if this is intended"
            )
    return tuple(result)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    *,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``).

    Computes ``Σ_k (∂outputs_k/∂inputs_i)ᵀ grad_outputs_k`` for every input, by the same
    reverse walk as ``backward()``, and returns them as a tuple of Tensors. Unlike
    ``backward()`` it **does not touch any** ``.grad``: leaves keep what they hold and
    ``retain_grad()`` tensors are not filled, so several threads may differentiate
    graphs that share parameters at the same time (see :mod:`numnet.parallel`).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
        What to differentiate.
    inputs : Tensor or sequence of Tensors
        With respect to what: leaves (parameters) or intermediate tensors of the graph.
    grad_outputs : Tensor, array, number, or a sequence of them (``None`` entries allowed)
        The adjoint of each output; ``None`` means 1 and needs a one-element output.
    retain_graph : bool, optional
        Keep the graph for another backward pass; defaults to ``create_graph``.
    create_graph : bool
        Record the gradient computation for higher derivatives. numnet's VJPs are NumPy
        code, so this is not supported: ``True`` raises ``NotImplementedError``.
    allow_unused : bool, optional
        If an input is not reached from the outputs: return ``None`` for it (``True``),
        or raise ``RuntimeError`` (default).
    materialize_grads : bool
        Return zeros instead of ``None`` for unused inputs (implies ``allow_unused``).

    Returns
    -------
    tuple of Tensor or None
        One per input (``None`` for an unused input), each of the input's shape and
        dtype, owned by the caller.

    Notes
    -----
    Hooks registered with ``register_hook`` run as in ``backward()``; post-accumulate
    hooks do not (nothing is accumulated), as in PyTorch.
    """
    if create_graph:
        raise NotImplementedError(
            "grad(create_graph=True): numnet does not record the backward pass, so higher "
            "derivatives are not available"
        )
    if materialize_grads:
        if allow_unused is False:
            raise ValueError("grad(): materialize_grads=True needs allow_unused to be True or None")
        allow_unused = True
    retain_graph = create_graph if retain_graph is None else bool(retain_graph)
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    if not inputs:
        raise RuntimeError("grad(): inputs must not be empty")
    grad_outputs = _grad_outputs_tuple(grad_outputs, len(outputs))
    _check_differentiable(inputs, "input")
    _check_differentiable(outputs, "output")
    adjoints, roots = _seed_outputs(outputs, grad_outputs)
    order = _topological_order(roots)
    capture: dict[int, list] = {id(t): [] for t in inputs}
    _run_walk(order, adjoints, retain_graph, capture=capture, relevant=_leading_to(order, capture))
    return _captured_grads(inputs, capture, allow_unused, materialize_grads)

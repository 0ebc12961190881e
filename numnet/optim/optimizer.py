"""``Optimizer``: the PyTorch-shaped base class every algorithm in :mod:`numnet.optim` uses.

An optimizer owns

* ``param_groups`` -- a list of dicts, each ``{"params": [Parameter, ...], **options}``,
  so that different parameters can have different options (``lr``, ``weight_decay``...);
* ``state`` -- a dict ``{Parameter: {name: ndarray | int | float}}`` with the
  algorithm's per-parameter memory (momentum buffers, moment estimates, step counts).

``step()`` visits every parameter that has a gradient and calls the algorithm's
per-parameter update function (``sgd_update``, ``adam_update``...) on ``p.data``,
``p.grad`` and ``state[p]``. The update functions are plain functions of arrays, so
they can be tested against golden values without any optimizer object.

``state_dict()`` returns plain Python data (dicts, lists, numbers, strings, ndarrays)
with parameters replaced by integer ids numbered in group order, as in PyTorch; it
can be saved to JSON/safetensors and ``load_state_dict`` restores it exactly.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np

from numnet.autograd import enable_grad
from numnet.parallel import balanced_bins, get_num_threads, parallel_tasks
from numnet.tensor import Tensor

# Below this many parameter entries a step is not split over threads. Alone, the split
# pays from ~1e5 entries (SGD, 932k entries: 864 -> 535 us); inside a training loop it
# does not: right after backward the BLAS threads still spin on the second core, and
# 3 interleaved A/B rounds gave 0.23 s vs 0.26 s of SGD steps per half
# epoch of the MLP benchmark and 35 vs 39 ms per 8 ConvNet steps in favour of one
# thread. So only very large models are split.
_PARALLEL_MIN_SIZE = 1 << 24


class _RequiredParameter:
    """Sentinel for an option that has no default (e.g. ``SGD``'s ``lr``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


# -- hyper-parameter checks (shared by the algorithms) -----------------------------------
def _check_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_nonnegative(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number ``>= 0``."""
    if _check_real(name, value) < 0.0:
        raise ValueError(f"Invalid {name}: {value} (must be >= 0)")


def check_in_unit_interval(name: str, value, *, closed: bool = False) -> None:
    """Raise ``ValueError`` unless ``0 <= value < 1`` (``<= 1`` if ``closed``)."""
    v = _check_real(name, value)
    if v < 0.0 or (v > 1.0 if closed else v >= 1.0):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"Invalid {name}: {value} (must be in {interval})")


def check_bool(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a bool (flags such as ``nesterov``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")


FUSED_MIN_SIZE = 1 << 16  # smaller parameters: NumPy's passes are cheap, and a small
# model (the demo) then never imports Numba (+0.2-1 s at start-up, benchmarks/startup.py)


def fusable(*arrays: np.ndarray) -> bool:
    """Whether an update's compiled kernel applies: large (``FUSED_MIN_SIZE`` elements or
    more), one float dtype, C-contiguous (``numnet.kernels``' fused SGD and Adam)."""
    dtype = arrays[0].dtype
    return (
        arrays[0].size >= FUSED_MIN_SIZE
        and dtype in (np.float32, np.float64)
        and all(a.dtype == dtype and a.flags.c_contiguous for a in arrays)
    )


def scratch_and_decayed_grad(
    param: np.ndarray, grad: np.ndarray, weight_decay: float, work: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The gradient with coupled (L2) weight decay, and a free scratch array.

    Returns ``(g, w1)``: ``g = grad + λθ`` written into ``work[0]`` (``grad`` itself when
    ``λ = 0``: the gradient is never modified) and the view ``w1 = work[1]``. ``work``,
    shaped ``(2, *param.shape)`` in ``param``'s dtype, is allocated if None. The first
    lines of every per-parameter update (``sgd_update``, ``adam_update``...).
    """
    if work is None:
        work = np.empty((2, *param.shape), dtype=param.dtype)
    w0, w1 = work[0, ...], work[1, ...]
    if weight_decay == 0.0:
        return grad, w1
    np.multiply(param, weight_decay, out=w0)
    w0 += grad
    return w0, w1  # g + λθ


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``.

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        The tensors to optimize, or parameter groups: dicts with a ``"params"`` entry
        and any options that override ``defaults`` for that group.
    defaults : dict
        Default options of the algorithm (``lr``, ``momentum``...).

    Notes
    -----
    Subclasses implement ``_validate_group(group)`` (raise ``ValueError`` naming a bad
    option) and either name their pure per-parameter update, ``_update_fn`` (called as
    ``_update_fn(p.data, grad, state, work=work, **options)`` with the group's options
    listed in ``_options`` as ``(name, type)`` pairs; ``_update_options`` may rename
    them), or override ``_update(p, grad, state, group, work)``, which applies one update
    to ``p.data`` in place. ``work`` is scratch space shaped ``(k, *p.shape)`` in ``p``'s
    dtype (``k = _n_work``), shared by all parameters so that steps allocate nothing
    on the hot path. Gradients are never modified.
    """

    _n_work = 0  # scratch arrays per parameter that ``_update`` needs
    _update_fn: Callable[..., None] | None = None  # e.g. staticmethod(sgd_update)
    _options: tuple[tuple[str, type], ...] = ()  # the group options it takes

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                "params must be an iterable of Parameters or of dicts (parameter groups), "
                f"got a single {type(params).__name__}; wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError("params must be an ordered iterable (list), not a set")
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._workspace: dict[np.dtype, np.ndarray] = {}
        self._workspaces: list[dict[np.dtype, np.ndarray]] = []  # one per thread
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # -- parameter groups --------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (fine-tuning, new layers).

        Options missing from ``param_group`` take the optimizer's defaults. Raises
        ``ValueError`` for an empty group, a parameter already optimized by another
        group, a missing required option or an invalid option value; ``TypeError``
        for something that is not a floating-point leaf tensor.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("a group's params must be an ordered iterable (list), not a set")
        params = list(params)
        if len(params) == 0:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} is a "
                    f"{type(p).__name__}"
                )
            if p.dtype.kind != "f":
                raise TypeError(
                    f"optimizer can only optimize floating-point tensors, but parameter {i} "
                    f"has dtype {p.dtype}"
                )
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i})")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError("a parameter group contains duplicate parameters")
        for other in self.param_groups:
            if any(id(p) in ids for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required option {name!r}"
                )
            group.setdefault(name, default)
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's options; subclasses raise ``ValueError`` naming the option."""

    # -- the update loop ------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: ``p.grad = None`` (default, as PyTorch) or fill with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; return ``closure()`` if given.

        ``closure`` (optional) re-evaluates the model: zero the gradients, compute the
        loss, call ``loss.backward()`` and return the loss. It is called once, before
        the update, with gradient recording enabled.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        items = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if grad.shape != p.shape:
                    raise ValueError(
                        f"gradient shape {grad.shape} does not match parameter shape {p.shape}"
                    )
                if grad.dtype != p.dtype:
                    grad = grad.astype(p.dtype)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                items.append((p, grad, state, group))
        for p, *_ in items:
            p._bump_version()  # an in-place write: graphs recorded before it must not reuse p
        sizes = [p.data.size for p, *_ in items]
        threads = get_num_threads()
        if threads > 1 and sum(sizes) >= _PARALLEL_MIN_SIZE:
            # The updates are memory-bound elementwise passes and the parameters are
            # independent: split them over the cores (NumPy releases the GIL).
            bins = balanced_bins(sizes, threads)
            while len(self._workspaces) < len(bins):
                self._workspaces.append({})
            parallel_tasks(
                [
                    partial(self._run, [items[i] for i in b], self._workspaces[k])
                    for k, b in enumerate(bins)
                ]
            )
        else:
            self._run(items, self._workspace)
        return loss

    def _run(self, items, workspace: dict) -> None:
        for p, grad, state, group in items:
            work = self._scratch(p.data, workspace) if self._n_work else None
            self._update(p, grad, state, group, work)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict, work) -> None:
        if self._update_fn is None:
            raise NotImplementedError
        self._update_fn(p.data, grad, state, work=work, **self._update_options(group))

    def _update_options(self, group: dict) -> dict[str, Any]:
        """The keyword arguments of ``_update_fn``: the ``_options`` of ``group``, typed."""
        return {name: kind(group[name]) for name, kind in self._options}

    def _scratch(self, data: np.ndarray, workspace: dict | None = None) -> np.ndarray:
        """Scratch space ``(k, *data.shape)`` carved from one reusable buffer per dtype
        (one workspace per thread)."""
        workspace = self._workspace if workspace is None else workspace
        n = self._n_work * data.size
        buf = workspace.get(data.dtype)
        if buf is None or buf.size < n:
            buf = workspace[data.dtype] = np.empty(n, dtype=data.dtype)
        return buf[:n].reshape((self._n_work, *data.shape))

    # -- saving and restoring ---------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's options and state as plain data.

        Returns
        -------
        dict
            ``{"state": {i: {name: ndarray | int | float}}, "param_groups": [{...,
            "params": [i, ...]}]}`` where ``i`` numbers the parameters in group order
            (PyTorch's layout). Arrays are copies: training on does not change a saved
            state dict.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else v)
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by :meth:`state_dict` (arrays are copied).

        The optimizer must have been built over parameters with the same group
        structure and shapes. Array state is cast to its parameter's dtype. Raises
        ``ValueError`` on any mismatch.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"optimizer has {len(self.param_groups)}"
            )
        params_by_id: dict[int, Tensor] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"parameter group {i}: loaded state dict has {len(saved['params'])} "
                    f"parameters, optimizer has {len(group['params'])}"
                )
            for pid, p in zip(saved["params"], group["params"]):
                params_by_id[int(pid)] = p
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = {k: _restore_option(v) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            self._validate_group(new)
            new_groups.append(new)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for pid, saved in state_dict["state"].items():
            pid = int(pid)  # JSON turns integer keys into strings
            if pid not in params_by_id:
                raise ValueError(f"loaded state refers to unknown parameter id {pid}")
            p = params_by_id[pid]
            entry = {}
            for name, value in saved.items():
                if isinstance(value, np.ndarray) and value.ndim > 0:
                    if value.shape != p.shape:
                        raise ValueError(
                            f"state {name!r} of parameter {pid} has shape {value.shape}, "
                            f"parameter has shape {p.shape}"
                        )
                    entry[name] = np.array(value, dtype=p.dtype, copy=True)
                elif isinstance(value, (np.ndarray, np.generic)):  # 0-d from safetensors
                    entry[name] = value.item()
                else:
                    entry[name] = value
            new_state[p] = entry
        self.param_groups = new_groups
        self.state = new_state


def _restore_option(value):
    """Lists saved by JSON become tuples again (``betas``); 0-d arrays become numbers."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return value.item()
    return value

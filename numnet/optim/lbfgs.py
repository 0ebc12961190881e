"""L-BFGS (PyTorch's algorithm and API) in NumPy: two-loop recursion and a strong-Wolfe search.

The curvature history lives in the optimizer's state, so it carries over from one
:meth:`LBFGS.step` call to the next and through ``state_dict``/``load_state_dict``,
as in ``torch.optim.LBFGS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from numnet.autograd import enable_grad
from numnet.optim.optimizer import Optimizer, check_nonnegative

# state entries that are flat float64 vectors over all parameters (or stacks of them)
_VECTORS = ("d", "prev_flat_grad")
_STACKS = ("old_dirs", "old_stps")


@dataclass(frozen=True)
class LBFGSResult:
    """What one :meth:`LBFGS.step` call did.

    Attributes
    ----------
    loss : float
        The last loss evaluated (at the returned parameters, except when the run
        stopped at ``max_iter`` without a line search: then it is the loss before
        the last update, as PyTorch does not evaluate after it).
    n_iter : int
        L-BFGS iterations in this call.
    n_eval : int
        Closure evaluations in this call (line searches included).
    converged : bool
        The gradient tolerance or a ``tolerance_change`` criterion was met (as
        opposed to running out of ``max_iter`` or ``max_eval``).
    message : str
        The reason for stopping.
    grad_norm_inf : float
        ``max |∂L/∂θ|`` of the last gradient evaluated.
    """

    loss: float
    n_iter: int
    n_eval: int
    converged: bool
    message: str
    grad_norm_inf: float


class LBFGS(Optimizer):
    r"""Limited-memory BFGS over all parameters (``torch.optim.LBFGS``), in NumPy.

    Algorithm (one :meth:`step`; ``θ`` is all parameters flattened, in float64)::

        L, g ← closure()                            (one evaluation at the start)
        if max|g| ≤ tolerance_grad: return
        repeat at most max_iter times
            if first iteration ever: d ← −g, H₀ ← 1
            else
                y ← g − g_prev,  s ← t·d
                if yᵀs > 1e-10: keep (s, y) (the last history_size pairs),
                                 H₀ ← yᵀs / yᵀy
                d ← −H g  by the two-loop recursion over the kept pairs with
                          initial matrix H₀·I (Nocedal & Wright, Alg. 7.4)
            t ← lr·min(1, 1/‖g‖₁) on the first iteration ever, else lr
            if gᵀd > −tolerance_change: stop (no descent direction)
            line_search_fn="strong_wolfe": t from a line search satisfying the strong
                Wolfe conditions (c₁ = 1e-4, c₂ = 0.9, at most the evaluations left
                of max_eval (PyTorch ≥ 2.x; it used to be 25); N&W
                Alg. 3.5 bracketing + Alg. 3.6 zoom, safeguarded cubic interpolation)
            θ ← θ + t·d;  L, g ← closure() (without a line search: not after the
                                           last of max_iter iterations)
            stop if max|g| ≤ tolerance_grad, evaluations ≥ max_eval,
                 max|t·d| ≤ tolerance_change or |L − L_prev| < tolerance_change

    Parameters
    ----------
    params : iterable of Parameter
        One group of parameters (float32 or float64; they may mix).
    lr : float
        Step length ``t`` before the line search (default 1). Without a line search
        it is the step taken.
    max_iter : int
        Maximum iterations per :meth:`step` call.
    max_eval : int, optional
        Maximum closure evaluations per call; default ``max_iter * 5 // 4``, as in
        PyTorch.
    tolerance_grad : float
        Stop when the largest gradient component is at most this.
    tolerance_change : float
        Stop when the loss or the step changes less than this.
    history_size : int
        Number of correction pairs ``(s, y)`` kept.
    line_search_fn : None or "strong_wolfe"
        ``None`` (PyTorch's default) takes the fixed step ``lr``; ``"strong_wolfe"``
        searches it (recommended: without it, a badly scaled problem can diverge).

    Raises
    ------
    ValueError
        A bad option, several parameter groups, or :meth:`step` without a closure.

    Notes
    -----
    ``step(closure)`` follows PyTorch's closure contract: the closure zeroes the
    gradients, computes the loss, calls ``loss.backward()`` and returns the loss. It
    returns what the *first* closure call returned (the loss before this step's
    updates), as PyTorch does; details of the call, the last loss included, are in
    :attr:`result` (:class:`LBFGSResult`).

    The history (``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``n_iter``, ``func_evals``) is kept in
    ``state[first parameter]`` between calls, so the usual loop
    ``for _ in range(n): opt.step(closure)`` with a small ``max_iter`` continues one
    run. :meth:`state_dict` holds it as arrays (``old_dirs``/``old_stps`` stacked as
    ``(k, n)``), and a run resumed with :meth:`load_state_dict` continues identically.

    Differences from PyTorch: the search directions, the history and the line
    search are computed in float64 whatever the parameters' dtype (the parameters
    keep their dtype; each evaluation writes ``θ`` into ``p.data`` in place, cast,
    and the gradients are collected as float64, a missing ``.grad`` counting as
    zero). ``.grad`` holds the gradient of the last evaluation, which after a line
    search may be at a different trial point than the one returned (as in PyTorch).

    References
    ----------
    J. Nocedal, S. J. Wright, *Numerical Optimization*, 2nd ed., Springer 2006:
    Alg. 7.4 (two-loop recursion), Alg. 3.5 and 3.6 (strong-Wolfe line search),
    eq. 3.59 (cubic interpolation). D. Liu, J. Nocedal, "On the limited memory BFGS
    method for large scale optimization", Math. Programming 45 (1989).
    ``torch.optim.LBFGS`` (API and iteration).
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self.result: LBFGSResult | None = None

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _validate_group(self, group: dict) -> None:
        check_nonnegative("lr", group["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Invalid {name}: {value!r} (must be an integer >= 1)")
        check_nonnegative("tolerance_grad", group["tolerance_grad"])
        check_nonnegative("tolerance_change", group["tolerance_change"])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"Invalid line_search_fn: {group['line_search_fn']!r} (None or 'strong_wolfe')"
            )

    # -- flat views of the parameters ----------------------------------------------------
    def _layout(self) -> tuple[list, np.ndarray]:
        params = self.param_groups[0]["params"]
        sizes = [p.data.size for p in params]
        return params, np.concatenate(([0], np.cumsum(sizes))).astype(int)

    def _gather(self) -> np.ndarray:
        params, offsets = self._layout()
        x = np.empty(offsets[-1], dtype=np.float64)
        for p, a, b in zip(params, offsets[:-1], offsets[1:]):
            x[a:b] = p.data.reshape(-1)
        return x

    def _write(self, x: np.ndarray) -> None:
        params, offsets = self._layout()
        for p, a, b in zip(params, offsets[:-1], offsets[1:]):
            p.data[...] = x[a:b].reshape(p.shape)  # cast to p's dtype, in place
            p._bump_version()

    def _evaluate(self, closure) -> tuple[Any, float, np.ndarray]:
        """Run the closure; return (its result, the loss as a float, the flat gradient)."""
        params, offsets = self._layout()
        with enable_grad():
            out = closure()
        g = np.zeros(offsets[-1], dtype=np.float64)
        for p, a, b in zip(params, offsets[:-1], offsets[1:]):
            if p.grad is not None:
                g[a:b] = np.asarray(p.grad).reshape(-1)
        return out, float(out), g

    # -- the algorithm --------------------------------------------------------------------
    def step(self, closure: Callable[[], object] | None = None):
        """Run up to ``max_iter`` L-BFGS iterations, continuing the kept history.

        Parameters
        ----------
        closure : callable
            Zeroes the gradients, computes the loss, calls ``loss.backward()`` and
            returns the loss; called several times.

        Returns
        -------
        loss : Tensor or float
            What the first closure call returned (the loss before this call's
            updates), as in PyTorch. :attr:`result` describes the call.
        """
        if closure is None:
            raise ValueError(
                "LBFGS.step needs a closure that zeroes the gradients, computes the loss, "
                "calls loss.backward() and returns the loss"
            )
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = int(group["max_iter"]), int(group["max_eval"])
        tol_grad, tol_change = float(group["tolerance_grad"]), float(group["tolerance_change"])
        state = self.state.setdefault(group["params"][0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig, loss, g = self._evaluate(closure)
        evals = 1
        state["func_evals"] += 1
        if np.max(np.abs(g), initial=0.0) <= tol_grad:
            self._finish(state, loss, 0, evals, True, "gradient tolerance reached", g)
            return orig

        n_iter = 0
        converged, message = False, "max_iter reached"
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            d = self._direction(state, g, int(group["history_size"]))
            state["prev_flat_grad"], state["prev_loss"] = g.copy(), loss
            t = lr * min(1.0, 1.0 / np.abs(g).sum()) if state["n_iter"] == 1 else lr
            state["d"], state["t"] = d, t
            gtd = float(g @ d)
            if gtd > -tol_change:
                converged, message = True, "no descent direction (gᵀd > -tolerance_change)"
                break
            loss, g, t, ls_evals = self._move(closure, d, t, loss, g, gtd, max_eval - evals,
                                              last=n_iter == max_iter)
            state["t"] = t
            evals += ls_evals
            state["func_evals"] += ls_evals
            stop = _stop_reason(n_iter == max_iter, evals >= max_eval,
                                np.max(np.abs(g)) <= tol_grad,
                                np.max(np.abs(d * t)) <= tol_change,
                                abs(loss - state["prev_loss"]) < tol_change)
            if stop is not None:
                converged, message = stop
                break
        self._finish(state, loss, n_iter, evals, converged, message, g)
        return orig

    def _direction(self, state: dict, g: np.ndarray, history_size: int) -> np.ndarray:
        """The quasi-Newton direction ``d = -H g``, after adding the last step's curvature
        pair ``(y, s)`` to the history kept in ``state`` (reset on the first iteration)."""
        if state["n_iter"] == 1:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            return -g
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y = g - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = float(y @ s)
        if ys > 1e-10:  # keep the pair only if the curvature condition holds
            if len(old_dirs) == history_size:
                old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
            old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
            state["H_diag"] = ys / float(y @ y)
        return _two_loop(g, old_dirs, old_stps, ro, state["H_diag"])

    def _move(self, closure, d, t, loss, g, gtd, budget: int, *, last: bool):
        """Step along ``d``: by the strong-Wolfe search, or by the fixed step ``t`` (then
        the closure runs again unless this is the last iteration).
        Returns ``(loss, gradient, t, evaluations)``."""
        if self.param_groups[0]["line_search_fn"] == "strong_wolfe":
            x0 = self._gather()

            def phi(step: float) -> tuple[float, np.ndarray]:
                self._write(x0 + step * d)
                return self._evaluate(closure)[1:]

            loss, g, t, evals = strong_wolfe(phi, d, t, loss, g, gtd, max_ls=budget)
            self._write(x0 + t * d)
            return loss, g, t, evals
        self._write(self._gather() + t * d)
        if last:
            return loss, g, t, 0
        _, loss, g = self._evaluate(closure)
        return loss, g, t, 1

    def _finish(self, state, loss, n_iter, evals, converged, message, g) -> None:
        self.result = LBFGSResult(
            loss=float(loss),
            n_iter=int(n_iter),
            n_eval=int(evals),
            converged=bool(converged),
            message=message,
            grad_norm_inf=float(np.max(np.abs(g), initial=0.0)),
        )

    # -- saving and restoring -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Options and state as plain data, the history included (copies).

        Returns
        -------
        dict
            The base layout (``{"state": {0: {...}}, "param_groups": [...]}``) with the
            history as float64 arrays: ``d``, ``prev_flat_grad`` ``(n,)``, ``old_dirs``,
            ``old_stps`` ``(k, n)``, ``ro`` ``(k,)``, ``n`` being the total number of
            parameter entries and ``k`` the pairs kept; ``t``, ``H_diag``,
            ``prev_loss``, ``n_iter``, ``func_evals`` as numbers.
        """
        sd = super().state_dict()
        n = int(self._layout()[1][-1])
        for entry in sd["state"].values():
            for key in _STACKS:
                if key in entry:
                    entry[key] = np.array(entry[key], dtype=np.float64).reshape(-1, n)
            if "ro" in entry:
                entry["ro"] = np.array(entry["ro"], dtype=np.float64).reshape(-1)
            for key in _VECTORS:
                if isinstance(entry.get(key), np.ndarray):
                    entry[key] = entry[key].copy()
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (the history too; arrays are copied).

        Raises
        ------
        ValueError
            The state does not fit these parameters (group structure, or history
            vectors whose length is not the total number of parameter entries).
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        n = int(self._layout()[1][-1])
        history: dict[Any, dict[str, Any]] = {}
        base_state = {}
        for pid, entry in state_dict["state"].items():
            entry = dict(entry)
            kept = {}
            for key in (*_VECTORS, *_STACKS, "ro"):
                if key in entry:
                    kept[key] = entry.pop(key)
            history[int(pid)] = kept
            base_state[pid] = entry
        super().load_state_dict({**state_dict, "state": base_state})
        params = self.param_groups[0]["params"]
        for pid, kept in history.items():
            state = self.state.setdefault(params[pid], {})
            for key in _VECTORS:
                if kept.get(key) is not None:
                    state[key] = _vector(kept[key], n, key)
            if kept.get("old_dirs") is not None:
                dirs = np.array(kept["old_dirs"], dtype=np.float64).reshape(-1, n)
                stps = np.array(kept["old_stps"], dtype=np.float64).reshape(-1, n)
                ro = np.array(kept["ro"], dtype=np.float64).reshape(-1)
                if not len(dirs) == len(stps) == len(ro):
                    raise ValueError("LBFGS state: old_dirs, old_stps and ro differ in length")
                state["old_dirs"], state["old_stps"] = list(dirs), list(stps)
                state["ro"] = [float(r) for r in ro]
            for key in ("t", "H_diag", "prev_loss"):
                if isinstance(state.get(key), (np.ndarray, np.generic)):
                    state[key] = float(state[key])


def _stop_reason(last_iter, evals_spent, grad_small, step_small, loss_flat):
    """``(converged, message)`` when an L-BFGS iteration's checks end the call (in
    PyTorch's order), else None."""
    if last_iter:
        return False, "max_iter reached"
    if evals_spent:
        return False, "max_eval reached"
    if grad_small:
        return True, "gradient tolerance reached"
    if step_small:
        return True, "step below tolerance_change"
    if loss_flat:
        return True, "loss change below tolerance_change"
    return None


def _vector(value, n: int, key: str) -> np.ndarray:
    arr = np.array(value, dtype=np.float64).reshape(-1)
    if arr.size != n:
        raise ValueError(f"LBFGS state {key!r} has {arr.size} entries, the parameters have {n}")
    return arr


def _two_loop(g, old_dirs, old_stps, ro, h_diag) -> np.ndarray:
    """``−H g`` for the L-BFGS inverse Hessian ``H`` of the pairs (N&W Alg. 7.4).

    ``old_stps`` are the ``s_i``, ``old_dirs`` the ``y_i``, ``ro`` the ``1/(y_iᵀs_i)``,
    oldest first; ``H₀ = h_diag·I``.
    """
    q = -g
    alpha = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):
        alpha[i] = ro[i] * float(old_stps[i] @ q)
        q = q - alpha[i] * old_dirs[i]
    r = h_diag * q
    for i in range(len(old_dirs)):
        beta = ro[i] * float(old_dirs[i] @ r)
        r = r + (alpha[i] - beta) * old_stps[i]
    return r


def _cubic_minimizer(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """Minimizer of the cubic through ``(x1, f1, f'=g1)`` and ``(x2, f2, g2)`` (N&W eq. 3.59).

    Clipped to ``bounds`` (default: the interval between ``x1`` and ``x2``); the
    midpoint of the bounds when the cubic has no minimizer.
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:
        return (lo + hi) / 2
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc >= 0 and math.isfinite(disc):
        d2 = math.sqrt(disc)
        if x1 <= x2:
            den = g2 - g1 + 2 * d2
            m = x2 - (x2 - x1) * ((g2 + d2 - d1) / den) if den != 0 else math.nan
        else:
            den = g1 - g2 + 2 * d2
            m = x1 - (x1 - x2) * ((g1 + d2 - d1) / den) if den != 0 else math.nan
        if math.isfinite(m):
            return min(max(m, lo), hi)
    return (lo + hi) / 2


def strong_wolfe(
    phi: Callable[[float], tuple[float, np.ndarray]],
    d: np.ndarray,
    t: float,
    f0: float,
    g0: np.ndarray,
    gtd0: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """A step ``t`` along ``d`` satisfying the strong Wolfe conditions (N&W Alg. 3.5, 3.6).

    Conditions: ``f(t) ≤ f0 + c1·t·gtd0`` and ``|f'(t)| ≤ c2·|gtd0|``, with
    ``f'(t) = ∇L(x + t d)ᵀd``. The bracketing phase extrapolates by cubic
    interpolation within ``[t + 0.01(t − t_prev), 10 t]``; the zoom phase
    interpolates inside the bracket, moving a trial point that falls within 10 % of
    an end too often back to 10 % of the interval (safeguard).

    Parameters
    ----------
    phi : callable
        ``phi(t) -> (loss, flat gradient)`` at ``x + t d``.
    d : (n,) ndarray
        The descent direction.
    t : float
        First trial step.
    f0, g0, gtd0
        Loss, gradient and directional derivative ``g0ᵀd < 0`` at ``t = 0``.
    c1, c2 : float
        Wolfe constants, ``0 < c1 < c2 < 1``.
    tolerance_change : float
        Stop zooming when the bracket is shorter than this (in ``max|t d|``).
    max_ls : int
        Maximum evaluations.

    Returns
    -------
    (loss, gradient, t, n_evals)
        At the returned step (the best point found if the conditions were not met).
    """
    start = [0.0, f0, g0, gtd0]
    bracket, done, ls_iter, evals = _bracket(phi, d, t, start, c1, c2, max_ls)
    if done:
        best = bracket[0]
    else:
        best, more = _zoom(phi, d, bracket, start, c1, c2, tolerance_change, max_ls - ls_iter)
        evals += more
    t, f_new, g_new, _ = best
    return f_new, g_new, t, evals


def _probe(phi, t: float, d: np.ndarray) -> list:
    """The point ``[t, f(t), ∇f(t), f'(t)]`` of the line search (``f'(t) = ∇f(t)ᵀd``)."""
    f, g = phi(t)
    return [t, f, g, float(g @ d)]


def _bracket(phi, d, t: float, start: list, c1: float, c2: float, max_ls: int):
    """The bracketing phase (N&W Alg. 3.5): extrapolate until an interval holds a
    strong-Wolfe point. Returns ``(bracket, done, iterations, evals)``; ``done`` means
    its one point already satisfies the conditions."""
    f0, gtd0 = start[1], start[3]
    prev, new = start, _probe(phi, t, d)
    evals, ls_iter = 1, 0
    while ls_iter < max_ls:
        if new[1] > f0 + c1 * new[0] * gtd0 or (ls_iter > 1 and new[1] >= prev[1]):
            return [prev, new], False, ls_iter, evals
        if abs(new[3]) <= -c2 * gtd0:
            return [new], True, ls_iter, evals
        if new[3] >= 0:
            return [prev, new], False, ls_iter, evals
        t_prev, t = prev[0], new[0]
        t_next = _cubic_minimizer(
            t_prev, prev[1], prev[3], t, new[1], new[3], bounds=(t + 0.01 * (t - t_prev), t * 10)
        )
        prev, new = new, _probe(phi, t_next, d)
        evals += 1
        ls_iter += 1
    return [start, new], False, ls_iter, evals


def _zoom(phi, d, br: list, start: list, c1, c2, tolerance_change, max_ls: int):
    """The zoom phase (N&W Alg. 3.6): shrink the bracket ``br`` (two points) by cubic
    interpolation. Returns ``(the best point, evals)``."""
    f0, gtd0 = start[1], start[3]
    d_norm = float(np.max(np.abs(d)))
    evals = 0
    insufficient_progress = False
    low, high = (0, 1) if br[0][1] <= br[-1][1] else (1, 0)
    while evals < max_ls:
        if abs(br[1][0] - br[0][0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimizer(br[0][0], br[0][1], br[0][3], br[1][0], br[1][1], br[1][3])
        t, insufficient_progress = _off_the_ends(t, br[0][0], br[1][0], insufficient_progress)
        new = _probe(phi, t, d)
        evals += 1
        done = False
        if new[1] > f0 + c1 * t * gtd0 or new[1] >= br[low][1]:
            br[high] = new
        else:
            done = abs(new[3]) <= -c2 * gtd0
            if not done and new[3] * (br[high][0] - br[low][0]) >= 0:
                br[high] = br[low]
            br[low] = new
        low, high = (0, 1) if br[0][1] <= br[1][1] else (1, 0)
        if done:
            break
    return br[low], evals


def _off_the_ends(t: float, t1: float, t2: float, insufficient_progress: bool):
    """The zoom's safeguard: a trial step within 10 % of an end of ``[t1, t2]`` twice in
    a row (or outside it) moves to 10 % of the interval from that end."""
    a, b = min(t1, t2), max(t1, t2)
    eps = 0.1 * (b - a)
    if min(b - t, t - a) >= eps:
        return t, False
    if insufficient_progress or t >= b or t <= a:
        return (b - eps if abs(t - b) < abs(t - a) else a + eps), False
    return t, True

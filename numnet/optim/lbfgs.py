"""L-BFGS for full-batch problems, delegating the algorithm to ``scipy.optimize``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from numnet.autograd import enable_grad
from numnet.optim.optimizer import Optimizer, check_nonnegative


@dataclass(frozen=True)
class LBFGSResult:
    """What one :meth:`LBFGS.step` call did.

    Attributes
    ----------
    loss : float
        Loss at the returned parameters.
    n_iter : int
        L-BFGS iterations.
    n_eval : int
        Closure evaluations (loss and gradient), line searches included.
    converged : bool
        SciPy's ``success`` flag: a gradient or function-change tolerance was met.
    message : str
        SciPy's reason for stopping.
    grad_norm_inf : float
        ``max |∂L/∂θ|`` at the returned parameters.
    """

    loss: float
    n_iter: int
    n_eval: int
    converged: bool
    message: str
    grad_norm_inf: float


class LBFGS(Optimizer):
    r"""Limited-memory BFGS over all parameters, via ``scipy.optimize.minimize``.

        Algorithm (``scipy.optimize.minimize(method="L-BFGS-B")`` without bounds)::

            input: θ₀ (params flattened to one float64 vector), m (history_size)
            for k = 0, 1, ... < max_iter
                d_k ← −H_k ∇L(θ_k)     (H_k from the last m pairs (s_i, y_i), two-loop
                                       recursion, s_i = θ_{i+1} − θ_i, y_i = ∇L_{i+1} − ∇L_i)
                θ_{k+1} ← θ_k + η_k d_k  (η_k from a line search satisfying the Wolfe
                                       conditions)
                stop if max|∇L(θ_{k+1})| ≤ tolerance_grad
                  or (L_k − L_{k+1}) / max(|L_k|, |L_{k+1}|, 1) ≤ tolerance_change
                  or more than max_eval evaluations

        Parameters
        ----------
        params : iterable of Parameter
            One group of parameters (float32 or float64; they may mix).
        max_iter : int
            Maximum L-BFGS iterations per :meth:`step` (SciPy's ``maxiter``).
        max_eval : int, optional
            Maximum closure evaluations per :meth:`step` (SciPy's ``maxfun``); default
            ``max_iter * 5 // 4`` as in PyTorch.
        tolerance_grad : float
            Stop when the largest gradient component is at most this (SciPy's ``gtol``).
        tolerance_change : float
            Stop when the relative decrease of the loss is at most this (SciPy's ``ftol``).
        history_size : int
            Number of correction pairs kept (SciPy's ``maxcor``).

        Notes
        -----
        ``step(closure)`` follows PyTorch's closure contract: the closure zeroes the
        gradients, computes the loss, calls ``loss.backward()`` and returns the loss. SciPy
        works on one float64 vector; each evaluation writes it into ``p.data`` (cast to the
        parameters' dtype, in place) and collects the gradients as float64 (a missing
        ``.grad`` counts as zero). The parameters are left at SciPy's final point; ``.grad``
    holds the gradient of the last evaluation (normally that same point).

        Unlike PyTorch, the curvature history does not survive across ``step`` calls:
        each call is one full ``scipy.optimize.minimize`` run, so call ``step`` once with a
        large ``max_iter`` for a full-batch problem. With float32 parameters the loss and
        gradient carry float32 rounding, which limits the reachable tolerance. There is no
        learning rate: the line search chooses the step length.

        References
        ----------
        D. Liu, J. Nocedal, "On the limited memory BFGS method for large scale
        optimization", Math. Programming 45 (1989). R. Byrd, P. Lu, J. Nocedal, C. Zhu,
        "A limited memory algorithm for bound constrained optimization", SIAM J. Sci.
        Comput. 16 (1995). ``scipy.optimize.minimize``; ``torch.optim.LBFGS`` (API).
    """

    def __init__(
        self,
        params: Iterable,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
    ) -> None:
        if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
            max_eval = max_iter * 5 // 4
        defaults = dict(
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self.result: LBFGSResult | None = None
        self.scipy_result = None

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _validate_group(self, group: dict) -> None:
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Invalid {name}: {value!r} (must be an integer >= 1)")
        check_nonnegative("tolerance_grad", group["tolerance_grad"])
        check_nonnegative("tolerance_change", group["tolerance_change"])

    def step(self, closure: Callable[[], object] | None = None) -> float:
        """Minimize the closure's loss; return the final loss (a float).

        Details of the run are in :attr:`result` (:class:`LBFGSResult`) and the raw
        ``scipy.optimize.OptimizeResult`` in :attr:`scipy_result`.
        """
        if closure is None:
            raise ValueError(
                "LBFGS.step needs a closure that zeroes the gradients, computes the loss, "
                "calls loss.backward() and returns the loss"
            )
        try:
            from scipy.optimize import minimize
        except ImportError as err:  # pragma: no cover - scipy is a test dependency
            raise ImportError(
                "LBFGS needs SciPy: pip install 'numnet[scipy]' (or pip install scipy)"
            ) from err
        group = self.param_groups[0]
        params = group["params"]
        sizes = [p.data.size for p in params]
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        n = int(offsets[-1])

        def write(x: np.ndarray) -> None:
            for p, a, b in zip(params, offsets[:-1], offsets[1:]):
                p.data[...] = x[a:b].reshape(p.shape)  # cast to p's dtype, in place

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            write(x)
            with enable_grad():
                loss = closure()
            g = np.zeros(n, dtype=np.float64)
            for p, a, b in zip(params, offsets[:-1], offsets[1:]):
                if p.grad is not None:
                    g[a:b] = p.grad.reshape(-1)
            return float(loss), g

        x0 = np.concatenate([p.data.reshape(-1).astype(np.float64) for p in params])
        res = minimize(
            fun,
            x0,
            jac=True,
            method="L-BFGS-B",
            options=dict(
                maxiter=int(group["max_iter"]),
                maxfun=int(group["max_eval"]),
                gtol=float(group["tolerance_grad"]),
                ftol=float(group["tolerance_change"]),
                maxcor=int(group["history_size"]),
            ),
        )
        write(res.x)
        message = res.message if isinstance(res.message, str) else res.message.decode()
        self.scipy_result = res
        self.result = LBFGSResult(
            loss=float(res.fun),
            n_iter=int(res.nit),
            n_eval=int(res.nfev),
            converged=bool(res.success),
            message=message,
            grad_norm_inf=float(np.max(np.abs(res.jac))) if n else 0.0,
        )
        state = self.state.setdefault(params[0], {"n_iter": 0, "func_evals": 0})
        state["n_iter"] += self.result.n_iter
        state["func_evals"] += self.result.n_eval
        return self.result.loss

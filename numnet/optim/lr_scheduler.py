"""Learning-rate schedules: pure functions ``lr(t)`` and PyTorch-named scheduler classes.

A scheduler wraps an optimizer and rewrites ``group["lr"]`` of every parameter group
each time ``scheduler.step()`` is called (after ``optimizer.step()``, once per
iteration or once per epoch: the unit is yours). As in PyTorch, ``t = last_epoch``
counts the ``scheduler.step()`` calls; constructing a scheduler sets ``t = 0`` and the
group's learning rate to ``lr(0)``, and the group's original learning rate is kept as
``group["initial_lr"]`` (the base rate ``η₀``).

Each class evaluates a closed-form pure function of ``t`` (``step_lr``,
``cosine_annealing_lr``...), which the tests and plots can call directly. Schedulers
are therefore not chainable (two schedulers on one optimizer overwrite each other's
rate); compose the functions with :class:`LambdaLR` instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from numnet.optim.optimizer import Optimizer, check_nonnegative


# -- the schedules as pure functions ------------------------------------------------------
def constant_lr(t: int, base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> float:
    """``base_lr·factor`` for ``t < total_iters``, then ``base_lr`` (``ConstantLR``).

    ``factor=1`` (or ``total_iters=0``) is the constant schedule ``η_t = η₀``.
    """
    return base_lr * factor if t < total_iters else base_lr


def seed_annealing_lr(k: int, lr0: float, k0: int) -> float:
    """Seed 000's annealing schedule: ``η_k = η₀`` for ``k <= k₀``, then ``η₀·k₀/k``.

    Math::

        η_k = η₀            1 <= k <= k₀
        η_k = η₀ · k₀ / k   k > k₀        (continuous at k₀, then ∝ 1/k)

    Parameters
    ----------
    k : int
        Iteration number, counted from 1 as in seed 000's loop "repeat for
        k = 1, 2, …: select a step size η_k; θ_k = θ_{k−1} − η_k ∇L(θ_{k−1})".
    lr0 : float
        ``η₀``.
    k0 : int
        Number of iterations ``k₀ >= 1`` at the initial rate.

    References
    ----------
    Seed 000, "Gradient descent": "a vanishing sequence of weights that start with some
    initial η₀ which is kept for a certain number of iterations and then gradually
    reduced as 1/k … referred to as *annealing*".
    """
    if k < 1:
        raise ValueError(f"k counts iterations from 1, got {k}")
    return lr0 if k <= k0 else lr0 * k0 / k


def step_lr(t: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """``base_lr·γ^⌊t / step_size⌋`` (``StepLR``)."""
    return base_lr * gamma ** (t // step_size)


def exponential_lr(t: int, base_lr: float, gamma: float) -> float:
    """``base_lr·γᵗ`` (``ExponentialLR``)."""
    return base_lr * gamma**t


def cosine_annealing_lr(t: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    """``η_min + (η₀ − η_min)(1 + cos(π t / T_max)) / 2`` (SGDR without restarts).

    Reaches ``eta_min`` at ``t = T_max``; beyond it the cosine continues (rises again),
    as PyTorch's closed form.
    """
    return eta_min + (base_lr - eta_min) * (1.0 + math.cos(math.pi * t / T_max)) / 2.0


def lambda_lr(t: int, base_lr: float, lr_lambda: Callable[[int], float]) -> float:
    """``base_lr·lr_lambda(t)`` (``LambdaLR``)."""
    return base_lr * float(lr_lambda(t))


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"Invalid {name}: {value!r} (must be an integer >= {minimum})")


def _check_positive(name: str, value) -> None:
    check_nonnegative(name, value)
    if value == 0:
        raise ValueError(f"Invalid {name}: {value} (must be > 0)")


# -- scheduler classes ----------------------------------------------------------------------
class LRScheduler:
    """Base class: keeps ``last_epoch`` and writes ``lr(t)`` into the optimizer's groups.

    Parameters
    ----------
    optimizer : Optimizer
    last_epoch : int
        ``-1`` to start fresh; a value ``>= 0`` resumes (the groups must then already
        hold ``"initial_lr"``), as in PyTorch.

    Notes
    -----
    Subclasses implement ``_lr_at(base_lr, t)``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        _check_int("last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when "
                    "resuming a scheduler (last_epoch >= 0)"
                )
        self.base_lrs: list[float] = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def _lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rate of each group at ``t = last_epoch``."""
        return [float(self._lr_at(base, self.last_epoch)) for base in self.base_lrs]

    def step(self) -> None:
        """Advance ``t`` by one and set every group's ``lr`` to ``lr(t)``."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = lrs

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()`` (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Plain-data state (everything but the optimizer and callables)."""
        return {
            k: (list(v) if isinstance(v, list) else v)
            for k, v in self.__dict__.items()
            if k != "optimizer" and not callable(v) and k != "lr_lambdas"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` (does not touch ``group["lr"]``)."""
        self.__dict__.update(
            {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in state_dict.items()}
        )


class ConstantLR(LRScheduler):
    """``lr = η₀·factor`` for the first ``total_iters`` steps, then ``η₀`` (PyTorch).

    ``ConstantLR(opt, factor=1.0)`` is the constant schedule ``η_t = η₀``. See
    :func:`constant_lr`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        check_nonnegative("factor", factor)
        if factor > 1.0:
            raise ValueError(f"Invalid factor: {factor} (must be in [0, 1])")
        _check_int("total_iters", total_iters, 0)
        self.factor = float(factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, t: int) -> float:
        return constant_lr(t, base_lr, self.factor, self.total_iters)


class SeedAnnealingLR(LRScheduler):
    """Seed 000's annealing: ``η₀`` for the first ``k₀`` updates, then ``η₀·k₀/k``.

    The update made after ``t`` calls of ``scheduler.step()`` is seed 000's iteration
    ``k = t + 1``, so ``lr = seed_annealing_lr(t + 1, η₀, k₀)``: updates ``1 … k₀`` use
    ``η₀``, update ``k₀ + 1`` uses ``η₀·k₀/(k₀+1)``. Call ``step()`` once per iteration
    (or once per epoch to count ``k`` in epochs). See :func:`seed_annealing_lr`.

    Parameters
    ----------
    optimizer : Optimizer
    k0 : int
        Iterations ``k₀ >= 1`` at the initial rate ``η₀`` (the group's lr).
    last_epoch : int
    """

    def __init__(self, optimizer: Optimizer, k0: int, last_epoch: int = -1) -> None:
        _check_int("k0", k0, 1)
        self.k0 = int(k0)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, t: int) -> float:
        return seed_annealing_lr(t + 1, base_lr, self.k0)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (see :func:`step_lr`)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        _check_int("step_size", step_size, 1)
        _check_positive("gamma", gamma)
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, t: int) -> float:
        return step_lr(t, base_lr, self.step_size, self.gamma)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step (see :func:`exponential_lr`)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_positive("gamma", gamma)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, t: int) -> float:
        return exponential_lr(t, base_lr, self.gamma)


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from ``η₀`` to ``eta_min`` over ``T_max`` steps.

    See :func:`cosine_annealing_lr`. Reference: I. Loshchilov, F. Hutter, "SGDR:
    Stochastic gradient descent with warm restarts", ICLR 2017.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        _check_int("T_max", T_max, 1)
        check_nonnegative("eta_min", eta_min)
        self.T_max = int(T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, t: int) -> float:
        return cosine_annealing_lr(t, base_lr, self.T_max, self.eta_min)


class LambdaLR(LRScheduler):
    """``lr = η₀·lr_lambda(t)``; one function, or one per parameter group.

    The functions are not part of :meth:`state_dict`; rebuild the scheduler with them.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        n = len(optimizer.param_groups)
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * n
        else:
            self.lr_lambdas = list(lr_lambda)
            if len(self.lr_lambdas) != n:
                raise ValueError(f"expected {n} lr_lambdas, got {len(self.lr_lambdas)}")
            if not all(callable(f) for f in self.lr_lambdas):
                raise ValueError("every lr_lambda must be callable")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            lambda_lr(self.last_epoch, base, f) for base, f in zip(self.base_lrs, self.lr_lambdas)
        ]

"""Learning-rate schedules: pure functions ``lr(t)`` and PyTorch-named scheduler classes.

A scheduler wraps an optimizer and rewrites ``group["lr"]`` of every parameter group
each time ``scheduler.step()`` is called (after ``optimizer.step()``, once per
iteration or once per epoch: the unit is yours). As in PyTorch, ``t = last_epoch``
counts the ``scheduler.step()`` calls; constructing a scheduler sets ``t = 0`` and
the group's original learning rate is kept as ``group["initial_lr"]`` (the base rate
``η₀``).

Each class has a closed form, a pure function of ``t`` (``step_lr``,
``cosine_annealing_lr``...) that the tests and plots can call directly. Like
PyTorch's, the classes are *chainable*: ``step()`` updates the rate the group
currently has (``StepLR`` multiplies it by ``γ`` every ``step_size`` steps,
``ExponentialLR`` by ``γ`` every step, ``CosineAnnealingLR`` applies the recursive
form of the cosine), so two schedulers on one optimizer compose: ``StepLR`` and
``ExponentialLR`` stepped together give ``η₀·γ₁^⌊t/s⌋·γ₂ᵗ``, exactly as in PyTorch.
A scheduler alone follows its closed form. :class:`LambdaLR` is the exception, as in
PyTorch: it sets ``η₀·λ(t)`` and overwrites the others. :class:`ChainedScheduler`
steps several schedulers as one and :class:`SequentialLR` switches from one to the
next at given milestones (PyTorch's classes).
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
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
    """Base class: keeps ``last_epoch`` and updates the optimizer's learning rates.

    Parameters
    ----------
    optimizer : Optimizer
    last_epoch : int
        ``-1`` to start fresh; a value ``>= 0`` resumes (the groups must then already
        hold ``"initial_lr"``), as in PyTorch.

    Raises
    ------
    TypeError
        ``optimizer`` is not an :class:`Optimizer`.
    KeyError
        Resuming (``last_epoch >= 0``) without ``"initial_lr"`` in the groups.

    Notes
    -----
    Subclasses implement ``_lr_at(base_lr, t)`` (the closed form) and may implement
    the chainable ``get_lr()`` (the new rate from ``group["lr"]``); the default
    ``get_lr`` is the closed form, which overwrites the rate (not chainable).
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
        self._step_count = 0
        self.step()

    def _lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def _closed_form_lr(self) -> list[float]:
        """The closed form ``lr(t)`` of each group at ``t = last_epoch``."""
        return [float(self._lr_at(base, self.last_epoch)) for base in self.base_lrs]

    def _group_lrs(self) -> list[float]:
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:
        """The learning rate of each group for ``t = last_epoch`` (what ``step`` sets)."""
        return self._closed_form_lr()

    def step(self) -> None:
        """Advance ``t`` by one and set every group's ``lr`` (see :meth:`get_lr`)."""
        self._step_count += 1
        self.last_epoch += 1
        self._set(self.get_lr())

    def _restart(self) -> None:
        """``t = 0`` with the closed form (PyTorch's ``step(0)``, used by SequentialLR)."""
        self._step_count += 1
        self.last_epoch = 0
        self._set(self._closed_form_lr())

    def _set(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [float(lr) for lr in lrs]

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
        """Restore a state saved by :meth:`state_dict` (does not touch ``group["lr"]``).

        As in PyTorch, the chainable schedulers continue from the optimizer's current
        rates: restore the optimizer's own state dict too (it holds ``lr``).
        """
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

    def get_lr(self) -> list[float]:
        """Chainable (PyTorch): ``×factor`` at ``t = 0``, ``÷factor`` at ``total_iters``."""
        t, lrs = self.last_epoch, self._group_lrs()
        if t == 0:
            return [lr * self.factor for lr in lrs]
        if t != self.total_iters:
            return lrs
        if self.factor == 0:  # PyTorch divides by zero here; the closed form is defined
            return self._closed_form_lr()
        return [lr * (1.0 / self.factor) for lr in lrs]


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

    def get_lr(self) -> list[float]:
        """Chainable: update ``k = t + 1 > k₀`` multiplies the rate by ``(k − 1)/k``."""
        t, lrs = self.last_epoch, self._group_lrs()
        if self._step_count == 1 and t > 0:  # resuming: start from the closed form
            return self._closed_form_lr()
        if t == 0 or t + 1 <= self.k0:
            return lrs
        return [lr * t / (t + 1) for lr in lrs]


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

    def get_lr(self) -> list[float]:
        """Chainable (PyTorch): the current rate times ``γ`` when ``t`` is a multiple
        of ``step_size``, else unchanged."""
        t, lrs = self.last_epoch, self._group_lrs()
        if t == 0 or t % self.step_size != 0:
            return lrs
        return [lr * self.gamma for lr in lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step (see :func:`exponential_lr`)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_positive("gamma", gamma)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, t: int) -> float:
        return exponential_lr(t, base_lr, self.gamma)

    def get_lr(self) -> list[float]:
        """Chainable (PyTorch): the current rate times ``γ`` (unchanged at ``t = 0``)."""
        lrs = self._group_lrs()
        return lrs if self.last_epoch == 0 else [lr * self.gamma for lr in lrs]


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

    def get_lr(self) -> list[float]:
        """Chainable (PyTorch's recursive form)::

            η_t = η_min + (η_{t−1} − η_min)·(1 + cos(π t/T)) / (1 + cos(π (t−1)/T))

        with PyTorch's special case where the denominator vanishes (``t − 1 − T`` a
        multiple of ``2T``): ``η_t = η_{t−1} + (η₀ − η_min)(1 − cos(π/T))/2``.
        Alone it equals :func:`cosine_annealing_lr` (up to rounding).
        """
        t, T, lrs = self.last_epoch, self.T_max, self._group_lrs()
        if t == 0:
            return lrs
        if self._step_count == 1 and t > 0:  # resuming: start from the closed form
            return self._closed_form_lr()
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (base - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base in zip(lrs, self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in lrs]


class LambdaLR(LRScheduler):
    """``lr = η₀·lr_lambda(t)``; one function, or one per parameter group.

    Not chainable, as in PyTorch: it sets ``η₀·λ(t)`` whatever another scheduler did.
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


def _check_schedulers(schedulers, optimizer) -> list[LRScheduler]:
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError("expected at least one scheduler")
    for i, sched in enumerate(schedulers):
        if not isinstance(sched, LRScheduler):
            raise TypeError(f"schedulers[{i}] is a {type(sched).__name__}, not an LRScheduler")
        if isinstance(sched, (ChainedScheduler, SequentialLR)):
            raise ValueError(f"schedulers[{i}]: nesting {type(sched).__name__} is not supported")
        if sched.optimizer is not optimizer:
            raise ValueError(
                f"schedulers[{i}] wraps a different optimizer than the first scheduler; "
                "all must share one optimizer"
            )
    return schedulers


class ChainedScheduler(LRScheduler):
    """Step several schedulers of one optimizer as one (``torch``'s ``ChainedScheduler``).

    Parameters
    ----------
    schedulers : sequence of LRScheduler
        Stepped in this order by each :meth:`step`; chainable ones compose.
    optimizer : Optimizer, optional
        Defaults to the first scheduler's; all must share it.

    Raises
    ------
    ValueError
        No scheduler, schedulers on different optimizers, or a nested
        ``ChainedScheduler``/``SequentialLR``.
    TypeError
        An entry is not a scheduler.
    """

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None
    ) -> None:
        schedulers = list(schedulers)
        if optimizer is None and schedulers and isinstance(schedulers[0], LRScheduler):
            optimizer = schedulers[0].optimizer
        self._schedulers = _check_schedulers(schedulers, optimizer)
        self.optimizer = optimizer
        self._last_lr = self._group_lrs()

    def step(self) -> None:
        """Step every scheduler, in order."""
        for sched in self._schedulers:
            sched.step()
        self._last_lr = self._group_lrs()

    def state_dict(self) -> dict[str, Any]:
        """``{"_schedulers": [each scheduler's state], "_last_lr": [...]}``."""
        return {
            "_schedulers": [s.state_dict() for s in self._schedulers],
            "_last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output into the same schedulers."""
        _load_schedulers(self._schedulers, state_dict["_schedulers"])
        self._last_lr = list(state_dict["_last_lr"])


def _load_schedulers(schedulers: list, states: list) -> None:
    """Restore each of ``schedulers`` from its entry of ``states`` (same order and count)."""
    if len(states) != len(schedulers):
        raise ValueError(f"expected {len(schedulers)} scheduler states, got {len(states)}")
    for sched, state in zip(schedulers, states):
        sched.load_state_dict(state)


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` between ``milestones[i-1]`` and ``milestones[i]`` (``torch``'s).

    Parameters
    ----------
    optimizer : Optimizer
    schedulers : sequence of LRScheduler
        All on ``optimizer``. At milestone ``milestones[i-1]`` scheduler ``i``
        restarts at ``t = 0`` from its closed form (PyTorch's ``step(0)``).
    milestones : sequence of int
        ``len(schedulers) - 1`` increasing step counts.
    last_epoch : int

    Raises
    ------
    ValueError
        Schedulers on another optimizer, a wrong number of milestones, or a nested
        ``ChainedScheduler``/``SequentialLR``.

    Notes
    -----
    As in PyTorch, construction resets every group's ``lr`` to ``initial_lr``, undoes
    the initial step of every scheduler and redoes it for the first only.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        self._schedulers = _check_schedulers(schedulers, optimizer)
        milestones = [int(m) for m in milestones]
        if len(milestones) != len(self._schedulers) - 1:
            raise ValueError(
                f"SequentialLR expects {len(self._schedulers) - 1} milestones for "
                f"{len(self._schedulers)} schedulers, got {len(milestones)}"
            )
        if any(b <= a for a, b in zip(milestones, milestones[1:])):
            raise ValueError(f"milestones must increase, got {milestones}")
        _check_int("last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for sched in self._schedulers:
            sched.last_epoch -= 1
            sched._step_count -= 1
        self._schedulers[0].step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self) -> None:
        """Advance ``t``; step (or, at a milestone, restart) the scheduler in charge."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._restart()
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """``last_epoch``, milestones, ``_last_lr`` and each scheduler's state."""
        return {
            "last_epoch": self.last_epoch,
            "_milestones": list(self._milestones),
            "_last_lr": list(self._last_lr),
            "_schedulers": [s.state_dict() for s in self._schedulers],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output into the same schedulers."""
        _load_schedulers(self._schedulers, state_dict["_schedulers"])
        self.last_epoch = int(state_dict["last_epoch"])
        self._milestones = list(state_dict["_milestones"])
        self._last_lr = list(state_dict["_last_lr"])

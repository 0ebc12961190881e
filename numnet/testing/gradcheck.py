"""Gradient checking by central finite differences, in float64.

For ``f: (x_1, ..., x_k) ↦ y`` and a fixed random output weighting ``u`` (so that
``φ(x) = ⟨u, f(x)⟩`` is a scalar), the engine's gradient ``∇φ = Jᵀu`` (one backward
pass) is compared with

* **elementwise** central differences ``(φ(x + ε e_i) - φ(x - ε e_i)) / 2ε`` for every
  input entry ``i`` (exact but costs two forwards per entry), and
* **random projections** ``⟨∇φ, v⟩ ≈ (φ(x + εv) - φ(x - εv)) / 2ε`` for random
  directions ``v``: the ``⟨u, J v⟩`` form of HIPS/autograd's ``check_vjp``, cheap
  for large inputs.

A failure raises :class:`GradcheckError` naming the input, the worst entry, the
analytic and numeric values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numnet.random import as_generator
from numnet.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with finite differences."""


def _as_inputs(inputs) -> list[Tensor]:
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    out = []
    for x in inputs:
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=np.float64)
        out.append(x)
    return out


def _scalar(fn, inputs, u) -> float:
    y = fn(*inputs)
    return float(np.sum(np.asarray(y.data, dtype=np.float64) * u))


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence,
    *,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    mode: str = "both",
    n_directions: int = 4,
    generator=0,
) -> bool:
    """Check ``fn``'s VJPs against central finite differences; return True or raise.

    Parameters
    ----------
    fn : callable
        Maps the input Tensors to one output Tensor (any shape).
    inputs : Tensor or sequence of Tensors
        float64 tensors; those with ``requires_grad=True`` are checked.
    eps : float
        Finite-difference step.
    atol, rtol : float
        Tolerances: ``|analytic - numeric| ≤ atol + rtol·|numeric|``.
    mode : {'elementwise', 'projection', 'both'}
    n_directions : int
        Number of random directions for the projection test.
    generator : seed or Generator
        For ``u`` and the directions ``v``.

    Raises
    ------
    GradcheckError
        With the worst entry's index, analytic and numeric values.
    TypeError
        If an input to check is not float64.
    """
    if mode not in ("elementwise", "projection", "both"):
        raise ValueError(f"mode must be 'elementwise', 'projection' or 'both', got {mode!r}")
    generator = as_generator(generator)
    xs = _as_inputs(inputs)
    checked = _checked_inputs(xs)
    u, analytic = _analytic_vjp(fn, xs, checked, generator)
    if mode in ("elementwise", "both"):
        for k, i in enumerate(checked):
            _check_elementwise(fn, xs, i, u, analytic[k], eps, atol, rtol)
    if mode in ("projection", "both"):
        for _ in range(n_directions):
            _check_direction(fn, xs, checked, u, analytic, generator, eps, atol, rtol)
    return True


def _checked_inputs(xs: list) -> list[int]:
    """Indices of the inputs to check (``requires_grad``), all float64."""
    checked = [i for i, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if xs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {xs[i].dtype}; finite differences need float64"
            )
    return checked


def _analytic_vjp(fn, xs: list, checked: list[int], generator) -> tuple[np.ndarray, list]:
    """A random adjoint ``u`` of ``fn``'s output and the engine's ``(∂y/∂x_i)ᵀ u`` for
    every checked input (zeros where the input does not reach the output)."""
    y = fn(*xs)
    if not isinstance(y, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(y).__name__}")
    u = generator.standard_normal(y.shape)
    for x in xs:
        x.grad = None
    if y.requires_grad:
        y.backward(u.astype(y.dtype))
    analytic = [
        np.zeros(xs[i].shape) if xs[i].grad is None else xs[i].grad.astype(np.float64)
        for i in checked
    ]
    return u, analytic


def _check_elementwise(fn, xs: list, i: int, u, analytic, eps, atol, rtol) -> None:
    """Central differences of ``⟨u, fn⟩`` entry by entry of input ``i`` (two forwards
    per entry: a test utility); raise at the worst entry out of tolerance."""
    x = xs[i]
    flat = x.data.reshape(-1)
    numeric = np.empty(flat.size)
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        plus = _scalar(fn, xs, u)
        flat[j] = orig - eps
        minus = _scalar(fn, xs, u)
        flat[j] = orig
        numeric[j] = (plus - minus) / (2 * eps)
    a = analytic.reshape(-1)
    err = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
    if err.size and np.max(err) > 0:
        j = int(np.argmax(err))
        idx = np.unravel_index(j, x.shape) if x.shape else ()
        raise GradcheckError(
            f"gradcheck failed for input {i} (shape {x.shape}) at index {idx}: "
            f"analytic {a[j]:.10g} vs numeric {numeric[j]:.10g} "
            f"(|diff| = {abs(a[j] - numeric[j]):.3g})"
        )


def _check_direction(fn, xs: list, checked, u, analytic, generator, eps, atol, rtol) -> None:
    """The projection test along one random direction ``v`` of all checked inputs:
    ``⟨∇, v⟩`` against ``(f(x + εv) − f(x − εv)) / 2ε``."""
    vs = [generator.standard_normal(xs[i].shape) for i in checked]
    saved = [xs[i].data.copy() for i in checked]
    for i, x0, v in zip(checked, saved, vs):
        xs[i].data = x0 + eps * v
    plus = _scalar(fn, xs, u)
    for i, x0, v in zip(checked, saved, vs):
        xs[i].data = x0 - eps * v
    minus = _scalar(fn, xs, u)
    for i, x0 in zip(checked, saved):
        xs[i].data = x0
    numeric = (plus - minus) / (2 * eps)
    a = float(sum(np.sum(g * v) for g, v in zip(analytic, vs)))
    if not abs(a - numeric) <= atol + rtol * abs(numeric):
        raise GradcheckError(
            f"gradcheck failed along a random direction: ⟨∇, v⟩ analytic {a:.10g} vs "
            f"numeric {numeric:.10g} (|diff| = {abs(a - numeric):.3g})"
        )


def float64_tensor(array, requires_grad: bool = True) -> Tensor:
    """A float64 tensor (the precision finite differences need)."""
    return Tensor(
        np.asarray(array, dtype=np.float64), dtype=np.float64, requires_grad=requires_grad
    )

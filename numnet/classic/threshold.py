"""Threshold logic units and the networks they make (McCulloch & Pitts; seed 002, 3.1).

A threshold logic unit (TLU) fires when a weighted sum of Boolean inputs reaches its
threshold: ``f(x) = 1{w·x + b ≥ 0}``. The seed's three gates

- ``or(u, v)  = 1{u + v - 0.5 ≥ 0}``  (w = 1, b = -0.5)
- ``and(u, v) = 1{u + v - 1.5 ≥ 0}``  (w = 1, b = -1.5)
- ``not(u)    = 1{-u + 0.5 ≥ 0}``     (w = -1, b = 0.5)

are enough to build any Boolean function. :func:`truth_table_network` does it in two
layers: one unit per true row of the truth table (it fires on that row only), then
an OR of those units (the disjunctive normal form).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "TLUNetwork",
    "ThresholdUnit",
    "and_unit",
    "not_unit",
    "or_unit",
    "truth_table",
    "truth_table_network",
]


def _check_boolean_inputs(X, n_inputs: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None] if n_inputs == 1 else X[None, :]
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise ValueError(f"expected inputs of shape (N, {n_inputs}), got {np.shape(X)}")
    if not np.all((X == 0) | (X == 1)):
        raise ValueError("threshold logic units take Boolean inputs (0 or 1)")
    return X


class ThresholdUnit:
    """One TLU, ``f(x) = 1{w·x + b ≥ 0}`` on Boolean inputs.

    Parameters
    ----------
    weights : array-like, shape (n_inputs,)
        ``w``.
    bias : float
        ``b``.
    """

    def __init__(self, weights, bias: float) -> None:
        self.weights = np.atleast_1d(np.asarray(weights, dtype=np.float64))
        self.bias = float(bias)

    @property
    def n_inputs(self) -> int:
        return self.weights.shape[0]

    def __call__(self, X) -> np.ndarray:
        """The unit's output on rows of ``X`` (N, n_inputs) of 0/1, as int (N,)."""
        X = _check_boolean_inputs(X, self.n_inputs)
        return (X @ self.weights + self.bias >= 0).astype(np.int64)

    def __repr__(self) -> str:
        return f"ThresholdUnit(weights={self.weights.tolist()}, bias={self.bias})"


def and_unit(n_inputs: int = 2) -> ThresholdUnit:
    """AND of ``n`` inputs: ``w = 1``, ``b = -(n - 0.5)`` (the seed's ``b = -1.5`` for n = 2)."""
    return ThresholdUnit(np.ones(n_inputs), -(n_inputs - 0.5))


def or_unit(n_inputs: int = 2) -> ThresholdUnit:
    """OR of ``n`` inputs: ``w = 1``, ``b = -0.5``."""
    return ThresholdUnit(np.ones(n_inputs), -0.5)


def not_unit() -> ThresholdUnit:
    """NOT: ``w = -1``, ``b = 0.5``."""
    return ThresholdUnit([-1.0], 0.5)


class TLUNetwork:
    """Layers of TLUs: ``x⁽ˡ⁾ = 1{W⁽ˡ⁾ x⁽ˡ⁻¹⁾ + b⁽ˡ⁾ ≥ 0}``.

    Parameters
    ----------
    layers : sequence of (W, b)
        ``W`` of shape (units_out, units_in) and ``b`` of shape (units_out,).
    """

    def __init__(self, layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        self.layers = []
        for W, b in layers:
            W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if W.ndim != 2 or b.shape != (W.shape[0],):
                raise ValueError(
                    f"a layer needs W (out, in) and b (out,); got {W.shape}, {b.shape}"
                )
            if self.layers and W.shape[1] != self.layers[-1][0].shape[0]:
                raise ValueError("consecutive layers have mismatched sizes")
            self.layers.append((W, b))
        if not self.layers:
            raise ValueError("a TLU network needs at least one layer")

    @property
    def n_inputs(self) -> int:
        return self.layers[0][0].shape[1]

    def __call__(self, X) -> np.ndarray:
        """The network's output on Boolean rows ``X`` (N, n_inputs): int (N,) or (N, out)."""
        h = _check_boolean_inputs(X, self.n_inputs)
        for W, b in self.layers:
            h = (h @ W.T + b >= 0).astype(np.float64)
        out = h.astype(np.int64)
        return out[:, 0] if out.shape[1] == 1 else out


def truth_table(function: Callable[..., object], n_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a Boolean ``function(*bits)`` on every input row.

    Returns
    -------
    inputs : ndarray of int, shape (2ⁿ, n)
        All rows in binary order (the first input is the most significant bit).
    outputs : ndarray of int, shape (2ⁿ,)
    """
    inputs = np.array(list(itertools.product((0, 1), repeat=n_inputs)), dtype=np.int64)
    outputs = np.array([int(bool(function(*row))) for row in inputs.tolist()], dtype=np.int64)
    return inputs.reshape(-1, n_inputs), outputs


def truth_table_network(outputs) -> TLUNetwork:
    """A two-layer TLU network computing the Boolean function with this truth table.

    For each true row ``a ∈ {0,1}ⁿ``, a unit with ``wᵢ = 2aᵢ - 1`` and
    ``b = 0.5 - Σᵢ aᵢ`` fires only on ``x = a`` (``w·x ≤ Σᵢ aᵢ``, with equality iff
    ``x = a``): it is the AND of the inputs that are 1 in ``a`` and the NOTs of the
    others. The output unit ORs them (``w = 1``, ``b = -0.5``); with no true row it
    never fires.

    Parameters
    ----------
    outputs : array-like of 0/1, shape (2ⁿ,)
        The function's value on each row in the order of :func:`truth_table`.

    Returns
    -------
    TLUNetwork
        With one hidden unit per true row.
    """
    outputs = np.asarray(outputs).reshape(-1)
    n_rows = outputs.shape[0]
    n_inputs = n_rows.bit_length() - 1
    if n_rows < 2 or n_rows != 2**n_inputs:
        raise ValueError(f"a truth table has 2ⁿ rows (n ≥ 1), got {n_rows}")
    if not np.all((outputs == 0) | (outputs == 1)):
        raise ValueError("truth table outputs must be 0 or 1")
    rows = np.array(list(itertools.product((0, 1), repeat=n_inputs)), dtype=np.float64)
    true_rows = rows.reshape(-1, n_inputs)[outputs == 1]
    hidden = (2 * true_rows - 1, 0.5 - true_rows.sum(axis=1))
    output = (np.ones((1, true_rows.shape[0])), np.array([-0.5]))
    return TLUNetwork([hidden, output])

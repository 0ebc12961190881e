"""The engine against seed 000's hand-written backward pass (float64, to 1e-10)."""

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.testing import mlp_backprop

MODULES = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "arctan": nn.Arctan,
    "identity": nn.Identity,
}


@pytest.mark.parametrize(
    "acts",
    [["tanh", "tanh", "identity"], ["relu", "sigmoid", "identity"], ["arctan", "relu", "tanh"]],
)
def test_engine_matches_seed_backprop(acts):
    rng = np.random.default_rng(0)
    sizes = [5, 7, 6, 3]
    layers = []
    for k, name in enumerate(acts):
        layers += [nn.Linear(sizes[k], sizes[k + 1], generator=rng), MODULES[name]()]
    net = nn.Sequential(*layers).double()
    x = rng.standard_normal((11, 5))
    target = rng.standard_normal((11, 3))

    # engine: L = ½ Σ ||y - t||²
    net.zero_grad()
    y = net(numnet.Tensor(x, dtype=numnet.float64))
    loss = ((y - numnet.Tensor(target, dtype=numnet.float64)) ** 2).sum() * 0.5
    loss.backward()

    linears = [m for m in net if isinstance(m, nn.Linear)]
    W = [m.weight.data for m in linears]
    b = [m.bias.data for m in linears]
    y_or, dW, db = mlp_backprop(W, b, acts, x.T, lambda yL: yL - target.T)  # ∇L = y - t

    np.testing.assert_allclose(y.data, y_or.T, rtol=1e-12, atol=1e-12)
    for m, gw, gb in zip(linears, dW, db):
        np.testing.assert_allclose(m.weight.grad, gw, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(m.bias.grad, gb, rtol=1e-10, atol=1e-12)


def test_hand_worked_example():
    # One sample, one hidden unit: x = 2, W1 = 0.5, b1 = 0, φ = identity, W2 = 3, b2 = 1,
    # L = ½ (y - 4)²:  z1 = 1, y1 = 1, y = 3·1 + 1 = 4 -> make the target 2:
    # δy = y - t = 2; δW2 = δy · y1 = 2; δb2 = 2; δy1 = W2 δy = 6; δW1 = δy1 · x = 12; δb1 = 6
    W1, b1, W2, b2 = (np.array([[0.5]]), np.array([0.0]), np.array([[3.0]]), np.array([1.0]))
    y, dW, db = mlp_backprop(
        [W1, W2], [b1, b2], ["identity", "identity"], np.array([[2.0]]), lambda yL: yL - 2.0
    )
    assert y[0, 0] == 4.0
    assert dW[1][0, 0] == 2.0 and db[1][0] == 2.0
    assert dW[0][0, 0] == 12.0 and db[0][0] == 6.0

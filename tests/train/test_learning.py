"""Convergence: an MLP learns XOR (a linear unit cannot) and fits a noisy sine."""

import numpy as np

import numnet
import numnet.nn.functional as F
from numnet import nn

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def train(model, X, Y, loss_fn, lr, steps, momentum=0.9):
    velocity = [np.zeros_like(p.data) for p in model.parameters()]
    X, Y = numnet.Tensor(X), numnet.Tensor(Y)
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        for p, v in zip(model.parameters(), velocity):
            v *= momentum
            v -= lr * p.grad
            p.data += v
    return loss.item()


def test_mlp_learns_xor_but_a_linear_unit_cannot():
    mlp = nn.Sequential(nn.Linear(2, 8, generator=0), nn.Tanh(), nn.Linear(8, 1, generator=1))
    loss = train(mlp, XOR_X, XOR_Y, F.binary_cross_entropy_with_logits, 0.1, 500)
    assert loss < 0.01
    pred = (mlp(numnet.Tensor(XOR_X)).data > 0).astype(np.float32)
    np.testing.assert_array_equal(pred, XOR_Y)

    linear = nn.Linear(2, 1, generator=0)
    loss = train(linear, XOR_X, XOR_Y, F.binary_cross_entropy_with_logits, 0.1, 500)
    pred = (linear(numnet.Tensor(XOR_X)).data > 0).astype(np.float32)
    assert loss > 0.6  # stays near log 2: no line separates XOR
    assert (pred == XOR_Y).mean() <= 0.75


def test_two_layer_mlp_fits_noisy_sine():
    rng = np.random.default_rng(0)
    x = rng.uniform(-np.pi, np.pi, (256, 1)).astype(np.float32)
    y = (np.sin(x) + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    mlp = nn.Sequential(nn.Linear(1, 32, generator=rng), nn.Tanh(), nn.Linear(32, 1, generator=rng))
    train(mlp, x, y, F.mse_loss, 0.05, 2000)
    grid = np.linspace(-np.pi, np.pi, 200, dtype=np.float32)[:, None]
    fit_mse = float(np.mean((mlp(numnet.Tensor(grid)).data - np.sin(grid)) ** 2))
    assert fit_mse < 0.01  # noise variance is 0.01: the fit is close to sin itself

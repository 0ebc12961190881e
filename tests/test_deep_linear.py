"""Deep linear networks (seed 003): closed-form gradients = autodiff, and the dynamics tools."""

import numpy as np
import pytest

from numnet.autoencoder import reconstruction_loss
from numnet.deep_linear import (
    DeepLinearNetwork,
    LinearDynamicsRecorder,
    closed_form_gradients,
    correlations,
    deep_linear_loss,
    end_to_end_matrix,
    hierarchical_task,
    mode_half_time,
    mode_strength,
    product_gradients,
)
from numnet.nn import Linear, Sequential
from numnet.tensor import Tensor
from tests._fitting import quiet_fit


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((9, 5)), rng.standard_normal((9, 4))
    A, B = rng.standard_normal((3, 5)), rng.standard_normal((4, 3))
    return X, Y, A, B


def autodiff_two_layer(X, Y, A, B):
    At = Tensor(A, dtype=np.float64, requires_grad=True)
    Bt = Tensor(B, dtype=np.float64, requires_grad=True)
    diff = Tensor(Y, dtype=np.float64) - Tensor(X, dtype=np.float64) @ At.T @ Bt.T
    loss = 0.5 * (diff * diff).sum()  # seed 003: L = ½ Σ‖y − BAx‖²
    loss.backward()
    return loss.item(), At.grad, Bt.grad


def test_closed_form_gradients_equal_autodiff(problem):
    X, Y, A, B = problem
    loss, gA, gB = autodiff_two_layer(X, Y, A, B)
    dA, dB = closed_form_gradients(A, B, *correlations(X, Y))
    np.testing.assert_allclose(dA, gA, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dB, gB, rtol=1e-12, atol=1e-12)
    assert deep_linear_loss([A, B], X, Y) == pytest.approx(loss, rel=1e-14)


def test_correlations_are_sums_of_outer_products(problem):
    X, Y, _, _ = problem
    Sxx, Sxy = correlations(X, Y)
    assert np.allclose(Sxx, sum(np.outer(x, x) for x in X))
    assert np.allclose(Sxy, sum(np.outer(y, x) for x, y in zip(X, Y)))  # Σ y xᵀ (k×d)


def test_product_gradients_any_depth_equal_autodiff(problem):
    X, Y, _, _ = problem
    net = DeepLinearNetwork((5, 6, 3, 4), init_scale=0.5, generator=1, dtype=np.float64)
    out = net(Tensor(X, dtype=np.float64))
    diff = out - Tensor(Y, dtype=np.float64)
    (0.5 * (diff * diff).sum()).backward()
    grads = product_gradients(net.weights, *correlations(X, Y))
    for g, layer in zip(grads, net.layers):
        np.testing.assert_allclose(g, layer.weight.grad, rtol=1e-11, atol=1e-12)


def test_two_layer_product_gradients_reduce_to_the_seed_formula(problem):
    X, Y, A, B = problem
    for g, h in zip(
        product_gradients([A, B], *correlations(X, Y)),
        closed_form_gradients(A, B, *correlations(X, Y)),
    ):
        np.testing.assert_allclose(g, h, rtol=1e-13)


def test_shape_errors(problem):
    X, Y, A, B = problem
    Sxx, Sxy = correlations(X, Y)
    with pytest.raises(ValueError, match="shapes do not fit"):
        closed_form_gradients(B, A, Sxx, Sxy)
    with pytest.raises(ValueError, match="same number of rows"):
        correlations(X, Y[:3])
    with pytest.raises(ValueError, match="does not follow"):
        product_gradients([A, A], Sxx, Sxy)
    with pytest.raises(ValueError, match="bias-free"):
        end_to_end_matrix(Sequential(Linear(3, 2)))
    with pytest.raises(ValueError):
        DeepLinearNetwork((3,))


def test_end_to_end_matrix_is_the_product():
    net = DeepLinearNetwork((4, 3, 2), generator=0)
    W1, W2 = net.weights
    assert np.allclose(net.product(), W2 @ W1)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert np.allclose(net(Tensor(x)).data, x @ net.product().T, atol=1e-6)


def test_hierarchical_task_is_whitened_with_levelled_modes():
    X, Y = hierarchical_task(3)
    P = len(X)
    Sxx, Sxy = correlations(X, Y)
    assert np.allclose(Sxx / P, np.eye(P))
    s = np.linalg.svd(Sxy / P, compute_uv=False)
    levels, counts = np.unique(np.round(s, 6), return_counts=True)
    assert list(counts[::-1]) == [1, 1, 2, 4]  # root, first split, 2 then 4 finer splits


def test_mode_strength_solves_the_saxe_ode():
    s, a0 = 0.8, 1e-3
    t = np.linspace(0, 20, 2001)
    a = mode_strength(s, a0, t)
    assert a[0] == pytest.approx(a0)
    # da/dt = 2a(s − a) (τ = 1, balanced layers)
    da = np.gradient(a, t)
    np.testing.assert_allclose(da[5:-5], (2 * a * (s - a))[5:-5], rtol=2e-3, atol=1e-6)
    assert mode_strength(s, a0, mode_half_time(s, a0)) == pytest.approx(s / 2)
    assert mode_strength(s, a0, 1e4) == pytest.approx(s)  # no overflow for long times


def test_recorder_tracks_modes_and_learns_them_in_order():
    X, Y = (a.astype(np.float64) for a in hierarchical_task(2))
    P = len(X)
    Sxy = correlations(X, Y)[1] / P
    net = DeepLinearNetwork((P, 8, Y.shape[1]), init_scale=1e-3, generator=0, dtype=np.float64)
    rec = LinearDynamicsRecorder(every=2, target=Sxy)
    quiet_fit(
        net,
        (X, Y),
        loss_fn=reconstruction_loss,
        lr=0.1,
        epochs=300,
        batch_size=P,
        shuffle=False,
        callbacks=[rec],
    )
    assert list(rec.steps[:3]) == [0, 2, 4] and rec.steps[-1] == 300
    assert rec.singular_values.shape == (151, P) and rec.layer_norms.shape == (151, 2)
    s = rec.target_singular_values
    np.testing.assert_allclose(rec.mode_strengths[-1], s, rtol=1e-3)
    half = [rec.steps[np.argmax(rec.mode_strengths[:, i] >= s[i] / 2)] for i in range(P)]
    assert half[0] < half[1] < min(half[2:])  # strong modes first


def test_recorder_rejects_mismatched_target():
    net = DeepLinearNetwork((3, 2, 2), generator=0)
    rec = LinearDynamicsRecorder(target=np.ones((4, 3)))
    with pytest.raises(ValueError, match="target"):
        rec._record(net)
    with pytest.raises(ValueError, match="every"):
        LinearDynamicsRecorder(every=0)

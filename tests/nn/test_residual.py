"""``Residual``: G(x) = F(x) + x (seed 001), its gradient, projections and errors."""

import numpy as np
import pytest

import numnet
import numnet.nn as nn
from numnet.nn.config import from_config, to_config
from numnet.testing import gradcheck


def f64(a, requires_grad=True):
    return numnet.Tensor(
        np.asarray(a, dtype=np.float64), dtype=np.float64, requires_grad=requires_grad
    )


def test_residual_equals_block_plus_input_and_its_gradient():
    rng = np.random.default_rng(0)
    block = nn.Sequential(nn.Linear(5, 5, generator=0), nn.Tanh()).double()
    res = nn.Residual(block)
    x = f64(rng.standard_normal((4, 5)))
    np.testing.assert_allclose(res(x).data, block(x).data + x.data)
    # δx = δG + (∂F/∂x)ᵀ δG: the identity path adds the adjoint itself
    g = rng.standard_normal((4, 5))
    res(x).backward(g)
    grad_res = x.grad.copy()
    x.grad = None
    block(x).backward(g)
    np.testing.assert_allclose(grad_res, x.grad + g)
    assert gradcheck(res, [x])


def test_residual_parameters_and_gradcheck_through_a_conv_block():
    block = nn.Sequential(
        nn.Conv2d(2, 2, 3, padding=1, generator=1),
        nn.Tanh(),
        nn.Conv2d(2, 2, 3, padding=1, generator=2),
    ).double()
    res = nn.Residual(block)
    assert [n for n, _ in res.named_parameters()] == [
        "block.0.weight",
        "block.0.bias",
        "block.2.weight",
        "block.2.bias",
    ]
    x = f64(np.random.default_rng(1).standard_normal((2, 2, 5, 4)))
    assert gradcheck(lambda a, *params: res(a), [x, *res.parameters()], mode="projection")


def test_projection_when_shapes_differ():
    block = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, generator=0), nn.ReLU())
    proj = nn.Conv2d(3, 8, 1, stride=2, generator=1)
    res = nn.Residual(block, proj)
    x = numnet.Tensor(np.random.default_rng(2).random((2, 3, 8, 8)))
    np.testing.assert_allclose(res(x).data, block(x).data + proj(x).data, rtol=1e-6)
    assert "projection.weight" in res.state_dict()
    rebuilt = from_config(to_config(res))
    rebuilt.load_state_dict(res.state_dict())
    np.testing.assert_array_equal(rebuilt(x).data, res(x).data)


def test_shape_mismatch_without_projection_names_the_shapes():
    res = nn.Residual(nn.Linear(4, 3, generator=0))
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\).*projection"):
        res(numnet.zeros(2, 4))
    with pytest.raises(TypeError):
        nn.Residual(lambda x: x)


def test_deep_residual_stack_keeps_the_gradient_a_plain_stack_loses_it():
    """Seed 001: in a deep sigmoid network δ vanishes at the first layers; skips keep it."""
    depth, width = 40, 16

    def first_layer_grad(residual: bool) -> float:
        rng = np.random.default_rng(3)
        layers = []
        for _ in range(depth):
            block = nn.Sequential(
                nn.Linear(width, width, generator=int(rng.integers(1 << 30))), nn.Sigmoid()
            )
            layers.append(nn.Residual(block) if residual else block)
        model = nn.Sequential(*layers).double()
        x = f64(rng.standard_normal((8, width)), requires_grad=False)
        model(x).sum().backward()
        return float(np.abs(layers[0].parameters().__next__().grad).mean())

    plain, skip = first_layer_grad(False), first_layer_grad(True)
    assert plain < 1e-12 < 1e-3 < skip

"""Tied linear autoencoder (D = Cᵀ): one parameter, gradients from both uses, torch parity."""

import numpy as np
import pytest

import numnet
from numnet.autoencoder import (
    LinearAutoencoder,
    TiedDecoder,
    linear_autoencoder_gradients,
    reconstruction_loss,
)


def test_tied_gradient_is_the_sum_of_both_factors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 5))
    ae = LinearAutoencoder(5, 2, tied=True, generator=0, dtype=np.float64)
    assert isinstance(ae.decoder, TiedDecoder) and ae.decoder.weight is ae.encoder.weight
    np.testing.assert_array_equal(ae.D, ae.C.T)
    reconstruction_loss(ae(numnet.Tensor(X, dtype=np.float64)), X).backward()
    dC, dD = linear_autoencoder_gradients(ae.C, ae.D, X)
    # L(C, Cᵀ): dL/dC = ∂L/∂C + (∂L/∂D)ᵀ
    np.testing.assert_allclose(ae.encoder.weight.grad, dC + dD.T, rtol=1e-12, atol=1e-14)


def test_tied_autoencoder_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 6)).astype(np.float32)
    ae = LinearAutoencoder(6, 3, tied=True, generator=0)
    W = torch.nn.Parameter(torch.from_numpy(ae.C.copy()))
    xt = torch.from_numpy(X)
    out_t = torch.nn.functional.linear(torch.nn.functional.linear(xt, W), W.t())
    ((out_t - xt) ** 2).sum().mul(0.5 / len(X)).backward()
    out = ae(numnet.Tensor(X))
    reconstruction_loss(out, X).backward()
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ae.encoder.weight.grad, W.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert "tied=True" in repr(ae)

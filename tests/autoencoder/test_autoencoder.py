"""Autoencoders (seeds 001, 003): linear AE = truncated SVD, gradients, noise, models."""

import numpy as np
import pytest

import numnet
from numnet import optim, train
from numnet.autoencoder import (
    PCA,
    Autoencoder,
    GaussianNoise,
    LinearAutoencoder,
    MaskingNoise,
    eckart_young_loss,
    gaussian_noise,
    linear_autoencoder_gradients,
    masking_noise,
    principal_angles,
    reconstruct,
    reconstruction_loss,
    reconstruction_loss_np,
    reconstruction_losses,
)
from numnet.nn.config import from_config, to_config
from numnet.tensor import Tensor
from tests._fitting import quiet_fit


def low_rank_data(n=200, d=12, spectrum=(3.0, 2.0, 1.5), noise=0.3, seed=0):
    """Samples near a 3-D subspace with well separated singular values."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, len(spectrum))))[0]
    Z = rng.standard_normal((n, len(spectrum))) * np.asarray(spectrum)
    return Z @ basis.T + noise * rng.standard_normal((n, d))


def test_pca_reaches_the_eckart_young_error():
    X = low_rank_data()
    pca = PCA(3).fit(X)
    s = np.linalg.svd(X, compute_uv=False)
    # ‖X − X_m‖_F² = Σ_{i>m} σ_i², and the seed's loss is that over 2n
    assert reconstruction_loss_np(X, pca.reconstruct(X)) == pytest.approx(
        0.5 * np.sum(s[3:] ** 2) / len(X), rel=1e-10
    )
    assert pca.optimal_loss() == pytest.approx(eckart_young_loss(s, 3, len(X)))
    # no other rank-3 linear reconstruction does better (random orthonormal bases)
    rng = np.random.default_rng(1)
    for _ in range(5):
        Q = np.linalg.qr(rng.standard_normal((X.shape[1], 3)))[0]
        assert reconstruction_loss_np(X, X @ Q @ Q.T) > pca.optimal_loss()


def test_pca_centering_and_codes():
    X = low_rank_data() + 5.0
    pca = PCA(2, center=True).fit(X)
    assert np.allclose(pca.mean_, X.mean(axis=0))
    Z = pca.transform(X)
    assert Z.shape == (len(X), 2) and np.allclose(Z.mean(axis=0), 0, atol=1e-10)
    assert np.allclose(pca.components_ @ pca.components_.T, np.eye(2), atol=1e-12)


def test_linear_autoencoder_trained_by_sgd_spans_the_svd_subspace():
    X = low_rank_data()
    pca = PCA(3).fit(X)
    model = LinearAutoencoder(X.shape[1], 3, generator=0, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, 40)
    quiet_fit(
        model,
        (X, X),
        loss_fn=reconstruction_loss,
        optimizer=opt,
        epochs=40,
        batch_size=20,
        generator=0,
        callbacks=[train.LearningRateScheduler(sched)],
    )
    loss = reconstruction_loss_np(X, reconstruct(model, X))
    assert pca.optimal_loss() <= loss <= 1.001 * pca.optimal_loss()
    angles = principal_angles(model.D, pca.components_.T)
    assert angles.shape == (3,) and np.degrees(angles.max()) < 0.5
    # the encoder's row space tends to it too (C → G U_mᵀ), more slowly: its part outside
    # the subspace only decays at the rate of the small (noise) eigenvalues
    assert np.degrees(principal_angles(model.C.T, pca.components_.T).max()) < 2.0


def test_principal_angles_known_cases():
    e = np.eye(4)
    theta = 0.3
    A = e[:, :1]
    B = np.cos(theta) * e[:, :1] + np.sin(theta) * e[:, 1:2]
    assert principal_angles(A, B) == pytest.approx([theta])
    # the same plane in two bases: zero to full precision (sine formula)
    P = e[:, :2] @ np.array([[2.0, 1.0], [0.5, -3.0]])
    assert np.abs(principal_angles(e[:, :2], P)).max() < 1e-14
    tiny = principal_angles(e[:, :1], e[:, :1] + 1e-10 * e[:, 1:2])
    assert tiny[0] == pytest.approx(1e-10, rel=1e-6)
    assert principal_angles(e[:, :2], e[:, 2:]) == pytest.approx([np.pi / 2] * 2)
    # largest first, one angle per dimension of the smaller subspace
    got = principal_angles(e[:, :3], np.column_stack([e[:, 0], e[:, 1] + e[:, 3]]))
    assert got == pytest.approx([np.pi / 4, 0.0], abs=1e-12)


def test_principal_angles_match_scipy():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((10, 3)), rng.standard_normal((10, 4))
    assert np.allclose(principal_angles(A, B), scipy_linalg.subspace_angles(A, B))


def test_linear_autoencoder_closed_form_gradients_equal_autodiff():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 6))
    model = LinearAutoencoder(6, 2, generator=1, dtype=np.float64)
    reconstruction_loss(model(Tensor(X, dtype=np.float64)), Tensor(X, dtype=np.float64)).backward()
    dC, dD = linear_autoencoder_gradients(model.C, model.D, X)
    np.testing.assert_allclose(dC, model.encoder.weight.grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dD, model.decoder.weight.grad, rtol=1e-12, atol=1e-14)


def test_reconstruction_loss_value_and_errors():
    out = Tensor(np.array([[1.0, 2.0], [0.0, 0.0]]))
    target = np.array([[0.0, 0.0], [0.0, 1.0]])
    # (½(1 + 4) + ½(1)) / 2 = 1.5
    assert reconstruction_loss(out, target).item() == pytest.approx(1.5)
    with pytest.raises(ValueError, match="shape"):
        reconstruction_loss(out, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_components"):
        PCA(5).fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="2-D"):
        PCA(1).fit(np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        PCA(1).fit(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    with pytest.raises(RuntimeError, match="fit"):
        PCA(1).transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="bottleneck"):
        LinearAutoencoder(3, 4)


def test_noise_functions_are_seeded_and_reproducible():
    X = np.random.default_rng(0).random((50, 30)).astype(np.float32)
    a = gaussian_noise(X, 0.3, generator=5)
    assert np.array_equal(a, gaussian_noise(X, 0.3, generator=5))
    assert not np.array_equal(a, gaussian_noise(X, 0.3, generator=6))
    assert a.dtype == np.float32 and np.std(a - X) == pytest.approx(0.3, rel=0.05)
    c = gaussian_noise(X, 1.0, generator=5, clip=(0.0, 1.0))
    assert c.min() >= 0 and c.max() <= 1
    m = masking_noise(X, 0.25, generator=7)
    assert np.array_equal(m, masking_noise(X, 0.25, generator=7))
    assert np.mean(m == 0) == pytest.approx(0.25, abs=0.03)
    assert np.array_equal(m[m != 0], X[m != 0])  # no rescaling of the kept inputs
    with pytest.raises(ValueError):
        gaussian_noise(X, -1.0)
    with pytest.raises(ValueError):
        masking_noise(X, 1.5)
    with pytest.raises(ValueError, match="clip"):
        gaussian_noise(X, 0.1, clip=(1.0, 0.0))


def test_noise_layers_train_mode_only_and_reproducible():
    X = Tensor(np.random.default_rng(0).random((8, 5)))
    for make in (
        lambda: GaussianNoise(0.5, clip=(0, 1), generator=3),
        lambda: MaskingNoise(0.5, generator=3),
    ):
        a, b = make(), make()
        assert np.array_equal(a(X).data, b(X).data)  # same seed, same corruption
        assert not np.array_equal(a(X).data, X.data)
        a.eval()
        assert a(X) is X
    # gradients flow through the corruption to the input
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    MaskingNoise(0.5, generator=0)(x).sum().backward()
    assert set(np.unique(x.grad)) <= {0.0, 1.0}


def test_autoencoder_shapes_config_roundtrip_and_denoising_training():
    ae = Autoencoder(16, 3, (8,), generator=0)
    names = [n for n, _ in ae.named_parameters()]
    assert names == [
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.2.weight",
        "encoder.2.bias",
        "decoder.0.weight",
        "decoder.0.bias",
        "decoder.2.weight",
        "decoder.2.bias",
    ]
    x = np.random.default_rng(0).random((5, 16)).astype(np.float32)
    assert ae.encode(Tensor(x)).shape == (5, 3) and ae(Tensor(x)).shape == (5, 16)
    model = numnet.nn.Sequential(GaussianNoise(0.2, clip=(0.0, 1.0), generator=1), ae)
    rebuilt = from_config(to_config(model))
    rebuilt.load_state_dict(model.state_dict())
    assert np.allclose(reconstruct(rebuilt, x), reconstruct(model, x))
    X = np.random.default_rng(1).random((64, 16)).astype(np.float32)
    before = reconstruction_losses(model, X).mean()
    opt = optim.Adam(model.parameters(), lr=0.01)
    quiet_fit(
        model, (X, X), loss_fn=reconstruction_loss, optimizer=opt, epochs=30, batch_size=16,
        generator=0,
    )
    assert reconstruction_losses(model, X).mean() < before
    with pytest.raises(ValueError, match="activation"):
        Autoencoder(4, 2, activation="nope")

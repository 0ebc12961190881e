"""Seed 003: a linear autoencoder trained by SGD reaches the truncated-SVD (PCA) optimum.

Seed 003, "Linear autoencoder" and "Eckart–Young theorem": for ``x ↦ DCx`` with an
``m``-unit bottleneck, no choice of ``C, D`` reconstructs better than ``C = U_mᵀ``,
``D = U_m`` (the top-``m`` singular vectors), which gives ``DCX = X_m``. We train the
autoencoder by minibatch SGD (momentum 0.9, PyTorch convention, step
``0.1/(λ₁ + tr Σ/B)`` with ``Σ = XᵀX/n`` and batch ``B = 100``, i.e. 0.0178, cosine-annealed
over 150 epochs) on the seed's loss ``1/(2n) Σ‖x − DCx‖²`` and compare with the truncated SVD:

* the loss reached by SGD against the Eckart–Young optimum ``1/(2n) Σ_{i>m} σ_i²``;
* the principal angles between ``span(D)`` and ``span(U_m)`` (largest reported).

Data: 10,000 MNIST training images drawn at random (seeded), centered by their mean
(so PCA and the bias-free autoencoder see the same ``X``); the test loss uses the
10,000 test images centered with the training mean. Quick mode without ``data_dir``
uses 600 synthetic 28×28 digits and never reads MNIST.
"""

from __future__ import annotations

import time

import numpy as np

from numnet.experiments._common import Recipe, data_fields, load_images, output_dir, write_json

__all__ = ["load_images", "run", "stable_step", "train_linear_ae"]

NAME = "linear-ae-pca"
DESCRIPTION = "linear autoencoder by SGD vs truncated SVD on MNIST (m = 10, 50): loss and angles"

N_TRAIN = 10_000
BOTTLENECKS = (10, 50)
EPOCHS = 150
LR_SCALE = 0.1  # step = LR_SCALE / (λ₁ + tr Σ / B): 0.0178 on MNIST
BATCH = 100


def stable_step(lam1: float, trace: float, batch_size: int) -> float:
    """``LR_SCALE / (λ₁ + tr Σ / B)``: the SGD step used for the linear autoencoder."""
    return LR_SCALE / (lam1 + trace / batch_size)


def train_linear_ae(
    X, m: int, *, epochs: int, lr: float | None = None, batch_size: int = BATCH, seed: int = 0
):
    """Train ``LinearAutoencoder(d, m)`` by SGD on ``(X, X)``; returns (model, History).

    The default step is ``LR_SCALE / (λ₁ + tr Σ / B)`` with ``Σ = XᵀX/n``, ``λ₁`` its
    largest eigenvalue and ``B`` the batch size: ``λ₁`` is the curvature of the loss
    along the top principal direction and ``tr Σ / B`` bounds what a minibatch adds to
    it, so this keeps SGD stable whatever the data's scale.
    """
    from numnet import optim, train
    from numnet.autoencoder import LinearAutoencoder, reconstruction_loss
    from numnet.optim.lr_scheduler import CosineAnnealingLR

    if lr is None:
        X64 = X.astype(np.float64)
        lr = stable_step(np.linalg.norm(X64, 2) ** 2 / len(X), np.sum(X64**2) / len(X), batch_size)
    model = LinearAutoencoder(X.shape[1], m, generator=seed)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    schedule = train.LearningRateScheduler(CosineAnnealingLR(opt, epochs))
    history = Recipe(epochs, batch_size, seed).fit(
        model, reconstruction_loss, opt, (X, X), callbacks=[schedule]
    )
    return model, history


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train the linear autoencoders, compare with the SVD, write results.json and PNGs."""
    out = output_dir(out_dir)
    X, _, Xt, _, source = load_images(
        data_dir, quick=quick, seed=seed, n_train=N_TRAIN, n_test=None, quick_sizes=(400, 100)
    )
    bottlenecks = (5, 10) if quick and source != "mnist" else BOTTLENECKS
    epochs, batch = (30, 20) if quick else (EPOCHS, BATCH)
    fits = compute(X, Xt, bottlenecks, epochs=epochs, batch_size=batch, seed=seed)
    rows = [f["row"] for f in fits.values()]
    write_json(
        out / "results.json",
        {
            **data_fields(source, X, Xt),
            "centered": True,
            "optimizer": f"SGD(lr={LR_SCALE}/(λ₁ + tr Σ/B), momentum=0.9), "
            f"cosine annealing, batch {batch}, {epochs} epochs",
            "rows": rows,
            "seed_claim": "DCX = X_m is optimal (Eckart–Young); C = U_mᵀ, D = U_m",
        },
    )
    _plot(fits, Xt, out, source)
    return {
        "data": source,
        **{f"m{r['m']}_excess_percent": round(r["excess_percent"], 4) for r in rows},
        **{f"m{r['m']}_largest_angle_deg": round(r["largest_angle_deg"], 3) for r in rows},
        "all_within_1_percent": all(r["within_1_percent"] for r in rows),
    }


def compute(X, Xt, bottlenecks, *, epochs: int, batch_size: int, seed: int) -> dict:
    """One fit per bottleneck ``m`` on the centered images: its row, loss curve,
    principal angles and ten test reconstructions (SVD, autoencoder), keyed by ``m``."""
    mean = X.mean(axis=0)
    Xc, Xtc = (X - mean).astype(np.float32), (Xt - mean).astype(np.float32)
    fits = {}
    for m in bottlenecks:
        fits[m] = _fit_bottleneck(Xc, Xtc, m, epochs=epochs, batch_size=batch_size, seed=seed)
        fits[m]["recon"] = tuple(r + mean for r in fits[m]["recon"])
        row, theta = fits[m]["row"], fits[m]["angles"]
        print(
            f"m={m}: SGD loss {row['ae_train_loss']:.4f} vs SVD {row['svd_train_loss']:.4f} "
            f"(+{row['excess_percent']:.3f} %), largest principal angle "
            f"{theta[0]:.2f}°, median {np.median(theta):.3f}°",
            flush=True,
        )
    return fits


def _fit_bottleneck(Xc, Xtc, m: int, *, epochs: int, batch_size: int, seed: int) -> dict:
    from numnet.autoencoder import PCA, principal_angles, reconstruct, reconstruction_loss_np

    t0 = time.perf_counter()
    pca = PCA(m).fit(Xc)
    lam = pca.singular_values_**2 / len(Xc)
    lr = stable_step(lam[0], lam.sum(), batch_size)
    model, history = train_linear_ae(
        Xc, m, epochs=epochs, seed=seed, lr=lr, batch_size=batch_size
    )
    ae_train = reconstruction_loss_np(Xc, reconstruct(model, Xc))
    optimum = pca.optimal_loss()
    theta = np.degrees(principal_angles(model.D, pca.components_.T))
    row = {
        "m": m,
        "svd_train_loss": optimum,
        "ae_train_loss": ae_train,
        "excess_percent": 100 * (ae_train / optimum - 1),
        "within_1_percent": bool(ae_train <= 1.01 * optimum),
        "largest_angle_deg": float(theta[0]),
        "median_angle_deg": float(np.median(theta)),
        "angles_above_1deg": int(np.sum(theta > 1)),
        "svd_test_loss": reconstruction_loss_np(Xtc, pca.reconstruct(Xtc)),
        "ae_test_loss": reconstruction_loss_np(Xtc, reconstruct(model, Xtc)),
        "eigenvalue_m": float(lam[m - 1]),
        "eigenvalue_m_plus_1": float(lam[m]),
        "relative_eigengap": float((lam[m - 1] - lam[m]) / lam[m - 1]),
        "epochs": epochs,
        "learning_rate": lr,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return {
        "row": row,
        "curve": (np.asarray(history["loss"]), optimum),
        "angles": theta,
        "recon": (pca.reconstruct(Xtc[:10]), reconstruct(model, Xtc[:10])),
    }


def _plot(fits: dict, Xt, out, source) -> None:
    from numnet.viz import new_figure, plot_reconstructions, save_figure

    fig, axes = new_figure(1, 2, size=(11, 3.8))
    ax = axes[0, 0]
    for m, fit in fits.items():
        loss, optimum = fit["curve"]
        ax.plot(np.arange(1, len(loss) + 1), loss / optimum - 1, label=f"m = {m}")
    ax.axhline(0.01, color="0.5", ls="--", label="1 % above SVD")
    ax.set(xlabel="epoch", ylabel="(L_SGD − L_SVD) / L_SVD", yscale="log",
           title=f"training loss vs Eckart–Young optimum ({source})")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for m, fit in fits.items():
        theta = fit["angles"]
        ax.plot(np.arange(1, len(theta) + 1), np.sort(theta), ".-", label=f"m = {m}")
    ax.set(xlabel="principal angle index (ascending)", ylabel="angle (degrees)", yscale="log",
           title="principal angles between span(D) and span(U_m)")
    ax.legend(fontsize=8)
    save_figure(fig, out / "linear_ae_pca.png")
    plot_reconstructions(
        {f"m={m}": (Xt[:10],) + fit["recon"] for m, fit in fits.items()},
        out / "reconstructions.png",
        ncols=10,
        labels=("test input", "truncated SVD", "linear AE (SGD)"),
    )

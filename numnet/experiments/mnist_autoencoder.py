"""Seed 001: an MNIST autoencoder with 50 bottleneck nodes, and its overfitting.

Seed 001 ("Autoencoders"): a network whose central hidden layer has ``m ≪ n`` nodes is
trained to minimise the reconstruction error; its figures show training- and
test-set digits next to their reconstructions for a 50-node bottleneck, trained on
the full training set and on a *sub-sampled* one, and conclude: "A low
reconstruction error on the training set does not guarantee a low reconstruction
error on a different set. The problem is more evident with complex models."

Architecture (ours; the seed gives only the bottleneck): 784 → 256 → **50** → 256 →
784, ReLU hidden units, linear code, sigmoid output; loss ``1/(2n) Σ‖x − y‖²``; Adam
(lr 1e-3), batch 100. Full run: 10,000 random MNIST training images for 20 epochs,
and a sub-sampled training set of 200 images trained for the same number of
optimizer steps (2,000); both scored on the 10,000 test images. The truncated SVD
with ``m = 50`` (the optimal *linear* autoencoder, seed 003) is the baseline.
"""

from __future__ import annotations

import time

import numpy as np

from numnet.experiments._common import (
    Recipe,
    half_squared_error,
    load_images,
    output_dir,
    write_json,
)

NAME = "mnist-autoencoder"
DESCRIPTION = "seed 001's 50-node MNIST autoencoder: train/test reconstructions, sub-sampled gap"

N_TRAIN, N_SMALL = 10_000, 200
BOTTLENECK, HIDDEN = 50, (256,)
EPOCHS, BATCH, LR = 20, 100, 1e-3


def train_autoencoder(
    X,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    validation=None,
    hidden=HIDDEN,
    bottleneck=BOTTLENECK,
    noise=None,
    lr: float = LR,
):
    """Train ``Autoencoder(d, bottleneck, hidden)`` (optionally behind a noise layer) by Adam.

    ``noise`` is a :class:`~numnet.autoencoder.GaussianNoise` /
    :class:`~numnet.autoencoder.MaskingNoise` layer placed in front (a denoising
    autoencoder); returns ``(model, History)``.
    """
    from numnet import nn, optim
    from numnet.autoencoder import Autoencoder, reconstruction_loss

    ae = Autoencoder(
        X.shape[1],
        bottleneck,
        hidden,
        activation="relu",
        output_activation="sigmoid",
        generator=seed,
    )
    model = ae if noise is None else nn.Sequential(noise, ae)
    opt = optim.Adam(model.parameters(), lr=lr)
    history = Recipe(epochs, batch_size, seed).fit(
        model,
        reconstruction_loss,
        opt,
        (X, X),
        validation=None if validation is None else (validation, validation),
    )
    return model, history


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train on the full and the sub-sampled set; write results.json and PNGs."""
    out = output_dir(out_dir)
    X, y, Xt, yt, source = load_images(
        data_dir, quick=quick, seed=seed, n_train=N_TRAIN, n_test=None
    )
    hidden = (64,) if quick else HIDDEN
    runs = compute(X, y, Xt, epochs=4 if quick else EPOCHS, n_small=60 if quick else N_SMALL,
                   hidden=hidden, seed=seed)
    pca_loss = _pca_baseline(X, Xt)
    rows = [r["row"] for r in runs.values()]
    write_json(
        out / "results.json",
        {
            "data": source,
            "architecture": f"784-{'-'.join(map(str, hidden))}-"
            f"{BOTTLENECK}-{'-'.join(map(str, hidden[::-1]))}-784 (ReLU, sigmoid out)",
            "loss": "1/(2n) sum ||x - y||^2",
            "rows": rows,
            "pca_baseline": pca_loss,
            "seed_claim": "low training error does not guarantee low test error; "
            "the sub-sampled model reconstructs test digits poorly",
        },
    )
    _plot(runs, Xt, yt, pca_loss["test_loss"], out)
    return {
        "data": source,
        **{f"{r['training_set']}_train_loss": round(r["train_loss"], 3) for r in rows},
        **{f"{r['training_set']}_test_loss": round(r["test_loss"], 3) for r in rows},
        "pca50_test_loss": round(pca_loss["test_loss"], 3),
    }


def compute(X, y, Xt, *, epochs: int, n_small: int, hidden, seed: int) -> dict:
    """The full and the sub-sampled autoencoder: ``{label: {model, history, X, y, row}}``.

    The sub-sampled set (``n_small`` images drawn with seed + 1, batch 20) is trained
    for the same number of optimizer steps as the full one (batch 100)."""
    small = np.sort(np.random.default_rng(seed + 1).choice(len(X), n_small, replace=False))
    steps = epochs * -(-len(X) // BATCH)
    small_batch = 20
    small_epochs = max(1, steps // -(-n_small // small_batch))
    val = Xt[: min(500, len(Xt))]
    runs = {}
    for label, keep, ep, bs in (
        ("full", slice(None), epochs, BATCH),
        ("sub-sampled", small, small_epochs, small_batch),
    ):
        runs[label] = _train_and_score(
            label, X[keep], Xt, epochs=ep, batch_size=bs, seed=seed, val=val, hidden=hidden
        )
        runs[label]["y"] = y[keep]
    return runs


def _train_and_score(label, Xtr, Xt, *, epochs, batch_size, seed, val, hidden) -> dict:
    from numnet.autoencoder import reconstruction_losses

    t0 = time.perf_counter()
    model, history = train_autoencoder(
        Xtr, epochs=epochs, batch_size=batch_size, seed=seed, validation=val, hidden=hidden
    )
    train_loss = float(reconstruction_losses(model, Xtr).mean())
    test_loss = float(reconstruction_losses(model, Xt).mean())
    print(
        f"{label}: {len(Xtr)} images, train loss {train_loss:.3f}, test loss "
        f"{test_loss:.3f} (ratio {test_loss / train_loss:.2f})",
        flush=True,
    )
    row = {
        "training_set": label,
        "n_train": int(len(Xtr)),
        "epochs": epochs,
        "steps": int(epochs * -(-len(Xtr) // batch_size)),
        "train_loss": train_loss,
        "test_loss": test_loss,
        "test_over_train": test_loss / train_loss,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return {"model": model, "history": history, "X": Xtr, "row": row, "n_val": len(val)}


def _pca_baseline(X, Xt) -> dict:
    """The truncated SVD with ``m = 50`` (the optimal linear autoencoder)."""
    from numnet.autoencoder import PCA

    pca = PCA(min(BOTTLENECK, len(X) - 1), center=True).fit(X)
    return {
        "m": pca.n_components,
        "train_loss": half_squared_error(pca.reconstruct(X), X),
        "test_loss": half_squared_error(pca.reconstruct(Xt), Xt),
    }


def _pick(Xs, ys, k=3):
    """``k`` examples of each digit, like the seed's rows."""
    idx = np.concatenate([np.flatnonzero(ys == d)[:k] for d in range(10)])
    return Xs[idx] if len(idx) else Xs[: 10 * k]


def _plot(runs, Xt, yt, pca_test, out) -> None:
    from numnet.autoencoder import reconstruct
    from numnet.viz import plot_filters, plot_reconstructions

    for label, r in runs.items():
        a, b = _pick(r["X"], r["y"]), _pick(Xt, yt)
        plot_reconstructions(
            {
                "Train Set": (a, reconstruct(r["model"], a)),
                "Test Set": (b, reconstruct(r["model"], b)),
            },
            out / f"reconstructions_{label.replace('-', '_')}.png",
            ncols=10,
            title=f"50 bottleneck nodes, {label} training set ({len(r['X'])} images)",
        )
    plot_filters(
        runs["full"]["model"].encoder[0].weight.data,
        out / "encoder_filters.png",
        ncols=10,
        max_filters=50,
        title="first encoder layer: 50 of the filters",
    )
    _plot_curves(runs, pca_test, runs["full"]["n_val"], out / "learning_curves.png")


def _plot_curves(runs, pca_test, n_val, path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, len(runs), size=(5 * len(runs), 3.6))
    for ax, (label, r) in zip(axes[0], runs.items()):
        h = r["history"]
        ax.plot(h["epoch"], h["loss"], label="training (running mean)")
        ax.plot(h["epoch"], h["val_loss"], label=f"{n_val} held-out test images")
        ax.axhline(pca_test, color="0.5", ls="--", label="PCA m=50, test")
        ax.set(xlabel="epoch", ylabel="½‖x − y‖² per image", yscale="log",
               title=f"{label} training set ({r['row']['n_train']} images)")
        ax.legend(fontsize=8)
    save_figure(fig, path)

"""Seed 001: denoising autoencoders — noisy inputs, clean targets; error vs noise level.

Seed 001 ("Autoencoders"): autoencoders are "used mainly to remove noise from samples
(denoising autoencoders)": "provide as input a noisy version of the samples and
minimize the reconstruction error with respect to the clean sample".

Three autoencoders with the architecture of ``mnist-autoencoder`` (784 → 256 → 50 →
256 → 784) are trained on the same images: a plain one (clean inputs), one fed
Gaussian-corrupted inputs (``σ = 0.5``, clipped to [0, 1]) and one fed masked inputs
(each pixel zeroed with ``p = 0.5``), all with clean targets; the corruption is drawn
afresh for every batch by a seeded layer in front of the network. On test images
corrupted at several noise levels (seeded), we report ``½‖f(x̃) − x‖²`` per image for
each model and for the noisy input itself (no denoising).

Full run: 10,000 random MNIST training images, 15 epochs each; 2,000 test images.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

NAME = "denoising-ae"
DESCRIPTION = "denoising autoencoders (Gaussian / masking noise): error vs noise level"

N_TRAIN, N_TEST, EPOCHS, BATCH = 10_000, 2_000, 15, 100
TRAIN_STD, TRAIN_P = 0.5, 0.5
STDS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
PS = (0.0, 0.1, 0.25, 0.5, 0.75)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train plain / Gaussian-DAE / masking-DAE; evaluate across noise levels; write PNGs."""
    from numnet.autoencoder import (
        GaussianNoise,
        MaskingNoise,
        gaussian_noise,
        masking_noise,
        reconstruct,
        reconstruction_losses,
    )
    from numnet.experiments._common import write_json
    from numnet.experiments.linear_ae_pca import load_images
    from numnet.experiments.mnist_autoencoder import train_autoencoder

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, _, Xt, _, source = load_images(
        data_dir, quick=quick, seed=seed, n_train=N_TRAIN, n_test=N_TEST
    )
    epochs = 4 if quick else EPOCHS
    hidden = (64,) if quick else (256,)
    noises = {
        "plain AE": None,
        f"Gaussian DAE (σ={TRAIN_STD})": GaussianNoise(
            TRAIN_STD, clip=(0.0, 1.0), generator=seed + 10
        ),
        f"masking DAE (p={TRAIN_P})": MaskingNoise(TRAIN_P, generator=seed + 20),
    }
    models, seconds = {}, {}
    for label, noise in noises.items():
        t0 = time.perf_counter()
        models[label], _ = train_autoencoder(
            X, epochs=epochs, batch_size=BATCH, seed=seed, hidden=hidden, noise=noise
        )
        seconds[label] = round(time.perf_counter() - t0, 1)
        print(f"trained {label} in {seconds[label]} s", flush=True)

    def corrupt(kind, level):  # the same seeded corruption for every model
        if kind == "gaussian":
            return gaussian_noise(Xt, level, generator=seed + 1000, clip=(0.0, 1.0))
        return masking_noise(Xt, level, generator=seed + 2000)

    table = {}
    for kind, levels in (("gaussian", STDS), ("masking", PS)):
        table[kind] = {"levels": list(levels), "no denoising (noisy input)": []}
        for label in models:
            table[kind][label] = []
        for level in levels:
            noisy = corrupt(kind, level)
            diff = noisy.astype(np.float64) - Xt
            table[kind]["no denoising (noisy input)"].append(
                float(0.5 * np.mean(np.sum(diff * diff, axis=1)))
            )
            for label, model in models.items():
                table[kind][label].append(float(reconstruction_losses(model, noisy, Xt).mean()))
        for label, values in table[kind].items():
            if label != "levels":
                print(f"{kind:8s} {label:28s} " + " ".join(f"{v:7.2f}" for v in values))
    results = {
        "data": source,
        "n_train": int(len(X)),
        "n_test": int(len(Xt)),
        "epochs": epochs,
        "train_seconds": seconds,
        "loss": "1/2 ||f(noisy x) - clean x||^2 per image",
        "errors": table,
        "seed_claim": "noisy input, reconstruction error w.r.t. the clean sample",
    }
    write_json(out / "results.json", results)

    from numnet.viz import new_figure, plot_reconstructions, save_figure

    fig, axes = new_figure(1, 2, size=(11, 4))
    for ax, (kind, xlabel) in zip(
        axes[0], (("gaussian", "test noise σ"), ("masking", "test masking probability p"))
    ):
        t = table[kind]
        for label, values in t.items():
            if label == "levels":
                continue
            style = "--" if label.startswith("no denoising") else "o-"
            ax.plot(t["levels"], values, style, ms=4, label=label)
        ax.set(
            xlabel=xlabel,
            ylabel="½‖f(x̃) − x‖² per image",
            yscale="log",
            title=f"{kind} corruption of {len(Xt)} test images",
        )
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out / "error_vs_noise.png")
    sample = slice(0, 10)
    sets = {}
    for kind, level in (("gaussian", TRAIN_STD), ("masking", TRAIN_P)):
        noisy = corrupt(kind, level)[sample]
        dae = next(m for lab, m in models.items() if lab.lower().startswith(kind[:4]))
        sets[f"{kind} {level}"] = (
            Xt[sample],
            noisy,
            reconstruct(models["plain AE"], noisy),
            reconstruct(dae, noisy),
        )
    plot_reconstructions(
        sets,
        out / "denoising_examples.png",
        ncols=5,
        labels=("clean", "noisy input", "plain AE", "denoising AE"),
    )
    g, mk = table["gaussian"], table["masking"]
    i_s, i_p = STDS.index(TRAIN_STD), PS.index(TRAIN_P)
    return {
        "data": source,
        **{
            f"gauss{TRAIN_STD}_{k.split(' (')[0].replace(' ', '_')}": round(v[i_s], 3)
            for k, v in g.items()
            if k != "levels"
        },
        **{
            f"mask{TRAIN_P}_{k.split(' (')[0].replace(' ', '_')}": round(v[i_p], 3)
            for k, v in mk.items()
            if k != "levels"
        },
    }

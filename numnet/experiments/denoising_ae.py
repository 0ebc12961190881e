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

from numnet.experiments._common import (
    data_fields,
    half_squared_error,
    load_images,
    output_dir,
    write_json,
)

NAME = "denoising-ae"
DESCRIPTION = "denoising autoencoders (Gaussian / masking noise): error vs noise level"

N_TRAIN, N_TEST, EPOCHS, BATCH = 10_000, 2_000, 15, 100
TRAIN_STD, TRAIN_P = 0.5, 0.5
STDS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
PS = (0.0, 0.1, 0.25, 0.5, 0.75)
NO_DENOISING = "no denoising (noisy input)"


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train plain / Gaussian-DAE / masking-DAE; evaluate across noise levels; write PNGs."""
    out = output_dir(out_dir)
    X, _, Xt, _, source = load_images(
        data_dir, quick=quick, seed=seed, n_train=N_TRAIN, n_test=N_TEST
    )
    epochs = 4 if quick else EPOCHS
    models, seconds = train_models(X, epochs=epochs, hidden=(64,) if quick else (256,), seed=seed)
    table = error_table(models, Xt, seed=seed)
    write_json(
        out / "results.json",
        {
            **data_fields(source, X, Xt),
            "epochs": epochs,
            "train_seconds": seconds,
            "loss": "1/2 ||f(noisy x) - clean x||^2 per image",
            "errors": table,
            "seed_claim": "noisy input, reconstruction error w.r.t. the clean sample",
        },
    )
    _plot_errors(table, len(Xt), out / "error_vs_noise.png")
    _plot_examples(models, Xt, seed, out / "denoising_examples.png")
    summary = {"data": source}
    for kind, prefix, level, levels in (
        ("gaussian", "gauss", TRAIN_STD, STDS), ("masking", "mask", TRAIN_P, PS)
    ):
        i = levels.index(level)
        for k, v in table[kind].items():
            if k != "levels":
                summary[f"{prefix}{level}_{k.split(' (')[0].replace(' ', '_')}"] = round(v[i], 3)
    return summary


def train_models(X, *, epochs: int, hidden, seed: int) -> tuple[dict, dict]:
    """The plain autoencoder and the two denoising ones (seeded noise layers in front):
    ``({label: model}, {label: training seconds})``."""
    from numnet.autoencoder import GaussianNoise, MaskingNoise
    from numnet.experiments.mnist_autoencoder import train_autoencoder

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
    return models, seconds


def corrupt(Xt, kind: str, level: float, seed: int):
    """The test images corrupted by ``kind`` noise at ``level``: the same for every model."""
    from numnet.autoencoder import gaussian_noise, masking_noise

    if kind == "gaussian":
        return gaussian_noise(Xt, level, generator=seed + 1000, clip=(0.0, 1.0))
    return masking_noise(Xt, level, generator=seed + 2000)


def error_table(models: dict, Xt, *, seed: int) -> dict:
    """``½‖f(x̃) − x‖²`` per image at every noise level, for each model and the noisy input."""
    from numnet.autoencoder import reconstruction_losses

    table = {}
    for kind, levels in (("gaussian", STDS), ("masking", PS)):
        column = {"levels": list(levels), NO_DENOISING: [], **{label: [] for label in models}}
        for level in levels:
            noisy = corrupt(Xt, kind, level, seed)
            column[NO_DENOISING].append(half_squared_error(noisy, Xt))
            for label, model in models.items():
                column[label].append(float(reconstruction_losses(model, noisy, Xt).mean()))
        for label, values in column.items():
            if label != "levels":
                print(f"{kind:8s} {label:28s} " + " ".join(f"{v:7.2f}" for v in values))
        table[kind] = column
    return table


def _plot_errors(table: dict, n_test: int, path) -> None:
    from numnet.viz import new_figure, save_figure

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
        ax.set(xlabel=xlabel, ylabel="½‖f(x̃) − x‖² per image", yscale="log",
               title=f"{kind} corruption of {n_test} test images")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_examples(models: dict, Xt, seed: int, path) -> None:
    from numnet.autoencoder import reconstruct
    from numnet.viz import plot_reconstructions

    sample = slice(0, 10)
    sets = {}
    for kind, level in (("gaussian", TRAIN_STD), ("masking", TRAIN_P)):
        noisy = corrupt(Xt, kind, level, seed)[sample]
        dae = next(m for lab, m in models.items() if lab.lower().startswith(kind[:4]))
        sets[f"{kind} {level}"] = (
            Xt[sample],
            noisy,
            reconstruct(models["plain AE"], noisy),
            reconstruct(dae, noisy),
        )
    plot_reconstructions(
        sets,
        path,
        ncols=5,
        labels=("clean", "noisy input", "plain AE", "denoising AE"),
    )

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


def _data(data_dir, quick: bool, seed: int):
    """``(X, y, X_test, y_test, source)``: the images drawn by ``seed``."""
    return load_images(data_dir, quick=quick, seed=seed, n_train=N_TRAIN, n_test=N_TEST)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, seeds: int = 1,
        workers: int | None = None, scheduler: str | None = None,
        epochs: int | None = None, verbose: int = 1) -> dict:
    """Train plain / Gaussian-DAE / masking-DAE; evaluate across noise levels; write PNGs.

    ``seeds``, ``workers`` or ``scheduler`` train the three models for seeds ``seed, ...,
    seed + seeds - 1`` as a grid (:func:`run_grid`); ``epochs`` overrides the mode's."""
    from numnet.experiments._protocol import wants_grid

    out = output_dir(out_dir)
    epochs = epochs or (4 if quick else EPOCHS)
    if wants_grid(seeds, workers, scheduler):
        return run_grid(out, quick=quick, data_dir=data_dir, seed=seed, seeds=seeds,
                        epochs=epochs, workers=workers, scheduler=scheduler, verbose=verbose)
    X, _, Xt, _, source = _data(data_dir, quick, seed)
    models, seconds = train_models(X, epochs=epochs, hidden=_hidden(quick), seed=seed)
    table = error_table(models, Xt, seed=seed)
    write_json(
        out / "results.json",
        {
            **data_fields(source, X, Xt),
            "epochs": epochs,
            "train_seconds": seconds,
            "loss": "1/2 ||f(noisy x) - clean x||^2 per image",
            "errors": table,
            "seed_claim": SEED_CLAIM,
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


def _hidden(quick: bool) -> tuple[int, ...]:
    return (64,) if quick else (256,)


MODELS = ("plain AE", f"Gaussian DAE (σ={TRAIN_STD})", f"masking DAE (p={TRAIN_P})")
SEED_CLAIM = "noisy input, reconstruction error w.r.t. the clean sample"


def train_models(X, *, epochs: int, hidden, seed: int, labels=MODELS) -> tuple[dict, dict]:
    """The plain autoencoder and the two denoising ones (seeded noise layers in front),
    or those of them in ``labels``: ``({label: model}, {label: training seconds})``."""
    from numnet.autoencoder import GaussianNoise, MaskingNoise
    from numnet.experiments.mnist_autoencoder import train_autoencoder

    noises = {
        MODELS[0]: None,
        MODELS[1]: GaussianNoise(TRAIN_STD, clip=(0.0, 1.0), generator=seed + 10),
        MODELS[2]: MaskingNoise(TRAIN_P, generator=seed + 20),
    }
    models, seconds = {}, {}
    for label in labels:
        noise = noises[label]
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


def _plot_errors(table: dict, n_test: int, path, spread=None) -> None:
    """Error vs noise level per model; ``spread`` (like ``table``: standard deviations
    over seeds, ``table`` holding the means) draws them as error bars."""
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
            if spread is None:
                ax.plot(t["levels"], values, style, ms=4, label=label)
            else:
                ax.errorbar(t["levels"], values, yerr=spread[kind][label], fmt=style, ms=4,
                            capsize=3, label=f"{label} (mean ± std)")
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


# -- several seeds per model: numnet reproduce denoising-ae --seeds K [--workers N] -----


def grid_task(settings: dict, *, data_dir=None) -> dict:
    """One model for one seed: ``{"errors": {kind: {"levels", NO_DENOISING, label}}}``,
    what the one-seed run with ``--seed`` = the task's seed computes."""
    from numnet.experiments._table_grid import cached_data

    s = settings
    X, _, Xt, _, source = cached_data(__name__, data_dir, s["quick"], s["seed"])
    models, seconds = train_models(X, epochs=s["epochs"], hidden=tuple(s["hidden"]),
                                   seed=s["seed"], labels=[s["model"]])
    return {"errors": error_table(models, Xt, seed=s["seed"]), "data": source,
            "n_test": len(Xt), "train_seconds": seconds[s["model"]]}


def _error_at(kind: str, label: str, i: int):
    """A task's ``label`` error at the ``i``-th ``kind`` level (NaN in another model's
    task: those are not read)."""
    return lambda m: m["errors"][kind].get(label, [float("nan")] * (i + 1))[i]


def _grid_tables(result, seeds) -> tuple[str, dict, dict]:
    """results.md, and the mean and std of every error (like :func:`error_table`'s)."""
    from numnet.experiments import _table_grid as tg

    lines, mean, std = [], {}, {}
    for kind, levels in (("gaussian", STDS), ("masking", PS)):
        mean[kind], std[kind] = {"levels": list(levels)}, {}
        lines += [""] if lines else []
        lines += [f"| {kind} noise level | " + " | ".join(map(str, levels)) + " |",
                  "|---|" + "---|" * len(levels)]
        for label in (NO_DENOISING, *MODELS):
            cell = MODELS[0] if label == NO_DENOISING else label  # every task has the input
            by_level = [result.summary(_error_at(kind, label, i))[cell]
                        for i in range(len(levels))]
            mean[kind][label] = [s.mean if s.n else float("nan") for s in by_level]
            std[kind][label] = [s.std or 0.0 for s in by_level]
            text = tg.mean_std if label == NO_DENOISING else tg.cell_text
            lines.append(f"| {label} | " + " | ".join(text(s, ".2f") for s in by_level) + " |")
    lines += tg.table_note(seeds, result, "½‖f(x̃) − x‖² per test image, mean ± sample "
                           "standard deviation over the seeds; best: the seed with the "
                           "lowest error at that level. A seed draws the images, the "
                           "weights, the shuffles and the training and test noise. Seed 001 "
                           f"gives no numbers, only the recipe: {SEED_CLAIM}.")
    return "\n".join(lines) + "\n", mean, std


def run_grid(out, *, quick, data_dir, seed, seeds, epochs, workers, scheduler,
             verbose) -> dict:
    """The three models for ``seeds`` seeds from ``seed``; writes results.md/.json/.csv
    (mean ± std per model and noise level) and error_vs_noise.png (error bars); finished
    tasks are kept in ``out/grid/``."""
    from numnet.experiments import _table_grid as tg

    seed_list = tg.seed_range(seed, seeds)
    settings = {label: {"experiment": NAME, "model": label, "quick": quick,
                        "epochs": epochs, "hidden": list(_hidden(quick)), "batch": BATCH}
                for label in MODELS}
    result = tg.run_tasks(
        grid_task, tg.tasks_by_seed(settings, seed_list), out, desc=NAME, workers=workers,
        scheduler=scheduler, verbose=verbose,
        context={"data_dir": None if data_dir is None else str(data_dir)},
    )
    markdown, mean, std = _grid_tables(result, seed_list)
    cells = [{"cell": label, "kind": kind, "levels": mean[kind]["levels"],
              "error_mean": mean[kind][label], "error_std": std[kind][label]}
             for label in MODELS for kind in ("gaussian", "masking")]
    n_test = next((t.metrics["n_test"] for t in result.tasks if t.ok), 0)
    summary = tg.write_results(
        out, result, seed_list, markdown=markdown, cells=cells,
        task_row=lambda m: {"data": m["data"], "errors": m["errors"]},
        figures={"error_vs_noise.png": lambda p: _plot_errors(mean, n_test, p, std)},
    )
    summary["cells"] = len(settings)
    return summary

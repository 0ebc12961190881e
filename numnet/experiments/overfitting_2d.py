"""Seed 001: overfitting on a binary 2-D problem, and L2, dropout and early stopping.

Seed 001 ("A binary 2D example"): "Overfitting can be much more dramatic than for
linear logistic regression. Different regularization strategies can be adopted — L2
weights regularization [λ/2 Σ‖W_m‖²], Dropout, Early stopping (computing error on
validation set)".

Data: two interleaved moons with Gaussian noise 0.3 (classes overlap), 80 training
points, 80 validation points (early stopping only) and 2,000 test points, all seeded.
Models (logistic output, ``BCEWithLogits``, Adam lr 0.01, full batch, 2,000 epochs):

* small MLP 2-8-1 (tanh);
* large MLP 2-256-256-1 (ReLU) with no regularisation, with L2 (λ = 0.01 on the
  weights), with dropout (p = 0.5 after each hidden layer), and with early stopping
  on the validation loss (patience 100, best weights restored).
"""

from __future__ import annotations

import time

import numpy as np

from numnet.experiments._common import Recipe, output_dir, write_json

NAME = "overfitting-2d"
DESCRIPTION = "decision boundaries of small/large MLPs on noisy 2-D data; L2, dropout, early stop"

N_TRAIN, N_VAL, N_TEST, NOISE, EPOCHS, LR = 100, 100, 2000, 0.45, 2000, 0.01
LARGE, SMALL, L2, P_DROP, PATIENCE = (256, 256), (4,), 0.01, 0.5, 100


def _variants():
    return [
        ("small 2-4-1", SMALL, "tanh", 0.0, 0.0, False),
        ("large, no reg.", LARGE, "relu", 0.0, 0.0, False),
        (f"large, L2 λ={L2}", LARGE, "relu", L2, 0.0, False),
        (f"large, dropout p={P_DROP}", LARGE, "relu", 0.0, P_DROP, False),
        ("large, early stopping", LARGE, "relu", 0.0, 0.0, True),
    ]


def _error(model, X, y) -> float:
    from numnet.train import predict

    return float(np.mean((predict(model, X)[:, 0] > 0) != (y > 0.5)))


def _data(quick: bool, seed: int) -> dict:
    """The training, validation and test moons drawn by ``seed``."""
    from numnet.data import two_moons

    return {
        "train": two_moons(N_TRAIN, NOISE, generator=seed),
        "val": two_moons(N_VAL, NOISE, generator=seed + 1),
        "test": two_moons(400 if quick else N_TEST, NOISE, generator=seed + 2),
    }


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, seeds: int = 1,
        workers: int | None = None, scheduler: str | None = None,
        epochs: int | None = None, verbose: int = 1) -> dict:
    """Train the five models; write results.json, decision boundaries and learning curves.

    ``seeds``, ``workers`` or ``scheduler`` run the five models for seeds ``seed, ...,
    seed + seeds - 1`` as a grid (:func:`run_grid`); ``epochs`` overrides the mode's."""
    from numnet.experiments._protocol import wants_grid

    out = output_dir(out_dir)
    epochs = epochs or (150 if quick else EPOCHS)
    if wants_grid(seeds, workers, scheduler):
        return run_grid(out, quick=quick, seed=seed, seeds=seeds, epochs=epochs,
                        workers=workers, scheduler=scheduler, verbose=verbose)
    data = _data(quick, seed)
    fits = [_train_variant(v, data, quick=quick, epochs=epochs, seed=seed) for v in _variants()]
    rows = [f["row"] for f in fits]
    write_json(
        out / "results.json",
        {
            "data": f"two moons, noise {NOISE}: {N_TRAIN} train, {N_VAL} validation, "
            f"{len(data['test'][0])} test",
            "optimizer": f"Adam lr {LR}, full batch, {epochs} epochs",
            "rows": rows,
            "seed_claim": SEED_CLAIM,
        },
    )
    X, y = data["train"]
    _plot_boundaries({r["model"]: f["model"] for r, f in zip(rows, fits)}, rows, X, y,
                     out / "decision_boundaries.png")
    _plot_curves({r["model"]: f["history"] for r, f in zip(rows, fits)},
                 out / "learning_curves.png")
    return {
        r["model"]: {
            "train_error": round(r["train_error"], 4),
            "test_error": round(r["test_error"], 4),
        }
        for r in rows
    }


def _train_variant(variant, data, *, quick: bool, epochs: int, seed: int) -> dict:
    """Train one model of :func:`_variants`; returns its ``model``, ``history`` and ``row``."""
    import numnet.nn.functional as F
    from numnet import models, optim, train

    label, hidden, act, l2, p, early = variant
    hidden = ((32, 32) if quick else LARGE) if hidden == LARGE else hidden
    (X, y), (Xv, yv), (Xt, yt) = data["train"], data["val"], data["test"]
    model = models.mlp(2, hidden, 1, activation=act, dropout=p, generator=seed)
    opt = optim.Adam(models.weight_decay_groups(model, l2), lr=LR)
    patience = PATIENCE if not quick else 20
    cbs = [train.EarlyStopping("val_loss", patience=patience, restore_best_weights=True)]
    cbs = cbs if early else []
    t0 = time.perf_counter()
    history = Recipe(epochs, len(X), seed).fit(
        model, F.binary_cross_entropy_with_logits, opt, (X, y[:, None].astype(np.float32)),
        validation=(Xv, yv[:, None].astype(np.float32)), callbacks=cbs,
    )
    row = {
        "model": label,
        "hidden": list(hidden),
        "activation": act,
        "l2": l2,
        "dropout": p,
        "epochs_run": len(history),
        "best_epoch": cbs[0].best_epoch if early else None,
        "train_error": _error(model, X, y),
        "val_error": _error(model, Xv, yv),
        "test_error": _error(model, Xt, yt),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(
        f"{label:24s} train error {100 * row['train_error']:5.1f} %  test error "
        f"{100 * row['test_error']:5.1f} %",
        flush=True,
    )
    return {"model": model, "history": history, "row": row}


def _plot_boundaries(fitted, rows, X, y, path) -> None:
    from numnet.train import predict
    from numnet.viz import decision_grid, new_figure, save_figure

    fig, axes = new_figure(1, len(fitted), size=(3.6 * len(fitted), 3.6))
    for ax, (label, model), row in zip(axes[0], fitted.items(), rows):
        xx, yy, zz = decision_grid(lambda g, m=model: predict(m, g)[:, 0], X, resolution=150)
        ax.contourf(
            xx, yy, zz > 0, levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fdae6b"], alpha=0.6
        )
        ax.contour(xx, yy, zz, levels=[0.0], colors="k", linewidths=0.8)
        ax.scatter(X[:, 0], X[:, 1], c=np.where(y > 0, "#d94801", "#08519c"), s=10)
        ax.set(
            xticks=[],
            yticks=[],
            title=f"{label}\ntrain {100 * row['train_error']:.0f} %, "
            f"test {100 * row['test_error']:.1f} %",
        )
        ax.title.set_fontsize(8)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_curves(curves, path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 2, size=(11, 3.8))
    for k, (label, h) in enumerate(curves.items()):
        axes[0, 0].plot(h["epoch"], h["loss"], color=f"C{k}", lw=1, label=label)
        axes[0, 1].plot(h["epoch"], h["val_loss"], color=f"C{k}", lw=1, label=label)
    axes[0, 0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="training")
    axes[0, 1].set(
        xlabel="epoch",
        ylabel="validation loss",
        yscale="log",
        title="validation (early stopping monitors this)",
    )
    axes[0, 1].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


# -- several seeds per model: numnet reproduce overfitting-2d --seeds K [--workers N] ----

SEED_CLAIM = "large networks overfit; L2, dropout and early stopping reduce it"


def grid_task(settings: dict) -> dict:
    """One model for one seed (data, weights, shuffles and dropout masks): ``{"row"}``,
    what the one-seed run with ``--seed`` = the task's seed computes."""
    s = settings
    variant = next(v for v in _variants() if v[0] == s["model"])
    fit = _train_variant(variant, _data(s["quick"], s["seed"]), quick=s["quick"],
                         epochs=s["epochs"], seed=s["seed"])
    return {"row": {**fit["row"], "seed": s["seed"]}}


def _plot_grid(train_err, test_err, path) -> None:
    """Train and test error per model: mean ± std over seeds, best seed."""
    from numnet.experiments import grid
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 2, size=(11, 4.4))
    for ax, summaries, title in ((axes[0, 0], train_err, "training error"),
                                 (axes[0, 1], test_err, "test error")):
        grid.plot_error_bars(ax, summaries, ylabel=f"{title} (%)")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def run_grid(out, *, quick, seed, seeds, epochs, workers, scheduler, verbose) -> dict:
    """The five models for ``seeds`` seeds from ``seed``; writes results.md/.json/.csv
    (mean ± std per model) and error_bars.png; finished tasks are kept in ``out/grid/``."""
    from numnet.experiments import _table_grid as tg

    seed_list = tg.seed_range(seed, seeds)
    settings = {v[0]: {"experiment": NAME, "model": v[0], "quick": quick, "epochs": epochs,
                       "lr": LR, "noise": NOISE} for v in _variants()}
    result = tg.run_tasks(grid_task, tg.tasks_by_seed(settings, seed_list), out, desc=NAME,
                          workers=workers, scheduler=scheduler, context={}, verbose=verbose)
    errors = {k: result.summary(lambda m, k=k: 100 * m["row"][k])
              for k in ("train_error", "test_error")}
    epochs_run = result.summary(lambda m: m["row"]["epochs_run"])
    lines = ["| model | training error | test error | epochs run |", "|---|---|---|---|"]
    lines += [f"| {c} | {tg.mean_std(errors['train_error'][c], '.1f', '%')} | "
              f"{tg.cell_text(s, '.1f', '%')} | {tg.mean_std(epochs_run[c], '.0f')} |"
              for c, s in errors["test_error"].items()]
    lines += tg.table_note(seed_list, result, "mean ± sample standard deviation over the "
                           "seeds; best: the seed with the lowest test error. A seed draws "
                           "the moons, the initial weights, the shuffles and the dropout "
                           f"masks. Seed 001 gives no numbers, only the claim: {SEED_CLAIM}.")
    cells = [{"cell": c, "seeds": sorted(s.values), "n_seeds": s.n, "failed": s.failed,
              "train_error_percent_mean": errors["train_error"][c].mean,
              "train_error_percent_std": errors["train_error"][c].std,
              "test_error_percent_mean": s.mean, "test_error_percent_std": s.std,
              "best_seed": s.best_seed, "best_seed_test_error_percent": s.best}
             for c, s in errors["test_error"].items()]
    return tg.write_results(
        out, result, seed_list, markdown="\n".join(lines) + "\n", cells=cells,
        task_row=lambda m: m["row"],
        figures={"error_bars.png": lambda p: _plot_grid(*errors.values(), p)},
    )

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


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train the five models; write results.json, decision boundaries and learning curves."""
    from numnet.data import two_moons

    out = output_dir(out_dir)
    data = {
        "train": two_moons(N_TRAIN, NOISE, generator=seed),
        "val": two_moons(N_VAL, NOISE, generator=seed + 1),
        "test": two_moons(400 if quick else N_TEST, NOISE, generator=seed + 2),
    }
    epochs = 150 if quick else EPOCHS
    fits = [_train_variant(v, data, quick=quick, epochs=epochs, seed=seed) for v in _variants()]
    rows = [f["row"] for f in fits]
    write_json(
        out / "results.json",
        {
            "data": f"two moons, noise {NOISE}: {N_TRAIN} train, {N_VAL} validation, "
            f"{len(data['test'][0])} test",
            "optimizer": f"Adam lr {LR}, full batch, {epochs} epochs",
            "rows": rows,
            "seed_claim": "large networks overfit; L2, dropout and early stopping reduce it",
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

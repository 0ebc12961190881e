"""Seed 002, 3.1: the perceptron on MNIST's "0" (-1) vs "1" (+1), with the seed's log.

The seed reports (its log): the perceptron separates the training set in about ten
epochs, with a test error of 0.14 %. This run prints the same log, and the quantities
of the convergence proof: the radius R, the margin γ of the learned separator and of
the maximum-margin one, and the bound 4R²/γ² against the number of updates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet.classic import Perceptron, margin, max_margin, perceptron_bound, radius
from numnet.experiments._common import load_digits_data, subsample, write_json

NAME = "perceptron-mnist"
DESCRIPTION = "Perceptron on MNIST 0 vs 1: the seed-002 epoch log, R, γ and the 4R²/γ² bound"


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train the perceptron on 0 vs 1 and write ``log.txt``, ``results.json``, a PNG.

    ``seed`` only draws the quick-mode subset: 1,000 training and 500 test images
    (synthetic digits if MNIST is not on disk; see :func:`numnet.data.load_mnist`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    data = load_digits_data(data_dir, quick=quick, seed=seed)

    def zero_vs_one(X, y, n):
        keep = y <= 1
        X, y = subsample(X[keep], np.where(y[keep] == 1, 1, -1), n, rng)
        return X, y

    X, y = zero_vs_one(data.X_train, data.y_train, 1000 if quick else None)
    X_test, y_test = zero_vs_one(data.X_test, data.y_test, 500 if quick else None)

    model = Perceptron(max_epochs=100).fit(X, y, eval_set=(X_test, y_test))
    log = model.format_log()
    (out / "log.txt").write_text(log + "\n")

    R = radius(X)
    gamma = margin(X, y, model.coef_, model.intercept_)
    try:
        gamma_star = max_margin(X, y)[2]
    except ValueError:  # not separable (possible on the quick subsets): no margin
        gamma_star = None
    results = {
        "data": data.source,
        "n_train": int(len(y)),
        "n_test": int(len(y_test)),
        "converged": bool(model.converged_),
        "epochs": int(model.n_epochs_),
        "updates": int(model.n_updates_),
        "train_error": model.log_[-1]["train_error"],
        "test_error": model.log_[-1]["test_error"],
        "R": R,
        "gamma_learned": gamma,
        "bound_learned": perceptron_bound(R, gamma) if gamma > 0 else None,
        "gamma_max_margin": gamma_star,
        "bound_max_margin": perceptron_bound(R, gamma_star) if gamma_star else None,
        "seed_reported": {"test_error": 0.0014, "epochs": "about 10"},
        "log": model.log_,
    }
    write_json(out / "results.json", results)
    _plot(model, X.shape[1], data.source, out / "perceptron_mnist.png")
    print(log)
    return {k: v for k, v in results.items() if k != "log"}


def _plot(model: Perceptron, n_features: int, source: str, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    epochs = [entry["epoch"] for entry in model.log_]
    side = int(round(np.sqrt(n_features)))
    fig, axes = new_figure(1, 3, size=(14, 3.8))
    ax = axes[0, 0]
    ax.bar(epochs, [entry["nb_changes"] for entry in model.log_], color="tab:gray")
    ax.set(xlabel="epoch", ylabel="nb_changes", title="updates per epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax = axes[0, 1]
    for key, style in (("train_error", "o-"), ("test_error", "s--")):
        ax.plot(epochs, [100 * entry[key] for entry in model.log_], style, label=key)
    ax.set(xlabel="epoch", ylabel="error (%)", title=f"{source}: 0 (-1) vs 1 (+1)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    ax = axes[0, 2]
    if side * side == n_features:
        w = model.coef_.reshape(side, side)
        lim = float(np.abs(w).max()) or 1.0
        image = ax.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim)
        fig.colorbar(image, ax=ax)
        ax.set(title="w (red: evidence for 1)", xticks=[], yticks=[])
    else:
        ax.axis("off")
    save_figure(fig, path)

"""Seed 002, 3.3: the perceptron on MNIST's "8" vs the others, with random pair products.

"The original 28×28 features are supplemented with the products of pairs of features
taken at random": the more products, the richer the linear model on Φ(x), and the
lower the training error. The seed shows the train and test errors as the number of
added features grows; this run measures them for a perceptron trained a fixed number
of epochs (the classes are not linearly separable, so it never converges).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet.classic import Perceptron, RandomPairProducts
from numnet.experiments._common import load_digits_data, subsample, write_json

NAME = "mnist-8-vs-rest"
DESCRIPTION = "Perceptron on MNIST 8 vs rest, raw pixels vs with random pair-product features"

FULL_PRODUCTS = (0, 250, 500, 1000, 2000, 4000, 8000)
QUICK_PRODUCTS = (0, 100, 400)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Train one perceptron per number of added products; write JSON, CSV and a PNG.

    Parameters
    ----------
    out_dir : path-like
    quick : bool
        2,000 training and 1,000 test images, 3 settings, 5 epochs.
    data_dir : path-like, optional
        Where MNIST is.
    seed : int
        Seeds the pairs drawn (nested: each setting adds to the previous one's pairs)
        and the quick-mode subset.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    data = load_digits_data(data_dir, quick=quick, seed=seed)
    X, digits = subsample(data.X_train, data.y_train, 2000 if quick else None, rng)
    X_test, digits_test = subsample(data.X_test, data.y_test, 1000 if quick else None, rng)
    y, y_test = np.where(digits == 8, 1, -1), np.where(digits_test == 8, 1, -1)
    counts = QUICK_PRODUCTS if quick else FULL_PRODUCTS
    epochs = 5 if quick else 10

    rows = []
    for n_products in counts:
        features = RandomPairProducts(n_products, random_state=seed).fit(X)
        Phi, Phi_test = features.transform(X), features.transform(X_test)
        model = Perceptron(max_epochs=epochs).fit(Phi, y, eval_set=(Phi_test, y_test))
        rows.append(
            {
                "n_products": n_products,
                "n_features": int(Phi.shape[1]),
                "train_error": model.log_[-1]["train_error"],
                "test_error": model.log_[-1]["test_error"],
                "best_epoch_test_error": min(entry["test_error"] for entry in model.log_),
                "converged": bool(model.converged_),
                "updates_last_epoch": model.log_[-1]["nb_changes"],
            }
        )
        print(
            f"{n_products:5d} products: train_error {100 * rows[-1]['train_error']:.2f}% "
            f"test_error {100 * rows[-1]['test_error']:.2f}%",
            flush=True,
        )
        del Phi, Phi_test

    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(row[k]) for k in header) for row in rows]
    (out / "errors.csv").write_text("\n".join(lines) + "\n")
    results = {
        "data": data.source,
        "n_train": int(len(y)),
        "n_test": int(len(y_test)),
        "positive_fraction_test": float(np.mean(y_test == 1)),
        "epochs": epochs,
        "rows": rows,
    }
    write_json(out / "results.json", results)
    _plot(rows, data.source, epochs, out / "mnist_8_vs_rest.png")
    return {
        "data": data.source,
        "train_error_raw": rows[0]["train_error"],
        "test_error_raw": rows[0]["test_error"],
        "train_error_most_products": rows[-1]["train_error"],
        "test_error_most_products": rows[-1]["test_error"],
        "most_products": rows[-1]["n_products"],
    }


def _plot(rows: list[dict], source: str, epochs: int, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    n = [row["n_products"] for row in rows]
    fig, axes = new_figure(1, 1, size=(6, 4))
    ax = axes[0, 0]
    ax.plot(n, [100 * row["train_error"] for row in rows], "o-", label="train error")
    ax.plot(n, [100 * row["test_error"] for row in rows], "s--", label="test error")
    ax.set(
        xlabel="number of random pair products added to the 784 pixels",
        ylabel="error (%)",
        title=f"perceptron, {source} 8 vs others ({epochs} epochs)",
    )
    ax.set_ylim(bottom=0)
    ax.legend()
    save_figure(fig, path)

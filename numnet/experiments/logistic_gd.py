"""Seed 002, 3.5: logistic regression by gradient descent, the seed's code example.

The seed derives ``∂ℒ/∂b = -Σₙ uₙ`` and ``∂ℒ/∂w = -Σₙ xₙ uₙ`` with
``uₙ = yₙ σ(-yₙ(w·xₙ + b))`` for ``ℒ(w, b) = -Σₙ log σ(yₙ(w·xₙ + b))``, starts from
``w ~ N(0, 1)``, ``b = 0`` and runs ``w -= η dw; b -= η db`` with η = 10⁻¹ on
100 training points. This run does exactly that and records the loss curve and the
boundary as it moves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet.classic import LogisticRegression
from numnet.experiments._common import write_json

NAME = "logistic-gd"
DESCRIPTION = "Seed-002 logistic regression by gradient descent: 100 points, eta = 0.1, loss curve"

MEANS = np.array([[-0.5, -0.3], [0.5, 0.4]])  # labels -1 and +1
STD = 0.35


def sample(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points from two isotropic Gaussians, labels ±1 with probability ½."""
    y = np.where(rng.random(n) < 0.5, 1, -1)
    y[:2] = (-1, 1)  # both classes present
    X = MEANS[(y + 1) // 2] + STD * rng.standard_normal((n, 2))
    return X, y


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Gradient descent on the summed logistic loss; write CSV, JSON and a PNG.

    The data are synthetic (``data_dir`` unused); ``seed`` draws them and ``w``'s
    initialization. Quick mode: 200 iterations instead of 1,000.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    X, y = sample(100, rng)
    X_test, y_test = sample(10_000, rng)
    n_iterations = 200 if quick else 1000

    def gd(iterations: int) -> LogisticRegression:
        # the seed's loop: sum over samples, η = 0.1, w ~ N(0, 1), b = 0
        model = LogisticRegression(
            lr=0.1, max_iter=iterations, reduction="sum", tol=0, init="normal", random_state=seed
        )
        return model.fit(X, y)

    model = gd(n_iterations)
    snapshots = sorted({0, 1, 5, 20, 100, n_iterations})
    boundaries = {k: gd(k) for k in snapshots}
    curve = model.loss_curve_
    (out / "loss_curve.csv").write_text(
        "iteration,loss\n" + "".join(f"{k},{loss!r}\n" for k, loss in enumerate(curve))
    )
    results = {
        "n_train": 100,
        "eta": 0.1,
        "iterations": n_iterations,
        "initial_loss": curve[0],
        "final_loss": curve[-1],
        "train_error": 1 - model.score(X, y),
        "test_error": 1 - model.score(X_test, y_test),
        "w": model.coef_,
        "b": model.intercept_,
    }
    write_json(out / "results.json", results)
    _plot(X, y, curve, boundaries, out / "logistic_gd.png")
    return {k: v for k, v in results.items() if k not in ("w", "b")}


def _plot(X, y, curve, boundaries: dict, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 2, size=(12, 4.2))
    import matplotlib  # loaded by new_figure

    ax = axes[0, 0]
    ax.plot(np.arange(len(curve)), curve)
    ax.set(
        xscale="symlog", yscale="log", xlabel="iteration", ylabel="ℒ(w, b) (sum over 100 points)"
    )
    ax.set_title("loss, η = 0.1")
    ax = axes[0, 1]
    ax.scatter(X[:, 0], X[:, 1], c=np.where(y == 1, "tab:red", "tab:blue"), s=12)
    xs = np.array([-1.8, 1.8])
    cmap = matplotlib.colormaps["viridis"]
    for i, (k, model) in enumerate(boundaries.items()):
        w, b = model.coef_, model.intercept_
        color = cmap(i / max(1, len(boundaries) - 1))
        ax.plot(xs, -(w[0] * xs + b) / w[1], color=color, label=f"iteration {k}")
    ax.set(xlim=(-1.8, 1.8), ylim=(-1.6, 1.8), title="w·x + b = 0 during descent")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    save_figure(fig, path)

"""Seed 004: gradient descent's three examples, the step-size limit, and SGD vs batch GD.

Seed 004 ("Gradient descent"): ``θ_{t+1} = θ_t − γ ∇L(θ_t)``; "the initial parameters
θ₀ and the learning rate γ are both critical for the convergence of the update
rule". Its three examples — convergence to a local minimum, convergence to the
global minimum, divergence with a too-large learning rate — are run here with
:class:`numnet.optim.SGD` on a :class:`~numnet.nn.Parameter`, the gradient coming
from numnet's autodiff (float64):

1. ``L(θ) = θ⁴ − 3θ² + θ`` (minima ≈ −1.30 (global) and 1.13 (local)): from θ₀ = 2 with
   γ = 0.02 GD stops in the local minimum; from θ₀ = −0.5 it reaches the global one;
   with γ = 0.29 from θ₀ = 1.5 the iterates bounce across both valleys, then blow up.
2. ``L(θ) = ½(θ₁² + 10 θ₂²)``, curvatures 1 and 10: GD converges iff γ < 2/10, shown with
   γ = 0.05, 0.19 (zig-zag) and 0.21 (diverges).
3. Seed 004 ("Stochastic gradient descent"): logistic regression ``p = σ(w·x)`` on two
   Gaussian classes, full-batch GD vs SGD with one example per step, at the same
   number of per-example gradient evaluations (50 epochs), trajectories in the
   ``(w₁, w₂)`` plane over the loss contours.
"""

from __future__ import annotations

import numpy as np

from numnet.experiments._common import Recipe, output_dir, write_json

NAME = "gradient-descent"
DESCRIPTION = "seed 004's GD examples (local/global minimum, divergence), γ < 2/λ, SGD vs GD"

BLOWUP = 1e6


def quartic(theta):
    """``θ⁴ − 3θ² + θ`` (works on arrays and numnet Tensors)."""
    return theta**4 - 3 * theta**2 + theta


def bowl(t1, t2):
    """``½(θ₁² + 10 θ₂²)``."""
    return 0.5 * (t1**2 + 10 * t2**2)


def descend(loss_fn, theta0, lr: float, steps: int) -> np.ndarray:
    """Gradient descent with ``numnet.optim.SGD`` on a float64 Parameter; returns iterates.

    Stops early (returning the iterates so far) once ``|θ|`` exceeds 10⁶: the run has
    diverged and the next powers would overflow.
    """
    from numnet import optim
    from numnet.nn import Parameter

    theta = Parameter(np.atleast_1d(np.asarray(theta0, dtype=np.float64)))
    opt = optim.SGD([theta], lr=lr)
    path = [theta.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(theta).backward()
        opt.step()
        path.append(theta.data.copy())
        if not np.all(np.abs(theta.data) < BLOWUP):
            break
    return np.array(path)


def logistic_paths(X, y, *, epochs: int, lr_gd: float, lr_sgd: float, seed: int):
    """Weights after every step of batch GD and of SGD (batch 1) on the logistic loss."""
    import numnet.nn.functional as F
    from numnet import nn, optim, train

    class WeightTrace(train.Callback):
        def __init__(self):
            self.trace = []

        def on_train_begin(self, loop, logs):
            self.trace.append(loop.model.weight.data[0].copy())

        def on_batch_end(self, loop, batch, logs):
            self.trace.append(loop.model.weight.data[0].copy())

    paths = {}
    for label, batch, lr in (("batch GD", len(X), lr_gd), ("SGD (1 example / step)", 1, lr_sgd)):
        model = nn.Linear(2, 1, bias=False, dtype=np.float64)
        model.weight.data[:] = [[-2.0, 2.5]]
        tracer = WeightTrace()
        Recipe(epochs, batch, seed).fit(
            model,
            F.binary_cross_entropy_with_logits,
            optim.SGD(model.parameters(), lr=lr),
            (X, y[:, None].astype(np.float64)),
            callbacks=[tracer],
        )
        paths[label] = np.array(tracer.trace)
    return paths


def logistic_loss(X, y, W) -> np.ndarray:
    """Mean logistic loss of weights ``W`` (..., 2) on ``(X, y)``, labels in {0, 1}."""
    z = np.einsum("nd,...d->...n", X, W)
    return np.mean(np.logaddexp(0, z) - y * z, axis=-1)


def logistic_optimum(X, y, iterations: int = 50) -> np.ndarray:
    """The minimiser of :func:`logistic_loss` by Newton's method (the loss is convex)."""
    w = np.zeros(X.shape[1])
    for _ in range(iterations):
        p = 0.5 * (1 + np.tanh(0.5 * X @ w))  # σ(Xw) without overflow
        grad = X.T @ (p - y) / len(X)
        hess = (X * (p * (1 - p))[:, None]).T @ X / len(X)
        w -= np.linalg.solve(hess + 1e-12 * np.eye(len(w)), grad)
    return w


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Run the examples; write results.json and three PNGs."""
    out = output_dir(out_dir)
    quartic_part = quartic_examples()
    bowl_part = bowl_examples()
    logistic_part = logistic_comparison(quick=quick, seed=seed)
    rows, bowl_rows, logit = quartic_part["rows"], bowl_part["rows"], logistic_part["rows"]
    write_json(
        out / "results.json",
        {
            "quartic_minima": quartic_part["minima"],
            "examples": rows,
            "bowl": bowl_rows,
            "bowl_step_limit": "2 / λ_max = 0.2",
            "logistic": logit,
            "logistic_optimum_loss": logistic_part["optimum"],
            "seed_claim": "θ₀ and γ decide: local minimum, global minimum, or divergence",
        },
    )
    _plot_quartic(quartic_part["paths"], out / "gd_examples_1d.png")
    _plot_bowl(bowl_part["paths"], out / "gd_step_size_2d.png")
    _plot_logistic(logistic_part, out / "sgd_vs_gd.png")
    return {
        "outcomes": [r["outcome"] for r in rows],
        "bowl_converges": [r["converges"] for r in bowl_rows],
        **{f"{k} excess loss": round(v["excess_loss"], 6) for k, v in logit.items()},
    }


def _outcome(end: float, minima: dict) -> str:
    if not abs(end) < BLOWUP:
        return "diverged"
    if abs(end - minima["global"]) < 1e-3:
        return "global minimum"
    if abs(end - minima["local"]) < 1e-3:
        return "local minimum"
    return "not converged"


def quartic_examples(steps: int = 100) -> dict:
    """Seed 004's three runs on the quartic: their ``paths``, ``rows`` and the ``minima``."""
    runs = {
        "Example 1: θ₀ = 2, γ = 0.02": (2.0, 0.02),
        "Example 2: θ₀ = −0.5, γ = 0.02": (-0.5, 0.02),
        "Example 3: θ₀ = 1.5, γ = 0.29": (1.5, 0.29),
    }
    paths = {k: descend(quartic, t0, lr, steps)[:, 0] for k, (t0, lr) in runs.items()}
    grid = np.linspace(-2.5, 2.5, 200_001)
    minima = {
        "global": float(grid[np.argmin(quartic(grid))]),
        "local": float(grid[1:-1][(np.diff(np.sign(np.diff(quartic(grid)))) > 0)][-1]),
    }
    rows = []
    for label, p in paths.items():
        end = p[-1]
        where = _outcome(end, minima)
        rows.append(
            {
                "run": label,
                "steps": len(p) - 1,
                "final_theta": float(end),
                "final_loss": None if where == "diverged" else float(quartic(end)),
                "outcome": where,
            }
        )
        print(f"{label}: {where} (θ = {end:.6g} after {len(p) - 1} steps)", flush=True)
    return {"paths": paths, "rows": rows, "minima": minima}


def bowl_examples(lrs=(0.05, 0.19, 0.21), steps: int = 60) -> dict:
    """GD on ``½(θ₁² + 10 θ₂²)`` from (2, 1) at each step size: ``paths`` and ``rows``."""
    paths = {f"γ = {lr}": descend(lambda t: bowl(t[0], t[1]), (2.0, 1.0), lr, steps) for lr in lrs}
    rows = [
        {
            "lr": lr,
            "final_distance": float(np.linalg.norm(p[-1])),
            "converges": bool(np.linalg.norm(p[-1]) < np.linalg.norm(p[0])),
        }
        for lr, p in zip(lrs, paths.values())
    ]
    print(
        "quadratic bowl (limit γ < 0.2): "
        + ", ".join(f"γ={r['lr']}: |θ| {r['final_distance']:.3g}" for r in rows),
        flush=True,
    )
    return {"paths": paths, "rows": rows}


def logistic_comparison(*, quick: bool, seed: int) -> dict:
    """Batch GD vs SGD on two Gaussian classes at the same per-example budget."""
    from numnet.data import gaussian_blobs

    X, y = gaussian_blobs(100 if quick else 200, [[-1.0, 1.0], [1.0, -1.0]], 1.0, generator=seed)
    X = X.astype(np.float64)
    epochs = 10 if quick else 50
    paths = logistic_paths(X, y, epochs=epochs, lr_gd=1.0, lr_sgd=0.05, seed=seed)
    best = float(logistic_loss(X, y, logistic_optimum(X, y)))
    rows = {}
    for label, p in paths.items():
        final = float(logistic_loss(X, y, p[-1]))
        rows[label] = {
            "steps": len(p) - 1,
            "per_example_gradients": (len(p) - 1) * (len(X) if label == "batch GD" else 1),
            "final_loss": final,
            "excess_loss": final - best,
        }
        print(
            f"logistic, {label}: {len(p) - 1} steps, loss {final:.5f} (optimum {best:.5f})",
            flush=True,
        )
    return {"X": X, "y": y, "epochs": epochs, "paths": paths, "rows": rows, "optimum": best}


def _plot_quartic(paths: dict, path) -> None:
    from numnet.viz import draw_trajectories_1d, new_figure, save_figure

    fig, axes = new_figure(1, 3, size=(15, 4))
    for ax, (label, p) in zip(axes[0], paths.items()):
        draw_trajectories_1d(ax, quartic, (-2.5, 2.5), {label: p}, ylim=(-4.5, 12), title=label)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_bowl(paths: dict, path) -> None:
    from numnet.viz import draw_trajectories_2d, new_figure, save_figure

    fig, axes = new_figure(1, 1, size=(6, 4.5))
    draw_trajectories_2d(
        axes[0, 0], bowl, (-2.5, 2.5), (-1.6, 1.6), paths,
        title="½(θ₁² + 10θ₂²): GD converges iff γ < 2/10",
    )
    save_figure(fig, path)


def _plot_logistic(part: dict, path) -> None:
    from numnet.viz import draw_trajectories_2d, new_figure, save_figure

    X, y, paths, best = part["X"], part["y"], part["paths"], part["optimum"]
    fig, axes = new_figure(1, 2, size=(11, 4.2))
    w_all = np.concatenate(list(paths.values()))
    lo, hi = w_all.min(axis=0) - 0.5, w_all.max(axis=0) + 0.5
    draw_trajectories_2d(
        axes[0, 0],
        lambda a, b: logistic_loss(X, y, np.stack([a, b], -1)),
        (lo[0], hi[0]),
        (lo[1], hi[1]),
        {k: v[:: max(1, len(v) // 2000)] for k, v in paths.items()},
        title="logistic loss, weight trajectories",
    )
    ax = axes[0, 1]
    for label, p in paths.items():
        per_step = len(X) if label == "batch GD" else 1
        ax.plot(np.arange(len(p)) * per_step, logistic_loss(X, y, p) - best, label=label)
    ax.set(xlabel="per-example gradients evaluated", ylabel="loss − optimum", yscale="log",
           title=f"same budget: {part['epochs']} epochs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)

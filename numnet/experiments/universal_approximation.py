"""Seeds 002 and 004: one hidden layer of sigmoid or sign units approximates 1-D functions.

Seed 004 ("Expressiveness"): ``f(x) = Σ w_i sign(x + b_i)`` "can approximate any smooth
1D function to arbitrary precision, provided enough hidden units"; the universal
approximation theorem (Cybenko 1989) guarantees ``sup |f − F| < ε`` for
``F(x) = Σ v_i σ(w_i x + b_i)``. Seed 002 ("Universal approximation") builds the
approximation as a sum of steps and adds: "A better approximation requires a larger
hidden layer (larger K), and this theorem says nothing about the relation between the
two."

For three continuous functions on [0, 1] and widths ``K = 1 ... 64`` we build
one-hidden-layer numnet networks ``x ↦ Linear(K → 1)(φ(Linear(1 → K) x))`` three ways
and measure the max error on 2,001 points:

* **sign staircase** (constructive, seed 004): unit ``k`` switches at the midpoint
  ``b_k`` between grid points ``t_{k−1}, t_k = k/K`` and adds the jump
  ``f(t_k) − f(t_{k−1})``, so ``|f − F| ≤ ω_f(1/(2K))`` (modulus of continuity);
* **sigmoid staircase**: the same with ``σ(20K (x − b_k))`` instead of a step;
* **sigmoid, trained**: hidden units initialised as the smooth staircase
  (``σ(4K(x − b_k))``), output layer by least squares, then all ``3K + 1``
  parameters by L-BFGS on the mean squared error at 256 points.
"""

from __future__ import annotations

import numpy as np

from numnet.experiments._common import output_dir, write_json

NAME = "universal-approximation"
DESCRIPTION = "max error vs width K of one hidden layer of sign / sigmoid units on [0, 1]"

FUNCTIONS = {
    "sin(2πx)": lambda x: np.sin(2 * np.pi * x),
    "|x − 1/3|": lambda x: np.abs(x - 1 / 3),
    "two bumps": lambda x: (
        np.exp(-((x - 0.3) ** 2) / 0.005) + 0.5 * np.exp(-((x - 0.7) ** 2) / 0.02)
    ),
}
WIDTHS = (1, 2, 4, 8, 16, 32, 64)
STEEPNESS = 20.0


def _one_hidden(K: int, activation: str):
    from numnet import nn

    act = nn.Sign() if activation == "sign" else nn.Sigmoid()
    return nn.Sequential(
        nn.Linear(1, K, dtype=np.float64, generator=0),
        act,
        nn.Linear(K, 1, dtype=np.float64, generator=0),
    )


def staircase_network(f, K: int, activation: str = "sign", steepness: float = STEEPNESS):
    """The constructive approximation of ``f`` on [0, 1] by ``K`` step-like units.

    Math: ``F(x) = f(t_0) + Σ_k (f(t_k) − f(t_{k−1})) H(x − b_k)`` with ``t_k = k/K`` and
    ``b_k = (t_{k−1} + t_k)/2``. For sign units ``H = (1 + sign)/2``, so the output
    weights are the half-jumps; for sigmoid units ``H ≈ σ(sK(x − b_k))``.
    """
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    t = np.linspace(0.0, 1.0, K + 1)
    values = f(t)
    jumps = np.diff(values)
    b = (t[:-1] + t[1:]) / 2
    net = _one_hidden(K, activation)
    slope = 1.0 if activation == "sign" else steepness * K
    net[0].weight.data[:, 0] = slope
    net[0].bias.data[:] = -slope * b
    if activation == "sign":  # H = (1 + sign)/2
        net[2].weight.data[0] = jumps / 2
        net[2].bias.data[0] = values[0] + jumps.sum() / 2
    else:
        net[2].weight.data[0] = jumps
        net[2].bias.data[0] = values[0]
    return net


def start_breakpoints(K: int, seed: int = 0) -> np.ndarray:
    """Where the trained network's ``K`` sigmoids start: seed 0 at the midpoints
    ``(k + 1/2)/K`` of the steps, another seed at one uniform point in each step."""
    offset = 0.5 if seed == 0 else np.random.default_rng(seed).uniform(0.0, 1.0, K)
    return (np.arange(K) + offset) / K


def trained_network(f, K: int, *, n_points: int = 256, max_iter: int = 2000, seed: int = 0):
    """A sigmoid network fitted to ``f`` (least-squares output layer, then L-BFGS on all),
    starting from the smooth staircase with breakpoints :func:`start_breakpoints`."""
    import numnet.nn.functional as F
    from numnet import optim
    from numnet.tensor import Tensor

    x = np.linspace(0.0, 1.0, n_points)[:, None]
    target = f(x)
    net = _one_hidden(K, "sigmoid")
    slope, b = 4.0 * K, start_breakpoints(K, seed)
    net[0].weight.data[:, 0] = slope
    net[0].bias.data[:] = -slope * b
    H = 1 / (1 + np.exp(-slope * (x - b)))
    coef = np.linalg.lstsq(np.hstack([H, np.ones_like(x)]), target, rcond=None)[0]
    net[2].weight.data[:] = coef[:-1].T
    net[2].bias.data[:] = coef[-1]
    X, Y = Tensor(x, dtype=np.float64), Tensor(target, dtype=np.float64)
    opt = optim.LBFGS(
        net.parameters(),
        max_iter=max_iter,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = F.mse_loss(net(X), Y)
        loss.backward()
        return loss

    opt.step(closure)
    return net


def _evaluate(net, x: np.ndarray) -> np.ndarray:
    from numnet.autograd import no_grad
    from numnet.tensor import Tensor

    with no_grad():
        return net(Tensor(x[:, None], dtype=np.float64)).data[:, 0]


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, seeds: int = 1,
        workers: int | None = None, scheduler: str | None = None,
        widths: tuple[int, ...] | None = None, verbose: int = 1) -> dict:
    """Max error vs K for the three constructions; fits and error curves as PNGs.

    ``seed`` moves the trained network's starting breakpoints (seed 0: the steps'
    midpoints); ``seeds``, ``workers`` or ``scheduler`` run each width for seeds ``seed,
    ..., seed + seeds - 1`` as a grid (:func:`run_grid`); ``widths`` overrides the mode's."""
    from numnet.experiments._protocol import wants_grid

    out = output_dir(out_dir)
    widths = widths or ((2, 8) if quick else WIDTHS)
    max_iter = 50 if quick else 2000
    if wants_grid(seeds, workers, scheduler):
        return run_grid(out, seed=seed, seeds=seeds, widths=widths, max_iter=max_iter,
                        workers=workers, scheduler=scheduler, verbose=verbose)
    show_K = widths if quick else (4, 32)
    x = np.linspace(0.0, 1.0, 2001)
    errors, shown = compute(x, widths, show_K, max_iter=max_iter, seed=seed)
    write_json(
        out / "results.json",
        {
            "widths": list(widths),
            "max_error_on_2001_points": errors,
            "steepness_of_sigmoid_staircase": f"{STEEPNESS}·K",
            "seed_claim": SEED_CLAIM,
        },
    )
    _plot_fits(x, errors, shown, show_K, out / "fits.png")
    _plot_errors(errors, widths, out / "max_error_vs_width.png")
    summary = {"widths": list(widths)}
    for fname, errs in errors.items():
        for method, values in errs.items():
            summary[f"{fname} / {method}"] = [round(v, 5) for v in values]
    return summary


SEED_CLAIM = "sup|f − F| → 0 as K grows; the theorem does not say how fast"
METHODS = ("sign staircase", "sigmoid staircase", "sigmoid, trained")


def width_errors(f, K: int, x, *, max_iter: int, seed: int = 0) -> tuple[dict, dict]:
    """``{construction: max |f − F| on x}`` and ``{construction: F(x)}`` for width ``K``."""
    nets = {
        "sign staircase": staircase_network(f, K, "sign"),
        "sigmoid staircase": staircase_network(f, K, "sigmoid"),
        "sigmoid, trained": trained_network(f, K, max_iter=max_iter, seed=seed),
    }
    values = {method: _evaluate(net, x) for method, net in nets.items()}
    return {m: float(np.abs(v - f(x)).max()) for m, v in values.items()}, values


def compute(x, widths, show_K, *, max_iter: int, seed: int = 0) -> tuple[dict, dict]:
    """``max |f − F|`` on ``x`` per function, construction and width, and the fitted
    values ``{(function, K, construction): F(x)}`` for the widths in ``show_K``."""
    errors: dict = {}
    shown: dict = {}
    for fname, f in FUNCTIONS.items():
        errors[fname] = {m: [] for m in METHODS}
        for K in widths:
            errs, values = width_errors(f, K, x, max_iter=max_iter, seed=seed)
            for method in METHODS:
                errors[fname][method].append(errs[method])
                if K in show_K:
                    shown[(fname, K, method)] = values[method]
        print(
            f"{fname}: "
            + "; ".join(
                f"{m} " + " ".join(f"{e:.2g}" for e in v) for m, v in errors[fname].items()
            ),
            flush=True,
        )
    return errors, shown


def _plot_fits(x, errors, shown, show_K, path) -> None:
    from numnet.viz import plot_function_fits

    panels = [
        {
            "x": x,
            "target": f(x),
            "title": f"{fname}, K = {K}",
            "fits": {m: shown[(fname, K, m)] for m in errors[fname]},
        }
        for fname, f in FUNCTIONS.items()
        for K in show_K
    ]
    plot_function_fits(panels, path, ncols=len(show_K))


def _plot_errors(errors, widths, path, spread=None) -> None:
    """Max error vs K per function; ``spread`` (like ``errors``: standard deviations over
    seeds, ``errors`` holding the means) draws them as error bars."""
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, len(FUNCTIONS), size=(4.6 * len(FUNCTIONS), 3.8))
    for ax, (fname, errs) in zip(axes[0], errors.items()):
        for method, values in errs.items():
            if spread is None:
                ax.plot(widths, values, "o-", ms=4, label=method)
            else:
                ax.errorbar(widths, values, yerr=spread[fname][method], fmt="o-", ms=4,
                            capsize=3, label=f"{method} (mean ± std)")
        ax.plot(
            widths, [errs["sign staircase"][0] / K for K in widths], ":", color="0.5", label="∝ 1/K"
        )
        ax.set(xscale="log", yscale="log", xlabel="hidden units K",
               ylabel="max |f(x) − F(x)| on [0, 1]", title=fname)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


# -- several seeds per width: numnet reproduce universal-approximation --seeds K ---------


def grid_task(settings: dict) -> dict:
    """One width for one seed: ``{"max_error": {function: {construction: error}}}``."""
    s = settings
    x = np.linspace(0.0, 1.0, s["points"])
    return {"max_error": {
        fname: width_errors(f, s["K"], x, max_iter=s["max_iter"], seed=s["seed"])[0]
        for fname, f in FUNCTIONS.items()
    }}


def _grid_markdown(widths, summaries, seeds, result) -> str:
    from numnet.experiments import _table_grid as tg

    lines = ["| function | method | " + " | ".join(f"K = {K}" for K in widths) + " |",
             "|---|---|" + "---|" * len(widths)]
    for fname in FUNCTIONS:
        for i, method in enumerate(METHODS):
            text = tg.cell_text if method == "sigmoid, trained" else tg.mean_std  # std 0
            texts = [text(summaries[(fname, method)][f"K={K}"], ".2g") for K in widths]
            label = fname.replace("|", "\\|") if i == 0 else ""
            lines.append(f"| {label} | {method} | " + " | ".join(texts) + " |")
    lines += tg.table_note(
        seeds, result, "max |f − F| on 2,001 points of [0, 1], mean ± sample "
        "standard deviation over the seeds; best: the seed with the lowest error. A seed "
        "moves the trained network's starting breakpoints (seed 0: the steps' midpoints); "
        "the staircases do not depend on it. The seeds give no numbers, only the claim: "
        f"{SEED_CLAIM} (the sign staircase's error is at most the variation of f over half "
        "a step, ∝ 1/K).",
    )
    return "\n".join(lines) + "\n"


def run_grid(out, *, seed, seeds, widths, max_iter, workers, scheduler, verbose) -> dict:
    """Each width for ``seeds`` seeds from ``seed``; writes results.md/.json/.csv (mean ±
    std per function, construction and width) and max_error_vs_width.png (error bars);
    finished tasks are kept in ``out/grid/``."""
    from numnet.experiments import _table_grid as tg

    seed_list = tg.seed_range(seed, seeds)
    settings = {f"K={K}": {"experiment": NAME, "K": K, "max_iter": max_iter, "points": 2001,
                           "steepness": STEEPNESS} for K in widths}
    result = tg.run_tasks(grid_task, tg.tasks_by_seed(settings, seed_list), out, desc=NAME,
                          workers=workers, scheduler=scheduler, context={}, verbose=verbose)
    summaries = {(f, m): result.summary(lambda r, f=f, m=m: r["max_error"][f][m])
                 for f in FUNCTIONS for m in METHODS}
    cells = [
        {"cell": cell, "K": settings[cell]["K"], "function": f, "method": m,
         "seeds": sorted(s.values), "n_seeds": s.n, "failed": s.failed,
         "max_error_mean": s.mean, "max_error_std": s.std, "best_seed": s.best_seed,
         "best_seed_max_error": s.best}
        for (f, m), by_cell in summaries.items() for cell, s in by_cell.items()
    ]
    mean = {f: {m: [s.mean if (s := summaries[(f, m)][f"K={K}"]).n else np.nan
                    for K in widths] for m in METHODS} for f in FUNCTIONS}
    std = {f: {m: [summaries[(f, m)][f"K={K}"].std or 0.0 for K in widths] for m in METHODS}
           for f in FUNCTIONS}
    summary = tg.write_results(
        out, result, seed_list, cells=cells, task_row=lambda r: r["max_error"],
        markdown=_grid_markdown(widths, summaries, seed_list, result),
        figures={"max_error_vs_width.png": lambda p: _plot_errors(mean, widths, p, std)},
    )
    summary["cells"] = len(settings)
    return summary

"""Very deep networks with and without skip connections (seed 001, residual blocks).

Seed 001: "back-propagation results in very small values (numerically zeros) for the
gradient of the initial layers for networks that employ traditional sigmoid or
hyperbolic tangent non linearities", and "residual blocks allow for effective training
of network with hundreds of layers". This experiment trains, on a fixed MNIST subset,

* a *plain* network ``Linear(784, w) → [tanh → Linear(w, w)] × depth → tanh → Linear(w, 10)``
* the *residual* network with the same blocks, parameters and initial weights, each
  block wrapped as ``x ↦ x + F(x)`` (``nn.Residual``; the "pre-activation" block of He
  et al., 2016, *Identity mappings in deep residual networks*),

for depths 10, 30 and 100, and records the training loss at every step, the test
error, and the gradient norm of every layer at initialisation. The plain network's
gradient shrinks by a roughly constant factor per layer (``|tanh'| ≤ 1`` times weights of
norm < 1) until it is numerically zero at the first layers, and training stalls at
``log 10 ≈ 2.30``; the identity path of the residual network carries the adjoint to
every layer (``δx_l = δx_{l+1} + J_Fᵀ δx_{l+1}``) and all depths train.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

NAME = "residual-depth"
DESCRIPTION = (
    "plain vs residual deep tanh networks (10/30/100 layers): plain stalls, residual trains"
)

DEPTHS = (10, 30, 100)
WIDTH = 64
EPOCHS = 5
LR = 0.05
BATCH = 128
N_TRAIN, N_TEST = 6000, 2000


def deep_net(depth: int, residual: bool, *, width: int = WIDTH, seed: int = 0):
    """``depth`` blocks ``tanh → Linear(width, width)``, with or without skip connections."""
    from numnet import nn

    rng = np.random.default_rng(seed)
    layers = [nn.Linear(784, width, generator=rng)]
    for _ in range(depth):
        block = nn.Sequential(nn.Tanh(), nn.Linear(width, width, generator=rng))
        layers.append(nn.Residual(block) if residual else block)
    layers += [nn.Tanh(), nn.Linear(width, 10, generator=rng)]
    return nn.Sequential(*layers)


def _hidden_linears(model) -> list:
    """The Linear layers of the blocks, input side first."""
    from numnet import nn

    return [m for m in model.modules() if isinstance(m, nn.Linear)][1:-1]


def train_one(depth, residual, data, *, epochs, seed):
    import numnet
    import numnet.nn.functional as F
    from numnet import optim

    X, y, Xt, yt = data
    model = deep_net(depth, residual, seed=seed)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    rng = np.random.default_rng(seed)
    losses, grad_norms = [], None
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start : start + BATCH]
            opt.zero_grad()
            loss = F.cross_entropy(model(numnet.Tensor(X[idx])), numnet.Tensor(y[idx]))
            loss.backward()
            if grad_norms is None:  # at initialisation, first batch
                grad_norms = [float(np.linalg.norm(m.weight.grad)) for m in _hidden_linears(model)]
            opt.step()
            losses.append(float(loss.item()))
    seconds = time.perf_counter() - t0
    with numnet.no_grad():
        model.eval()
        test_error = float(np.mean(model(numnet.Tensor(Xt)).data.argmax(1) != yt))
    row = {
        "depth": depth,
        "skip": residual,
        "grad_norm_first_block": grad_norms[0],
        "grad_norm_last_block": grad_norms[-1],
        "loss_first_10_steps": float(np.mean(losses[:10])),
        "loss_last_10_steps": float(np.mean(losses[-10:])),
        "test_error": 100 * test_error,
        "seconds": round(seconds, 1),
    }
    return row, losses, grad_norms


def _data(data_dir, quick: bool, seed: int):
    from numnet.data import load_mnist

    X, y, Xt, yt = load_mnist(data_dir, flatten=True, verify=not quick)  # quick: any IDX data
    n_train, n_test = (1000, 500) if quick else (N_TRAIN, N_TEST)
    keep = np.random.default_rng(seed).permutation(len(X))[:n_train]
    return X[keep], y[keep], Xt[:n_test], yt[:n_test]


def _markdown(rows, quick) -> str:
    lines = [
        "| depth | skip connections | ‖∇W‖ first block (init) | ‖∇W‖ last block (init) "
        "| loss, first 10 steps | loss, last 10 steps | test error |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['depth']} | {'residual' if r['skip'] else 'plain'} | "
            f"{r['grad_norm_first_block']:.2e} | {r['grad_norm_last_block']:.2e} | "
            f"{r['loss_first_10_steps']:.3f} | {r['loss_last_10_steps']:.3f} | "
            f"{r['test_error']:.1f}% |"
        )
    return "\n".join(lines) + "\n" + _note(quick)


def _note(quick: bool) -> str:
    note = (
        f"\nTask: MNIST, {N_TRAIN} training images, {N_TEST} test images; width {WIDTH}, "
        f"tanh, SGD momentum 0.9, lr {LR}, batch {BATCH}, {EPOCHS} epochs. "
        "Chance level: loss log 10 = 2.303, error 90 %.\n"
    )
    if quick:
        note += "\n_quick mode: 1,000 training images, shallower nets, 2 epochs._\n"
    return note


def _loss_panels(axes, depths, curves: dict) -> None:
    """Training loss by step, plain vs residual, one panel per depth. ``curves[(depth,
    skip)]`` holds one loss curve per seed: one seed is a line, several their mean ± std
    (error bars)."""
    for j, depth in enumerate(depths):
        ax = axes[0, j]
        for skip, color in ((False, "tab:red"), (True, "tab:blue")):
            if (depth, skip) not in curves:  # a failed cell of a grid
                continue
            loss = np.atleast_2d(np.asarray(curves[(depth, skip)], dtype=float))
            if loss.shape[1] > 5:
                loss = np.stack([np.convolve(c, np.ones(5) / 5, mode="valid") for c in loss])
            label = "residual" if skip else "plain"
            if len(loss) == 1:
                ax.plot(loss[0], color=color, label=label)
            else:
                ax.errorbar(np.arange(loss.shape[1]), loss.mean(0), yerr=loss.std(0, ddof=1),
                            errorevery=max(1, loss.shape[1] // 15), capsize=2, color=color,
                            label=f"{label} (n={len(loss)})")
        ax.axhline(np.log(10), color="gray", ls=":", lw=1)
        ax.set_title(f"{depth} hidden blocks", fontsize=9)
        ax.set_xlabel("step")
        if j == 0:
            ax.set_ylabel("training loss")
            ax.legend(fontsize=7)


def _plot(rows, curves, norms, depths, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, len(depths) + 1, size=(4.2 * (len(depths) + 1), 3.6))
    _loss_panels(axes, depths, {cell: [c] for cell, c in curves.items()})
    ax = axes[0, -1]
    for depth in depths:
        for skip, ls in ((False, "--"), (True, "-")):
            ax.semilogy(
                np.maximum(norms[(depth, skip)], 1e-300),
                ls=ls,
                label=f"{depth}, {'residual' if skip else 'plain'}",
            )
    ax.set_ylim(1e-30, 1e3)
    ax.set_xlabel("block (input side first)")
    ax.set_ylabel("‖∇W‖ at initialisation")
    ax.set_title("gradient norm per layer", fontsize=9)
    ax.legend(fontsize=6)
    save_figure(fig, path)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, verbose: int = 1,
        seeds: int = 1, workers: int | None = None, scheduler: str | None = None,
        depths: tuple[int, ...] | None = None, epochs: int | None = None) -> dict:
    """Train the six networks and write results.md/.csv/.json and residual_depth.png.

    ``seeds``, ``workers`` or ``scheduler`` run the cells (depth × plain/residual) for
    seeds ``seed, ..., seed + seeds - 1`` as a grid (:func:`run_grid`); ``depths`` and
    ``epochs`` override the mode's (tests use tiny ones)."""
    import csv
    import io

    from numnet._files import atomic_write_bytes
    from numnet.experiments._protocol import wants_grid

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    depths = depths or ((5, 20) if quick else DEPTHS)
    epochs = epochs or (2 if quick else EPOCHS)
    if wants_grid(seeds, workers, scheduler):
        return run_grid(out, quick=quick, data_dir=data_dir, seed=seed, seeds=seeds,
                        depths=depths, epochs=epochs, workers=workers, scheduler=scheduler,
                        verbose=verbose)
    data = _data(data_dir, quick, seed)
    rows, curves, norms = [], {}, {}
    for depth in depths:
        for skip in (False, True):
            row, losses, grad_norms = train_one(depth, skip, data, epochs=epochs, seed=seed)
            rows.append(row)
            curves[(depth, skip)], norms[(depth, skip)] = losses, grad_norms
            if verbose:
                print(
                    f"depth {depth:3d} {'residual' if skip else 'plain   '}: loss "
                    f"{row['loss_first_10_steps']:.3f} -> {row['loss_last_10_steps']:.3f}, "
                    f"test error {row['test_error']:.1f}%, ‖∇W_1‖ "
                    f"{row['grad_norm_first_block']:.1e} ({row['seconds']} s)",
                    flush=True,
                )
    atomic_write_bytes(out / "results.md", _markdown(rows, quick).encode())
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_bytes(out / "results.csv", buf.getvalue().encode())
    losses = {f"{d}-{'residual' if s else 'plain'}": c for (d, s), c in curves.items()}
    atomic_write_bytes(out / "results.json", json.dumps({"rows": rows, "losses": losses}).encode())
    try:
        _plot(rows, curves, norms, depths, out / "residual_depth.png")
    except ImportError:
        pass
    deepest = max(depths)
    by = {(r["depth"], r["skip"]): r for r in rows}
    return {
        "table": str(out / "results.md"),
        "plain_stalls_at_depth": [d for d in depths if by[(d, False)]["loss_last_10_steps"] > 2.0],
        f"residual_test_error_depth_{deepest}": round(by[(deepest, True)]["test_error"], 1),
        f"plain_test_error_depth_{deepest}": round(by[(deepest, False)]["test_error"], 1),
    }


# -- several seeds per cell: numnet reproduce residual-depth --seeds K [--workers N] ------

# seed 001 gives no numbers here, only what to expect of each kind of network
SEED_CLAIM = {
    False: "first layers' gradient numerically zero; does not train",
    True: "trains, even with hundreds of layers",
}
# the table's columns: (row key, header, format)
COLUMNS = (
    ("grad_norm_first_block", "‖∇W‖ first block (init)", ".2e"),
    ("grad_norm_last_block", "‖∇W‖ last block (init)", ".2e"),
    ("loss_first_10_steps", "loss, first 10 steps", ".3f"),
    ("loss_last_10_steps", "loss, last 10 steps", ".3f"),
)


def _cell_name(depth: int, skip: bool) -> str:
    return f"depth {depth} / {'residual' if skip else 'plain'}"


def grid_task(settings: dict, *, data_dir=None) -> dict:
    """One cell (a depth, plain or residual) for one seed: ``{"row", "losses",
    "grad_norms"}``, what the one-seed run with ``--seed`` = the task's seed computes."""
    from numnet.experiments._table_grid import cached_data

    s = settings
    data = cached_data(__name__, data_dir, s["quick"], s["seed"])
    row, losses, grad_norms = train_one(s["depth"], s["skip"], data, epochs=s["epochs"],
                                        seed=s["seed"])
    row["seed"] = s["seed"]
    return {"row": row, "losses": losses, "grad_norms": grad_norms}


def _grid_markdown(depths, summaries, test, seeds, result, quick) -> str:
    from numnet.experiments import _table_grid as tg

    lines = [
        "| depth | skip connections | " + " | ".join(h for _, h, _ in COLUMNS)
        + " | test error | seed 001 |",
        "|---|---|" + "---|" * (len(COLUMNS) + 2),
    ]
    for depth in depths:
        for skip in (False, True):
            cell = _cell_name(depth, skip)
            texts = [tg.mean_std(summaries[key][cell], spec) for key, _, spec in COLUMNS]
            lines.append(
                f"| {depth} | {'residual' if skip else 'plain'} | " + " | ".join(texts)
                + f" | {tg.cell_text(test[cell], '.1f', '%')} | {SEED_CLAIM[skip]} |"
            )
    lines += tg.table_note(
        seeds, result, "mean ± sample standard deviation over the seeds; "
        "best: the seed with the lowest test error. A seed draws the training subset, the "
        "initial weights and the shuffles. Seed 001 gives no numbers for this experiment, "
        "only the behaviour in its last column.",
    )
    return "\n".join(lines) + "\n" + _note(quick)


def _plot_grid(result, depths, test, path: Path) -> None:
    """Loss curves (mean ± std over seeds), log10 gradient norm per block (likewise) and
    the test error per cell (mean ± std, best seed)."""
    from numnet.experiments import grid
    from numnet.viz import new_figure, save_figure

    by_cell = result.by_cell()
    runs = {(d, k): [t.metrics for t in by_cell[_cell_name(d, k)] if t.ok]
            for d in depths for k in (False, True)}
    fig, axes = new_figure(1, len(depths) + 2, size=(4.2 * (len(depths) + 2), 3.8))
    _loss_panels(axes, depths, {c: [m["losses"] for m in ms] for c, ms in runs.items() if ms})
    ax = axes[0, -2]
    for (depth, skip), ms in runs.items():
        if ms:
            logs = np.log10(np.maximum([m["grad_norms"] for m in ms], 1e-300))
            std = logs.std(0, ddof=1) if len(ms) > 1 else None
            ax.errorbar(np.arange(logs.shape[1]), logs.mean(0), yerr=std, capsize=2,
                        ls="-" if skip else "--", label=_cell_name(depth, skip))
    ax.set(xlabel="block (input side first)", ylabel="log10 ‖∇W‖ at initialisation",
           title="gradient norm per layer")
    ax.legend(fontsize=6)
    grid.plot_error_bars(axes[0, -1], test, ylabel="test error (%)")
    fig.tight_layout()
    save_figure(fig, path)


def run_grid(out: Path, *, quick, data_dir, seed, seeds, depths, epochs, workers, scheduler,
             verbose) -> dict:
    """The cells for ``seeds`` seeds from ``seed``; writes results.md/.json/.csv (mean ±
    std per cell), residual_depth.png and test_error_bars.png; finished tasks are kept
    in ``out/grid/``."""
    from numnet.experiments import _table_grid as tg

    seed_list = tg.seed_range(seed, seeds)
    settings = {
        _cell_name(d, k): {"experiment": NAME, "depth": d, "skip": k, "epochs": epochs,
                           "quick": quick, "width": WIDTH, "lr": LR, "batch": BATCH}
        for d in depths for k in (False, True)
    }
    result = tg.run_tasks(
        grid_task, tg.tasks_by_seed(settings, seed_list), out, desc=NAME, workers=workers,
        scheduler=scheduler, verbose=verbose,
        context={"data_dir": None if data_dir is None else str(data_dir)},
    )
    summaries = {key: result.summary(lambda m, k=key: m["row"][k]) for key, _, _ in COLUMNS}
    test = result.summary(lambda m: m["row"]["test_error"])
    cells = [
        {"cell": c, "depth": settings[c]["depth"], "skip": settings[c]["skip"],
         "seeds": sorted(s.values), "n_seeds": s.n, "failed": s.failed,
         **{f"{k}_mean": summaries[k][c].mean for k, _, _ in COLUMNS},
         "test_error_mean": s.mean, "test_error_std": s.std, "best_seed": s.best_seed,
         "best_seed_test_error": s.best, "seed_claim": SEED_CLAIM[settings[c]["skip"]]}
        for c, s in test.items()
    ]
    summary = tg.write_results(
        out, result, seed_list, cells=cells, task_row=lambda m: m["row"],
        markdown=_grid_markdown(depths, summaries, test, seed_list, result, quick),
        figures={"residual_depth.png": lambda p: _plot_grid(result, depths, test, p)},
    )
    summary["plain_stalls_at_depth"] = [
        d for d in depths
        if (s := summaries["loss_last_10_steps"][_cell_name(d, False)]).n and s.mean > 2.0
    ]
    return summary

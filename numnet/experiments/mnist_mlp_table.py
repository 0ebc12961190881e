"""Seed 001's MNIST error table for MLPs: 3 architectures × {no reg., L2, dropout}.

Protocol (seed 001, footnote of the table): train on 90 % of the MNIST training set
(the *development* set), keep 10 % for *validation*; select the epoch with the lowest
validation error; report the test error of that model and, in brackets, the lowest
test error seen during training.

Training recipe (ours; the seed does not give one): SGD with momentum 0.9 (PyTorch
convention), batch 128, learning rate ``LR`` annealed to 0 by a cosine schedule over
``EPOCHS`` epochs, weights initialised as in ``torch.nn.Linear``. Dropout networks
learn more slowly, so their cells train for ``DROPOUT_EPOCHS`` epochs from
``DROPOUT_LR`` (``TANH_DROPOUT_EPOCHS`` for the tanh network, the slowest). L2 is the seed's
penalty ``λ/2 Σ‖W‖²`` (weights only, λ = 1e-5), i.e. ``weight_decay=λ``; dropout
``p = 0.5`` follows every hidden layer.

Each finished cell is saved in ``out_dir/cells/``; a rerun skips finished cells, so
an interrupted run resumes where it stopped.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from numnet.experiments import _protocol

NAME = "mnist-mlp-table"
DESCRIPTION = "seed 001's MNIST MLP error table (3 nets x no reg./L2/dropout)"

ARCHS = [
    ("MLP (Tanh) 512-512-512", "tanh", (512, 512, 512)),
    ("MLP (ReLU) 512-512-512", "relu", (512, 512, 512)),
    ("MLP (ReLU) 1024-1024-1024-1024", "relu", (1024, 1024, 1024, 1024)),
]
REGS = [("No Reg.", 0.0, 0.0), ("L2 (λ=1e-5)", 1e-5, 0.0), ("Dropout (p=0.5)", 0.0, 0.5)]
# seed 001: test error of the selected model [best test error seen], in %
SEED = {
    ("MLP (Tanh) 512-512-512", "No Reg."): (1.9, 1.8),
    ("MLP (Tanh) 512-512-512", "L2 (λ=1e-5)"): (2.0, 1.7),
    ("MLP (Tanh) 512-512-512", "Dropout (p=0.5)"): (1.5, 1.5),
    ("MLP (ReLU) 512-512-512", "No Reg."): (1.6, 1.5),
    ("MLP (ReLU) 512-512-512", "L2 (λ=1e-5)"): (1.7, 1.6),
    ("MLP (ReLU) 512-512-512", "Dropout (p=0.5)"): (1.7, 1.4),
    ("MLP (ReLU) 1024-1024-1024-1024", "No Reg."): (1.6, 1.5),
    ("MLP (ReLU) 1024-1024-1024-1024", "L2 (λ=1e-5)"): (1.6, 1.4),
    ("MLP (ReLU) 1024-1024-1024-1024", "Dropout (p=0.5)"): (1.4, 1.4),
}
EPOCHS = 30
LR = 0.05
DROPOUT_EPOCHS = 45
DROPOUT_LR = 0.05
TANH_DROPOUT_EPOCHS = 120


def recipe(dropout: float, quick: bool, epochs: int | None = None,
           activation: str = "relu") -> dict:
    """Epochs and learning rate of a cell (``epochs`` overrides)."""
    if quick:
        return {"epochs": epochs or 6, "lr": LR}
    if dropout > 0 and activation == "tanh":  # tanh + dropout under-fits for long
        return {"epochs": epochs or TANH_DROPOUT_EPOCHS, "lr": DROPOUT_LR}
    if dropout > 0:
        return {"epochs": epochs or DROPOUT_EPOCHS, "lr": DROPOUT_LR}
    return {"epochs": epochs or EPOCHS, "lr": LR}


BATCH = 128
QUICK_NOTE = (
    "\n_quick mode: 10,000 training images, 2,000 test images, few epochs; not "
    "comparable with the seed's numbers._\n"
)


def _data(data_dir, quick: bool, seed: int):
    subset = (10000, 2000) if quick else None  # quick: any IDX data (not verified)
    return _protocol.mnist_splits(
        data_dir, seed=seed, flatten=True, subset=subset, verify=not quick
    )


def run_cell(arch, activation, hidden, reg, l2, dropout, data, *, epochs, seed, lr=LR, verbose=0):
    """Train one cell; returns its row (errors in %) and its History."""
    from numnet import models, optim

    model = models.mlp(
        data[0].shape[1], hidden, 10, activation=activation, dropout=dropout, generator=seed
    )
    opt = optim.SGD(models.weight_decay_groups(model, l2), lr=lr, momentum=0.9)
    row, history = _protocol.train_cell(
        model, opt, data, epochs=epochs, seed=seed, batch_size=BATCH, verbose=verbose
    )
    seed_sel, seed_best = SEED.get((arch, reg), (None, None))
    row = {"architecture": arch, "regularization": reg, **row}
    row["seed_test_error"], row["seed_best_test_error"] = seed_sel, seed_best
    return row, history


def _markdown(rows: list[dict], quick: bool) -> str:
    by = {(r["architecture"], r["regularization"]): r for r in rows}
    lines = ["| | " + " | ".join(reg for reg, _, _ in REGS) + " |", "|---|" + "---|" * len(REGS)]
    for arch, _, _ in ARCHS:
        cells = [_protocol.table_cell(by.get((arch, reg)), SEED[(arch, reg)]) for reg, _, _ in REGS]
        lines.append(f"| {arch} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + (QUICK_NOTE if quick else "")


def _plot(histories: dict, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(len(ARCHS), len(REGS), size=(13, 9))
    for i, (arch, _, _) in enumerate(ARCHS):
        for j, (reg, _, _) in enumerate(REGS):
            ax = axes[i, j]
            h = histories.get((arch, reg))
            if h is None:
                ax.set_axis_off()
                continue
            _protocol.plot_errors(ax, h)
            ax.set_ylim(0, 5)
            ax.set_title(f"{arch}\n{reg}", fontsize=9)
            _protocol.label_panel(ax, i, j, len(ARCHS) - 1)
    fig.tight_layout()
    save_figure(fig, path)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, epochs: int | None = None,
        cells: list[tuple[str, str]] | None = None, verbose: int = 2, seeds: int = 1,
        workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the table (or the listed ``cells``) and write results.md/.csv/.json and a PNG.

    The written table holds every cell finished in ``out_dir`` (by this run or an
    earlier one with the same mode and recipe), so it can be filled a cell at a time."""
    options = dict(quick=quick, data_dir=data_dir, seed=seed, epochs=epochs, cells=cells,
                   verbose=verbose)
    if _protocol.wants_grid(seeds, workers, scheduler):
        from numnet.experiments import _table_grid

        return _table_grid.run_mlp_grid(
            out_dir, seeds=seeds, workers=workers, scheduler=scheduler, **options
        )
    out = Path(out_dir)
    data = _data(data_dir, quick, seed)  # first: a missing data set leaves no folder behind
    (out / "cells").mkdir(parents=True, exist_ok=True)
    rows, histories, reused = [], {}, 0
    # dropout cells last: they take longest
    order = sorted(((a, r) for a in ARCHS for r in REGS), key=lambda ar: ar[1][2] > 0)
    for (arch, act, hidden), (reg, l2, p) in order:
        if quick:
            hidden = tuple(min(h, 256) for h in hidden)
        done = _protocol.cell_path(out, arch, reg)
        plan = recipe(p, quick, epochs, act)
        # a cell run with another recipe is run again (rows saved without one used LR)
        cached = _protocol.load_cached_cell(done, plan, quick, assumed={"lr": LR})
        if cached is not None:  # finished earlier: in the table, selected or not
            rows.append(cached[0])
            histories[(arch, reg)] = cached[1]
            reused += 1
            continue
        if cells is not None and (arch, reg) not in cells:
            continue
        if verbose:
            print(f"== {arch}, {reg}", flush=True)
        row, hist = run_cell(
            arch, act, hidden, reg, l2, p, data, seed=seed, verbose=verbose, **plan
        )
        row["quick"], row["recipe"] = quick, plan
        if verbose:
            print(_protocol.summary_line(row), flush=True)
        _protocol.save_cell(done, row, hist)
        rows.append(row)
        histories[(arch, reg)] = hist.history
    _protocol.write_outputs(out, rows, _markdown(rows, quick), partial(_plot, histories))
    _protocol.say_reused(reused, out, verbose)
    return {
        "cells": len(rows),
        "trained": len(rows) - reused,
        "reused": reused,
        "table": str(out / "results.md"),
        "total_seconds": round(sum(r["seconds"] for r in rows), 1),
        "within_0.3_points": sum(r["test_error"] <= r["seed_test_error"] + 0.3 for r in rows),
    }

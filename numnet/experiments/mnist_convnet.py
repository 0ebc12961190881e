"""Seed 001's ConvNet row of the MNIST error table: no reg. / L2 (λ = 1e-5) / dropout (0.5).

Protocol (seed 001, as the MLP table): train on 90 % of the MNIST training set (the
*development* set), keep 10 % for *validation*; select the epoch with the lowest
validation error; report the test error of that model and, in brackets, the lowest
test error seen during training. The seed reports 1.1 % [1.0 %], 1.1 % [1.0 %] and
0.9 % [0.8 %].

Architecture (ours; the seed does not give one), in the seeds' spirit: seed 001's
cross-correlation layer with filter width l = 2 and max-pooling k = 2, twice::

    conv 5×5, 1→32 → ReLU → max-pool 2 → conv 5×5, 32→64 → ReLU → max-pool 2
    → fully connected 1024→512 → ReLU → [dropout p] → 512→10 → softmax

with "valid" convolutions (28 → 24 → 12 → 8 → 4, so 64·4·4 = 1024 features): about
a third of the cost of the 'same'-padded 3136→1024 benchmark net, so a cell stays well
under 30 minutes on two cores, while keeping both convolutional stages of the seeds'
picture. Dropout follows the fully connected hidden layer only (convolutional
feature maps are not dropped).

Training recipe (as the MLP table): SGD with momentum 0.9 (PyTorch convention),
batch 128, learning rate 0.05 annealed to 0 by a cosine schedule over ``EPOCHS``
epochs, PyTorch's default initialisation. L2 is the seed's ``λ/2 Σ‖W‖²`` on weights
only (``weight_decay=λ``).

Each finished cell is saved in ``out_dir/cells/``; a cell in progress checkpoints
after every epoch, so an interrupted run resumes where it stopped (bit for bit).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from numnet.experiments import _protocol

NAME = "mnist-convnet"
DESCRIPTION = "seed 001's MNIST ConvNet row (no reg./L2/dropout), selected on validation"

ARCH = "ConvNet (ReLU)"
REGS = [("No Reg.", 0.0, 0.0), ("L2 (λ=1e-5)", 1e-5, 0.0), ("Dropout (p=0.5)", 0.0, 0.5)]
SEED = {"No Reg.": (1.1, 1.0), "L2 (λ=1e-5)": (1.1, 1.0), "Dropout (p=0.5)": (0.9, 0.8)}
TOLERANCE = 0.2  # the target: every cell within +0.2 points of the seed
EPOCHS = 20
LR = 0.05
BATCH = 128
CHANNELS, KERNEL, HIDDEN, PADDING = (32, 64), 5, 512, "valid"
QUICK_NOTE = (
    "\n_quick mode: 2,700 development images, 1,000 test images, a small net and 2 "
    "epochs; not comparable with the seed's numbers._\n"
)


def _data(data_dir, quick: bool, seed: int):
    subset = (3000, 1000) if quick else None
    return _protocol.mnist_splits(data_dir, seed=seed, flatten=False, subset=subset)


def build_model(dropout: float, seed: int, quick: bool = False):
    from numnet import models

    channels, hidden = ((8, 16), 64) if quick else (CHANNELS, HIDDEN)
    return models.convnet(1, 10, channels=channels, kernel_size=KERNEL, hidden=hidden,
                          padding=PADDING, dropout=dropout, generator=seed)


def run_cell(reg, l2, dropout, data, *, epochs, seed, quick=False, checkpoint=None, verbose=0):
    """Train one cell; returns its row (errors in %) and its History."""
    from numnet import models, optim

    model = build_model(dropout, seed, quick)
    opt = optim.SGD(models.weight_decay_groups(model, l2), lr=LR, momentum=0.9)
    row, history = _protocol.train_cell(
        model, opt, data, epochs=epochs, seed=seed, batch_size=BATCH, checkpoint=checkpoint,
        verbose=verbose, eval_batch_size=500,
    )
    row = {"architecture": ARCH, "regularization": reg, **row}
    # the median epoch: a resumed cell's "seconds" count only the epochs run since then
    row["seconds_per_epoch"] = round(float(np.median([r["time"] for r in history.epochs])), 2)
    row["parameters"] = model.num_parameters()
    row["seed_test_error"], row["seed_best_test_error"] = SEED[reg]
    return row, history


def _markdown(rows: list[dict], quick: bool) -> str:
    by = {r["regularization"]: r for r in rows}
    lines = ["| | " + " | ".join(reg for reg, _, _ in REGS) + " |", "|---|" + "---|" * len(REGS)]
    cells = [_protocol.table_cell(by.get(reg), SEED[reg]) for reg, _, _ in REGS]
    lines.append(f"| {ARCH} | " + " | ".join(cells) + " |")
    timing = [
        f"{r['regularization']}: {r['seconds_per_epoch']} s/epoch, {r['epochs']} epochs, "
        f"selected epoch {r['selected_epoch']}"
        for r in rows
    ]
    arch = (
        f"\nArchitecture: conv {KERNEL}x{KERNEL} 1→{CHANNELS[0]} ({PADDING}) → ReLU → "
        f"max-pool 2 → conv {KERNEL}x{KERNEL} {CHANNELS[0]}→{CHANNELS[1]} → ReLU → "
        f"max-pool 2 → fc →{HIDDEN} → ReLU → [dropout] → fc →10. SGD momentum 0.9, "
        f"batch {BATCH}, lr {LR} cosine-annealed.\n\nWall time: " + "; ".join(timing) + "\n"
    )
    return "\n".join(lines) + "\n" + arch + (QUICK_NOTE if quick else "")


def _plot(histories: dict, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, len(REGS), size=(13, 3.6))
    for j, (reg, _, _) in enumerate(REGS):
        ax = axes[0, j]
        h = histories.get(reg)
        if h is None:
            ax.set_axis_off()
            continue
        _protocol.plot_errors(ax, h)
        ax.axhline(SEED[reg][0], color="gray", ls=":", lw=1, label="seed (test)")
        ax.set_ylim(0, 3)
        ax.set_title(f"{ARCH}, {reg}", fontsize=9)
        _protocol.label_panel(ax, 0, j, 0)
    save_figure(fig, path)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, epochs: int | None = None,
        cells: list[str] | None = None, verbose: int = 2, seeds: int = 1,
        workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run the row (or the listed ``cells``, by regularization name) and write
    results.md/.csv/.json and learning_curves.png, holding every cell finished in
    ``out_dir`` (by this run or an earlier one with the same mode and epochs)."""
    options = dict(quick=quick, data_dir=data_dir, seed=seed, epochs=epochs, cells=cells,
                   verbose=verbose)
    if _protocol.wants_grid(seeds, workers, scheduler):
        from numnet.experiments import _table_grid

        return _table_grid.run_convnet_grid(
            out_dir, seeds=seeds, workers=workers, scheduler=scheduler, **options
        )
    out = Path(out_dir)
    data = _data(data_dir, quick, seed)  # first: a missing data set leaves no folder behind
    (out / "cells").mkdir(parents=True, exist_ok=True)
    epochs = epochs or (2 if quick else EPOCHS)
    rows, histories, reused = _run_cells(out, data, epochs=epochs, quick=quick,
                                         cells=cells, seed=seed, verbose=verbose)
    _protocol.write_outputs(out, rows, _markdown(rows, quick), partial(_plot, histories))
    _protocol.say_reused(reused, out, verbose)
    within = [r for r in rows if r["test_error"] <= r["seed_test_error"] + TOLERANCE]
    return {
        "cells": len(rows),
        "trained": len(rows) - reused,
        "reused": reused,
        "table": str(out / "results.md"),
        "total_seconds": round(sum(r["seconds"] for r in rows), 1),
        "seconds_per_epoch": {r["regularization"]: r["seconds_per_epoch"] for r in rows},
        "test_error": {r["regularization"]: round(r["test_error"], 2) for r in rows},
        f"within_{TOLERANCE}_points": len(within),
    }


def _run_cells(out: Path, data, *, epochs, quick, cells, seed, verbose):
    """Each cell finished earlier (in this mode, for these epochs) is read back; the
    others listed in ``cells`` (all when None) are trained, checkpointed every epoch and
    saved. Returns the rows, the History columns by regularization and how many cells
    were read back."""
    rows, histories, reused = [], {}, 0
    for reg, l2, p in REGS:
        done = _protocol.cell_path(out, reg)
        cached = _protocol.load_cached_cell(done, {"epochs": epochs}, quick)
        if cached is not None:  # finished earlier: in the table, selected or not
            rows.append(cached[0])
            histories[reg] = cached[1]
            reused += 1
            continue
        if cells is not None and reg not in cells:
            continue
        if verbose:
            print(f"== {ARCH}, {reg}", flush=True)
        ckpt = done.with_name(f"{done.stem}{'-quick' if quick else ''}-e{epochs}.ckpt")
        row, hist = run_cell(reg, l2, p, data, epochs=epochs, seed=seed, quick=quick,
                             checkpoint=ckpt, verbose=verbose)
        row["quick"] = quick
        if verbose:
            print(_protocol.summary_line(row), flush=True)
        _protocol.save_cell(done, row, hist)
        ckpt.unlink(missing_ok=True)
        rows.append(row)
        histories[reg] = hist.history
    return rows, histories, reused

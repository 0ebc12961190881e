"""Seed 001's table protocol, shared by the MNIST error-table reproductions.

Train on 90 % of the MNIST training set (the *development* set), keep 10 % for
*validation*; select the epoch with the lowest validation error; report the test error
of that model and, in brackets, the lowest test error seen during training. The
learning rate is annealed to 0 by a cosine schedule; the test error is recorded after
every epoch by a callback.

A finished cell is saved as ``{"row": {...}, "history": [one dict per epoch]}`` in
``out_dir/cells/``, so that an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from numnet.experiments._common import Recipe

__all__ = [
    "cell_names",
    "cell_path",
    "label_panel",
    "load_cached_cell",
    "mnist_splits",
    "plot_errors",
    "save_cell",
    "say_reused",
    "summary_line",
    "table_cell",
    "train_cell",
    "wants_grid",
    "write_outputs",
]


def mnist_splits(data_dir, *, seed: int, flatten: bool, subset=None, verify: bool = True):
    """MNIST as ``(X_dev, y_dev, X_val, y_val, X_test, y_test)``, validation 10 % stratified.

    ``subset = (n_train, n_test)`` (quick mode) keeps ``n_train`` training images drawn
    at random and the first ``n_test`` test images.
    """
    from numnet.data import load_mnist, train_val_split

    X, y, Xt, yt = load_mnist(data_dir, flatten=flatten, verify=verify)
    if subset is not None:
        n_train, n_test = subset
        keep = np.random.default_rng(seed).permutation(len(X))[:n_train]
        X, y = X[keep], y[keep]
        Xt, yt = Xt[:n_test], yt[:n_test]
    Xd, yd, Xv, yv = train_val_split(X, y, 0.1, stratify=True, generator=seed)
    return Xd, yd, Xv, yv, Xt, yt


def train_cell(
    model,
    optimizer,
    data,
    *,
    epochs: int,
    seed: int,
    batch_size: int,
    checkpoint=None,
    verbose: int = 0,
    eval_batch_size: int = 1024,
):
    """Train one cell of the table and select its epoch on validation accuracy.

    Parameters
    ----------
    model, optimizer
        The network and its optimizer; the learning rate is annealed to 0 over
        ``epochs`` by a cosine schedule.
    data : tuple
        ``(X_dev, y_dev, X_val, y_val, X_test, y_test)``, as :func:`mnist_splits`.
    checkpoint : path, optional
        Passed to :func:`numnet.train.fit`: a cell in progress resumes from it.
    eval_batch_size : int
        Batch size of the test-error evaluation after every epoch.

    Returns
    -------
    row : dict
        ``test_error`` (of the selected epoch), ``best_test_error``, ``val_error`` (all
        in %), ``selected_epoch``, ``epochs``, ``seconds``, ``seconds_per_epoch`` (the
        mean over the epochs).
    history : History
        One row per epoch, with its ``test_error`` (a fraction).
    """
    import numnet.nn.functional as F
    from numnet import train
    from numnet.optim.lr_scheduler import CosineAnnealingLR

    Xd, yd, Xv, yv, Xt, yt = data

    class TestError(train.Callback):
        def on_epoch_end(self, loop, epoch, logs):
            test = train.evaluate(model, F.cross_entropy, (Xt, yt), batch_size=eval_batch_size)
            logs["test_error"] = 1 - test["accuracy"]

    schedule = train.LearningRateScheduler(CosineAnnealingLR(optimizer, epochs))
    t0 = time.perf_counter()
    history = Recipe(epochs, batch_size, seed, verbose).fit(
        model, F.cross_entropy, optimizer, (Xd, yd), validation=(Xv, yv),
        checkpoint=checkpoint, callbacks=[TestError(), schedule],
    )
    seconds = time.perf_counter() - t0
    best = history.best("val_accuracy", mode="max")
    row = {
        "test_error": 100 * best["test_error"],
        "best_test_error": 100 * min(history["test_error"]),
        "val_error": 100 * (1 - best["val_accuracy"]),
        "selected_epoch": best["epoch"],
        "epochs": len(history),
        "seconds": round(seconds, 1),
        "seconds_per_epoch": round(seconds / len(history), 2),
    }
    return row, history


def table_cell(row: dict | None, seed: tuple) -> str:
    """``"ours% [best%] (seed s% [b%])"``, or ``"—"`` for ours when the cell was not run."""
    ours = f"{row['test_error']:.2f}% [{row['best_test_error']:.2f}%]" if row else "—"
    return f"{ours} (seed {seed[0]}% [{seed[1]}%])"


def cell_names(module: ModuleType) -> dict[str, object]:
    """A table experiment's cells by their command-line names (``numnet reproduce NAME
    --cells``), each mapped to the key that the module's ``run(cells=...)`` takes.

    A regularization (``module.REGS``: name, λ, dropout p) is ``none``, ``l2`` or
    ``dropout``. A table of several architectures (``module.ARCHS``: name, activation,
    hidden widths) names its cells ``ARCH/REG``, ARCH being the activation and the
    hidden widths, e.g. ``relu-512x3/l2`` (three hidden layers of 512, L2), keyed by
    ``(architecture name, regularization name)``; a single-row table (the ConvNet's)
    names them by the regularization alone, keyed by its name.
    """
    regs = {}
    for reg, l2, dropout in module.REGS:
        regs["dropout" if dropout > 0 else "l2" if l2 > 0 else "none"] = reg
    if len(regs) != len(module.REGS):
        raise ValueError(f"{module.__name__}: two regularizations share a cell name")
    archs = getattr(module, "ARCHS", None)
    if archs is None:
        return regs
    names = {}
    for arch, activation, hidden in archs:
        widths = (
            f"{hidden[0]}x{len(hidden)}" if len(set(hidden)) == 1 else "-".join(map(str, hidden))
        )
        for short, reg in regs.items():
            names[f"{activation}-{widths}/{short}"] = (arch, reg)
    if len(names) != len(archs) * len(regs):
        raise ValueError(f"{module.__name__}: two architectures share a cell name")
    return names


def cell_path(out: Path, *names: str) -> Path:
    """``out/cells/<slug>_<slug>.json`` for a cell named by ``names``."""
    return out / "cells" / ("_".join(_slug(name) for name in names) + ".json")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def say_reused(reused: int, out: Path, verbose) -> None:
    """Tell (on stderr) that ``reused`` cells of the table were read back, not trained."""
    if reused and verbose:
        print(
            f"reused {reused} finished cell(s) from {Path(out) / 'cells'} (same recipe; a "
            "new --out, or deleting them, trains them again)",
            file=sys.stderr,
            flush=True,
        )


def load_cached_cell(path: Path, plan: dict, quick: bool, *, assumed: dict | None = None):
    """The saved ``(row, history columns)`` of a cell run in this mode with this ``plan``.

    Returns None (the cell must be run) when ``path`` does not exist, or when its row was
    run in the other mode (``quick``) or with another recipe. A row saved without a
    ``"recipe"`` is taken to have been run for its ``epochs``, the rest of the recipe
    being ``assumed``.
    """
    from numnet.train.history import History

    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    row = saved["row"]
    recipe = row.get("recipe", {"epochs": row["epochs"], **(assumed or {})})
    if row.get("quick") != quick or recipe != plan:
        return None
    return row, History(saved["history"]).history


def save_cell(path: Path, row: dict, history) -> None:
    """Write a finished cell (its row and its History's epochs) atomically."""
    from numnet._files import atomic_write_bytes

    atomic_write_bytes(path, json.dumps({"row": row, "history": history.epochs}).encode())


def summary_line(row: dict) -> str:
    """The line printed when a cell is done."""
    return (
        f"   test error {row['test_error']:.2f}% [{row['best_test_error']:.2f}%] "
        f"(seed {row['seed_test_error']}% [{row['seed_best_test_error']}%]), "
        f"{row['seconds_per_epoch']} s/epoch"
    )


def plot_errors(ax, columns: dict) -> None:
    """Train, validation and test error (%) by epoch from a History's columns."""
    epoch = columns["epoch"]
    ax.plot(epoch, [100 * (1 - a) for a in columns["accuracy"]], label="train")
    ax.plot(epoch, [100 * (1 - a) for a in columns["val_accuracy"]], label="validation")
    ax.plot(epoch, [100 * e for e in columns["test_error"]], label="test")


def wants_grid(seeds: int, workers, scheduler) -> bool:
    """Whether a table's ``run`` goes to the grid (:mod:`numnet.experiments._table_grid`):
    several seeds per cell, or Dask workers or a scheduler."""
    return seeds != 1 or workers is not None or scheduler is not None


def label_panel(ax, row: int, col: int, last_row: int) -> None:
    """Axis labels of a grid of error curves: x on the bottom row, y and the legend on the
    first column (the legend only in the top-left panel)."""
    if row == last_row:
        ax.set_xlabel("epoch")
    if col == 0:
        ax.set_ylabel("error (%)")
        if row == 0:
            ax.legend(fontsize=7)


def write_outputs(
    out: Path, rows: list[dict], markdown: str, plot_fn: Callable[[Path], None]
) -> None:
    """Write results.md (``markdown``), results.csv and results.json, and
    ``plot_fn(out / "learning_curves.png")`` unless matplotlib is missing."""
    from numnet._files import atomic_write_bytes

    atomic_write_bytes(out / "results.md", markdown.encode())
    buf = io.StringIO()
    if rows:
        fields = list(dict.fromkeys(k for row in rows for k in row))  # rows may differ
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows({k: json.dumps(v) if isinstance(v, dict) else v for k, v in row.items()}
                    for row in rows)
    atomic_write_bytes(out / "results.csv", buf.getvalue().encode())
    atomic_write_bytes(out / "results.json", json.dumps(rows, indent=1).encode())
    try:
        plot_fn(out / "learning_curves.png")
    except ImportError:
        pass

"""The MNIST error tables as grids: cells × seeds, mean ± std per cell, error bars.

``numnet reproduce mnist-mlp-table --seeds K [--workers N | --scheduler ADDRESS]`` (and
``mnist-convnet``) runs each cell of the table for seeds ``seed, …, seed + K - 1`` with
:func:`numnet.experiments.grid.run_grid`: each task trains one cell for one seed (the
seed draws the quick-mode subset, the validation split, the initial weights, the
shuffles and the dropout masks) and is saved in ``out_dir/grid/<key>.json``, so a rerun
skips finished tasks. Seed ``s``'s task computes what the one-seed run with ``--seed s``
computes.

The table gives, per cell, the mean ± sample standard deviation over the seeds of the
selected model's test error [and of the lowest test error seen], the best seed's test
error, and seed 001's value beside them; the figures draw ± one standard deviation.

The helpers below the MNIST tasks (:func:`seed_range`, :func:`tasks_by_seed`,
:func:`cached_data`, :func:`run_tasks`, :func:`cell_text`, :func:`write_results`) are
shared by the other table-shaped reproductions (``residual-depth``,
``universal-approximation``), whose ``run`` goes to their own grid the same way.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

from numnet.experiments import _protocol, grid

__all__ = [
    "cached_data",
    "cell_text",
    "convnet_task",
    "mean_std",
    "mlp_task",
    "run_convnet_grid",
    "run_mlp_grid",
    "run_tasks",
    "seed_range",
    "seeds_sentence",
    "table_note",
    "tasks_by_seed",
    "write_results",
]


@functools.lru_cache(maxsize=1)  # the tasks of one seed share their data (one set kept)
def cached_data(module_name: str, data_dir, quick: bool, seed: int):
    """``module._data(data_dir, quick, seed)`` of the experiment module ``module_name``,
    the last one kept (a worker's tasks of one seed load it once)."""
    import importlib

    return importlib.import_module(module_name)._data(data_dir, quick, seed)


def mlp_task(settings: dict, *, data_dir=None) -> dict:
    """One cell of the MLP table for one seed: ``{"row": ..., "history": [...]}``."""
    from numnet.experiments import mnist_mlp_table as m

    s = settings
    data = cached_data(m.__name__, data_dir, s["quick"], s["seed"])
    row, hist = m.run_cell(
        s["architecture"], s["activation"], tuple(s["hidden"]), s["regularization"],
        s["l2"], s["dropout"], data, epochs=s["epochs"], seed=s["seed"], lr=s["lr"],
    )
    row["quick"], row["recipe"], row["seed"] = s["quick"], {"epochs": s["epochs"],
                                                            "lr": s["lr"]}, s["seed"]
    return {"row": row, "history": hist.epochs}


def convnet_task(settings: dict, *, data_dir=None, checkpoint_dir=None) -> dict:
    """One cell of the ConvNet row for one seed; checkpoints every epoch in
    ``checkpoint_dir`` (when given) so that a killed task resumes from its last epoch."""
    from numnet.experiments import mnist_convnet as m

    s = settings
    data = cached_data(m.__name__, data_dir, s["quick"], s["seed"])
    ckpt = None
    if checkpoint_dir is not None:
        ckpt = Path(checkpoint_dir) / f"{grid.task_key(convnet_task, s)}.ckpt"
    row, hist = m.run_cell(
        s["regularization"], s["l2"], s["dropout"], data, epochs=s["epochs"],
        seed=s["seed"], quick=s["quick"], checkpoint=ckpt,
    )
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    row["quick"], row["seed"] = s["quick"], s["seed"]
    return {"row": row, "history": hist.epochs}


# -- the table ---------------------------------------------------------------------------


def mean_std(s: grid.CellSummary, spec: str = ".2f", unit: str = "") -> str:
    """``"1.62 ± 0.05%"`` (``"1.62%"`` with one seed, ``"—"`` with none); ``spec`` formats."""
    if not s.n:
        return "—"
    if s.std is None:
        return f"{s.mean:{spec}}{unit}"
    return f"{s.mean:{spec}} ± {s.std:{spec}}{unit}"


def cell_text(s: grid.CellSummary, spec: str = ".2f", unit: str = "", bracket: str = "") -> str:
    """A table cell: ``"1.62 ± 0.05% [bracket], best 1.55% (s=2)"`` (the best seed with
    two seeds or more), ``", 1 failed"`` if so; ``"— (2 failed)"`` or ``"— (not run)"``."""
    if not s.n:
        return f"— ({s.failed} failed)" if s.failed else "— (not run)"
    text = mean_std(s, spec, unit) + (f" [{bracket}]" if bracket else "")
    if s.n > 1:
        text += f", best {s.best:{spec}}{unit} (s={s.best_seed})"
    if s.failed:
        text += f", {s.failed} failed"
    return text


def seeds_sentence(seeds: list[int]) -> str:
    """``"3 seeds per cell (0, 1, 2)"``."""
    n = len(seeds)
    return f"{n} seed{'s' * (n > 1)} per cell ({', '.join(map(str, seeds))})"


def table_note(seeds: list[int], result: grid.GridResult, text: str) -> list[str]:
    """The lines under a table: ``"3 seeds per cell (0, 1, 2): <text>"``, then the
    failed tasks (left out of the means) with their errors, if any."""
    lines = ["", f"{seeds_sentence(seeds)}: {text}"]
    failed = result.failed
    if failed:
        lines += ["", f"Failed tasks ({len(failed)}), not in the means:",
                  *[f"- {t.cell}, seed {t.seed}: {t.error}" for t in failed]]
    return lines


def _cell_text(test: grid.CellSummary, best: grid.CellSummary, seed_value) -> str:
    """``"1.62 ± 0.05% [1.50 ± 0.04%], best 1.55% (seed 1.6% [1.5%])"``."""
    seed_text = f"(seed {seed_value[0]}% [{seed_value[1]}%])"
    bracket = mean_std(best, ".2f", "%") if test.n else ""
    return f"{cell_text(test, '.2f', '%', bracket)} {seed_text}"


def _markdown(layout, cols, result, test, best, seed_values, seeds, note) -> str:
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for row_label, cells in layout:
        texts = [
            _cell_text(test[c], best[c], seed_values[c]) if c in test
            else f"— (seed {seed_values[c][0]}% [{seed_values[c][1]}%])"
            for c in cells
        ]
        lines.append(f"| {row_label} | " + " | ".join(texts) + " |")
    lines += table_note(
        seeds, result, "test error of the model selected "
        "on validation, mean ± sample standard deviation over the seeds [lowest test "
        "error seen during training, likewise]; best: the seed whose selected model has "
        "the lowest test error. Seed 001's values (one run) in parentheses.",
    )
    return "\n".join(lines) + "\n" + note


def _plot_curves(path: Path, layout, result, seed_values, ylim) -> None:
    """Per cell, validation and test error by epoch: mean ± std over seeds (error bars)."""
    import numpy as np

    from numnet.viz import new_figure, save_figure

    by_cell = result.by_cell()
    n_rows, n_cols = len(layout), max(len(cells) for _, cells in layout)
    fig, axes = new_figure(n_rows, n_cols, size=(4.4 * n_cols, 3.2 * n_rows + 0.4))
    for i, (_, cells) in enumerate(layout):
        for j, cell in enumerate(cells):
            ax = axes[i, j]
            runs = [t.metrics["history"] for t in by_cell.get(cell, []) if t.ok]
            length = min((len(h) for h in runs), default=0)
            if not length:
                ax.set_axis_off()
                continue
            epoch = [e["epoch"] for e in runs[0][:length]]
            for column, label, f in (
                ("val_accuracy", "validation", lambda v: 100 * (1 - v)),
                ("test_error", "test", lambda v: 100 * v),
            ):
                values = np.array([[f(e[column]) for e in h[:length]] for h in runs])
                std = values.std(axis=0, ddof=1) if len(runs) > 1 else None
                ax.errorbar(epoch, values.mean(axis=0), yerr=std, capsize=2, label=label)
            ax.axhline(seed_values[cell][0], color="gray", ls=":", lw=1, label="seed (test)")
            ax.set_ylim(*ylim)
            ax.set_title(f"{cell}\n(n={len(runs)} seeds)", fontsize=9)
            _protocol.label_panel(ax, i, j, n_rows - 1)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_summary(path: Path, test, seed_values) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 1, size=(max(6, 1.1 * len(test)), 4.6))
    grid.plot_error_bars(
        axes[0, 0], test, reference={c: seed_values[c][0] for c in test},
        reference_label="seed 001", ylabel="test error (%)",
    )
    fig.tight_layout()
    save_figure(fig, path)


def _cell_rows(result, test, best, val, seed_values) -> list[dict]:
    """One summary row per cell (results.json's ``cells``, results.csv's rows)."""
    cells = []
    for cell, s in test.items():
        rows = [t.metrics["row"] for t in result.by_cell()[cell] if t.ok]
        first = rows[0] if rows else {}
        cells.append({
            "cell": cell,
            "architecture": first.get("architecture"),
            "regularization": first.get("regularization"),
            "seeds": sorted(s.values),
            "n_seeds": s.n,
            "failed": s.failed,
            "test_error_mean": s.mean,
            "test_error_std": s.std,
            "best_test_error_mean": best[cell].mean,
            "best_test_error_std": best[cell].std,
            "val_error_mean": val[cell].mean,
            "best_seed": s.best_seed,
            "best_seed_test_error": s.best,
            "seed_test_error": seed_values[cell][0],
            "seed_best_test_error": seed_values[cell][1],
            "seconds_per_epoch_mean": (
                sum(r["seconds_per_epoch"] for r in rows) / len(rows) if rows else None
            ),
        })
    return cells


def _write_csv(path: Path, cells: list[dict]) -> None:
    """The cell rows as CSV, lists written space-separated."""
    import csv
    import io

    from numnet._files import atomic_write_bytes

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(cells[0]) if cells else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: (" ".join(map(str, v)) if isinstance(v, list) else v)
                      for k, v in c.items()} for c in cells)
    atomic_write_bytes(path, buf.getvalue().encode())


def run_tasks(task, tasks, out: Path, *, desc: str, workers, scheduler, context,
              verbose) -> grid.GridResult:
    """Run (or read back from ``out/grid/``) the tasks of a table; report lost workers."""
    result = grid.run_grid(
        task, tasks, out / "grid", workers=workers, scheduler=scheduler, context=context,
        progress=verbose > 0, desc=desc,
    )
    if verbose:
        for event in result.worker_events:
            print(event)
    return result


def write_results(out: Path, result: grid.GridResult, seeds: list[int], *, markdown: str,
                  cells: list[dict], task_row, figures: dict) -> dict:
    """Write a table grid's outputs and return the summary that ``run`` prints.

    ``results.md`` is ``markdown``; ``results.json`` holds ``seeds``, the ``cells``' rows
    and one row per task (``task_row(metrics)`` for a finished one); ``results.csv`` the
    cells' rows; ``figures`` maps a file name to ``draw(path)`` (skipped without
    matplotlib)."""
    from numnet._files import atomic_write_bytes

    atomic_write_bytes(out / "results.md", markdown.encode())
    tasks_json = [
        {"cell": t.cell, "seed": t.seed, "key": t.key, "status": t.status,
         "error": t.error, **(task_row(t.metrics) if t.ok else {})}
        for t in result.tasks
    ]
    atomic_write_bytes(
        out / "results.json",
        json.dumps({"seeds": seeds, "cells": cells, "tasks": tasks_json}, indent=1).encode(),
    )
    _write_csv(out / "results.csv", cells)
    try:
        for name, draw in figures.items():
            draw(out / name)
    except ImportError:  # no matplotlib
        pass
    return {
        "cells": len(cells),
        "seeds": len(seeds),
        "tasks": len(result.tasks),
        "ran": result.ran,
        "skipped": result.skipped,
        "failed": len(result.failed),
        "table": str(out / "results.md"),
        "wall_seconds": round(result.wall_seconds, 1),
        "task_seconds": round(sum(t.seconds or 0 for t in result.tasks if not t.cached), 1),
    }


def _run(m, *, task, tasks, out, layout, seed_values, seeds, workers, scheduler, context,
         verbose, quick, ylim) -> dict:
    """Run the grid of table module ``m`` and write its results.md/.json/.csv and figures."""
    result = run_tasks(task, tasks, out, desc=m.NAME, workers=workers, scheduler=scheduler,
                       context=context, verbose=verbose)
    cols = [reg for reg, _, _ in m.REGS]
    note = m.QUICK_NOTE if quick else ""
    test = result.summary(lambda m: m["row"]["test_error"])
    best = result.summary(lambda m: m["row"]["best_test_error"])
    val = result.summary(lambda m: m["row"]["val_error"])
    summary = write_results(
        out, result, seeds,
        markdown=_markdown(layout, cols, result, test, best, seed_values, seeds, note),
        cells=_cell_rows(result, test, best, val, seed_values),
        task_row=lambda metrics: metrics["row"],
        figures={
            "learning_curves.png": lambda path: _plot_curves(
                path, layout, result, seed_values, ylim),
            "test_error_bars.png": lambda path: _plot_summary(path, test, seed_values),
        },
    )
    finite = [s for s in test.values() if s.n]
    summary["within_0.3_points"] = sum(
        s.mean <= seed_values[s.cell][0] + 0.3 for s in finite if not math.isnan(s.mean)
    )
    return summary


def tasks_by_seed(settings: dict, seeds: list[int]) -> list[grid.Task]:
    """The tasks of ``settings`` (cell name -> settings) × ``seeds``, seed-major: a
    seed's tasks one after another share their data set (:func:`cached_data`)."""
    return [grid.Task(name, s, {**c, "seed": s}) for s in seeds for name, c in settings.items()]


def seed_range(seed: int, seeds: int) -> list[int]:
    """``seeds`` seeds from ``seed``: ``[seed, ..., seed + seeds - 1]``."""
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    return list(range(seed, seed + seeds))


def run_mlp_grid(out_dir, *, quick=False, data_dir=None, seed=0, seeds=1, epochs=None,
                 cells=None, workers=None, scheduler=None, verbose=2) -> dict:
    """The MLP table over ``seeds`` seeds from ``seed`` (see the module's docstring)."""
    from numnet.experiments import mnist_mlp_table as m

    out = Path(out_dir)
    seed_list = seed_range(seed, seeds)
    settings = {}
    # dropout cells last: they take longest
    order = sorted(((a, r) for a in m.ARCHS for r in m.REGS), key=lambda ar: ar[1][2] > 0)
    for (arch, act, hidden), (reg, l2, p) in order:
        if cells is not None and (arch, reg) not in cells:
            continue
        if quick:
            hidden = tuple(min(h, 256) for h in hidden)
        name = f"{arch} / {reg}"
        settings[name] = {
            "experiment": m.NAME, "architecture": arch, "activation": act,
            "hidden": list(hidden), "regularization": reg, "l2": l2, "dropout": p,
            "quick": quick, **m.recipe(p, quick, epochs, act),
        }
    tasks = tasks_by_seed(settings, seed_list)
    layout = [(arch, [f"{arch} / {reg}" for reg, _, _ in m.REGS]) for arch, _, _ in m.ARCHS]
    seed_values = {
        f"{arch} / {reg}": m.SEED[(arch, reg)] for arch, _, _ in m.ARCHS for reg, _, _ in m.REGS
    }
    return _run(
        m, task=mlp_task, tasks=tasks, out=out, layout=layout, seed_values=seed_values,
        seeds=seed_list, workers=workers, scheduler=scheduler,
        context={"data_dir": None if data_dir is None else str(data_dir)},
        verbose=verbose, quick=quick, ylim=(0, 5),
    )


def run_convnet_grid(out_dir, *, quick=False, data_dir=None, seed=0, seeds=1, epochs=None,
                     cells=None, workers=None, scheduler=None, verbose=2) -> dict:
    """The ConvNet row over ``seeds`` seeds from ``seed``."""
    from numnet.experiments import mnist_convnet as m

    out = Path(out_dir)
    seed_list = seed_range(seed, seeds)
    epochs = epochs or (2 if quick else m.EPOCHS)
    settings = {}
    for reg, l2, p in m.REGS:
        if cells is not None and reg not in cells:
            continue
        name = f"{m.ARCH} / {reg}"
        settings[name] = {
            "experiment": m.NAME, "regularization": reg, "l2": l2, "dropout": p,
            "quick": quick, "epochs": epochs, "lr": m.LR,
        }
    tasks = tasks_by_seed(settings, seed_list)
    layout = [(m.ARCH, [f"{m.ARCH} / {reg}" for reg, _, _ in m.REGS])]
    seed_values = {f"{m.ARCH} / {reg}": m.SEED[reg] for reg, _, _ in m.REGS}
    context = {"data_dir": None if data_dir is None else str(data_dir)}
    if scheduler is None:  # workers share this disk: a killed task resumes from its epoch
        context["checkpoint_dir"] = str(out / "grid")
    return _run(
        m, task=convnet_task, tasks=tasks, out=out, layout=layout, seed_values=seed_values,
        seeds=seed_list, workers=workers, scheduler=scheduler, context=context,
        verbose=verbose, quick=quick, ylim=(0, 3),
    )

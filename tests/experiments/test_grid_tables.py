"""The MNIST tables as grids (numnet.experiments._table_grid) on a tiny IDX data set."""

import importlib.util
import json

import numpy as np
import pytest

from numnet.experiments import _table_grid
from numnet.experiments import mnist_convnet as convnet
from numnet.experiments import mnist_mlp_table as mlp

pytest.importorskip("matplotlib")


@pytest.fixture
def tiny_mnist(tmp_path, row_block_digits):
    """300 training and 100 test 28x28 'digits': class k lights up row block k."""
    return row_block_digits(tmp_path / "mnist", 300, 100)


TWO_CELLS = [("MLP (ReLU) 512-512-512", "No Reg."), ("MLP (ReLU) 512-512-512", "L2 (λ=1e-5)")]


def test_mlp_grid_two_seeds_table_and_resume(tiny_mnist, tmp_path):
    out = tmp_path / "table"
    summary = _table_grid.run_mlp_grid(
        out, quick=True, data_dir=tiny_mnist, seeds=2, epochs=2, cells=TWO_CELLS, verbose=0
    )
    assert summary["tasks"] == 4 and summary["ran"] == 4 and summary["failed"] == 0
    table = (out / "results.md").read_text()
    assert "2 seeds per cell (0, 1)" in table
    assert " ± " in table and "best " in table and "(seed 1.6% [1.5%])" in table
    assert "— (seed 1.9% [1.8%])" in table  # a cell not run keeps the seed's value
    saved = json.loads((out / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and len(saved["cells"]) == 2 and len(saved["tasks"]) == 4
    cell = saved["cells"][0]
    assert cell["n_seeds"] == 2 and cell["test_error_std"] is not None
    assert cell["best_seed_test_error"] <= cell["test_error_mean"]
    assert (out / "learning_curves.png").stat().st_size > 1000
    assert (out / "test_error_bars.png").stat().st_size > 1000
    # a seed's task computes what the one-seed run with that --seed computes
    single = tmp_path / "single"
    mlp.run(single, quick=True, data_dir=tiny_mnist, seed=1, epochs=2,
            cells=TWO_CELLS[:1], verbose=0)
    row = json.loads((single / "results.json").read_text())[0]
    task = next(t for t in saved["tasks"] if t["seed"] == 1 and t["regularization"] == "No Reg.")
    assert task["test_error"] == row["test_error"]
    assert task["best_test_error"] == row["best_test_error"]
    # a third seed runs only its tasks
    again = _table_grid.run_mlp_grid(
        out, quick=True, data_dir=tiny_mnist, seeds=3, epochs=2, cells=TWO_CELLS, verbose=0
    )
    assert again["ran"] == 2 and again["skipped"] == 4
    assert "3 seeds per cell (0, 1, 2)" in (out / "results.md").read_text()


def test_mlp_grid_on_two_workers_matches_serial(tiny_mnist, tmp_path):
    pytest.importorskip("distributed")
    kwargs = dict(quick=True, data_dir=tiny_mnist, seeds=2, epochs=1, verbose=0,
                  cells=TWO_CELLS[:1])
    _table_grid.run_mlp_grid(tmp_path / "serial", **kwargs)
    summary = _table_grid.run_mlp_grid(tmp_path / "dask", workers=2, **kwargs)
    assert summary["ran"] == 2 and summary["failed"] == 0
    serial = json.loads((tmp_path / "serial" / "results.json").read_text())["tasks"]
    dask = json.loads((tmp_path / "dask" / "results.json").read_text())["tasks"]
    assert len(serial) == len(dask) == 2
    for a, b in zip(serial, dask):
        assert (a["seed"], a["key"]) == (b["seed"], b["key"])
        assert a["test_error"] == b["test_error"] and a["val_error"] == b["val_error"]


def test_convnet_grid_reports_failed_tasks_in_the_table(tiny_mnist, tmp_path, monkeypatch):
    # the ConvNet checks MNIST's checksums even in quick mode: every task fails on the
    # tiny data set, the grid goes on, and the table says why
    summary = _table_grid.run_convnet_grid(
        tmp_path, quick=True, data_dir=tiny_mnist, seeds=2, epochs=1, verbose=0,
        cells=["No Reg."],
    )
    assert summary["failed"] == 2 and summary["tasks"] == 2
    table = (tmp_path / "results.md").read_text()
    assert "— (2 failed) (seed 1.1% [1.0%])" in table
    assert "Failed tasks (2)" in table and "ChecksumError" in table
    assert not list((tmp_path / "grid").glob("*.json"))  # nothing saved: a rerun retries

    # with a (fake) MNIST that passes, the rerun trains the two tasks
    import numnet.data

    def load_mnist(root=None, *, flatten=True, download=False, verify=True):
        rng = np.random.default_rng(0)

        def make(n):
            y = rng.integers(0, 10, n)
            x = rng.random((n, 1, 28, 28), dtype=np.float32) * 0.2
            for i, c in enumerate(y):
                x[i, 0, 4 + 2 * c : 6 + 2 * c, 4:24] = 1.0
            return (x.reshape(n, -1) if flatten else x), y.astype(np.int64)

        return (*make(600), *make(200))

    monkeypatch.setattr(numnet.data, "load_mnist", load_mnist)
    _table_grid.cached_data.cache_clear()
    summary = _table_grid.run_convnet_grid(
        tmp_path, quick=True, data_dir=tiny_mnist, seeds=2, epochs=1, verbose=0,
        cells=["No Reg."],
    )
    _table_grid.cached_data.cache_clear()
    assert summary["failed"] == 0 and summary["ran"] == 2
    table = (tmp_path / "results.md").read_text()
    assert convnet.ARCH in table and " ± " in table and "Failed" not in table
    assert not list((tmp_path / "grid").glob("*.ckpt"))  # removed once a task is done


# -- numnet reproduce NAME --seeds K --workers N ---------------------------------------


def test_cli_reproduce_seeds_and_workers(tiny_mnist, tmp_path, capsys):
    from numnet.cli import main

    out = tmp_path / "table"
    argv = ["reproduce", "mnist-mlp-table", "--quick", "--data-dir", str(tiny_mnist),
            "--out", str(out), "--cells", "relu-512x3/none", "--seeds", "2"]
    assert main(argv) == 0
    assert "2 seeds per cell (0, 1)" in (out / "results.md").read_text()
    assert len(list((out / "grid").glob("*.json"))) == 2
    summary = json.loads((out / "results.json").read_text())
    if importlib.util.find_spec("distributed") is not None:
        # the same grid on workers: every task already done, nothing runs
        assert main([*argv, "--workers", "2"]) == 0
        printed = capsys.readouterr().out
        assert '"ran": 0' in printed and '"skipped": 2' in printed
        assert json.loads((out / "results.json").read_text())["tasks"] == summary["tasks"]


def test_cli_reproduce_grid_options_refused(capsys):
    from numnet.cli import main

    assert main(["reproduce", "xor-features", "--seeds", "2"]) == 2
    assert "not a grid" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "mnist-convnet", "--workers", "2", "--scheduler", "tcp://x:1"])
    with pytest.raises(SystemExit):
        main(["reproduce", "mnist-convnet", "--seeds", "0"])


# -- the other table-shaped reproductions: residual-depth, universal-approximation ------


def test_residual_depth_grid_two_seeds_table_and_resume(tiny_mnist, tmp_path):
    from numnet.experiments import residual_depth as rd

    out = tmp_path / "residual"
    kwargs = dict(quick=True, data_dir=tiny_mnist, depths=(2,), epochs=1, verbose=0)
    summary = rd.run(out, seeds=2, **kwargs)  # 2 cells (plain, residual) × 2 seeds
    assert (summary["cells"], summary["tasks"], summary["ran"], summary["failed"]) == (2, 4, 4, 0)
    table = (out / "results.md").read_text()
    assert "2 seeds per cell (0, 1)" in table and " ± " in table and "best " in table
    assert "| 2 | plain |" in table and "| 2 | residual |" in table
    assert rd.SEED_CLAIM[True] in table  # seed 001's word beside our numbers
    saved = json.loads((out / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and len(saved["cells"]) == 2 and len(saved["tasks"]) == 4
    assert all(c["n_seeds"] == 2 and c["test_error_std"] is not None for c in saved["cells"])
    assert (out / "residual_depth.png").stat().st_size > 1000  # error bars
    # seed 1's task computes what the one-seed run with --seed 1 computes
    single = tmp_path / "single"
    rd.run(single, seed=1, **kwargs)
    rows = json.loads((single / "results.json").read_text())["rows"]
    for row in rows:
        task = next(t for t in saved["tasks"] if t["seed"] == 1 and t["skip"] == row["skip"])
        assert task["test_error"] == row["test_error"]
        assert task["loss_last_10_steps"] == row["loss_last_10_steps"]
    assert not (single / "grid").exists()  # the one-seed run is today's run
    again = rd.run(out, seeds=2, **kwargs)
    assert again["ran"] == 0 and again["skipped"] == 4


def test_universal_approximation_grid_two_seeds_table_and_resume(tmp_path):
    from numnet.experiments import universal_approximation as ua

    out = tmp_path / "ua"
    summary = ua.run(out, quick=True, seeds=2, widths=(2, 4), verbose=0)  # 2 widths × 2 seeds
    assert (summary["cells"], summary["tasks"], summary["ran"], summary["failed"]) == (2, 4, 4, 0)
    table = (out / "results.md").read_text()
    assert "2 seeds per cell (0, 1)" in table and "| K = 2 | K = 4 |" in table
    assert "| \\|x − 1/3\\| | sign staircase | 0.25 ± 0 |" in table  # no seed moves it
    assert "best " in table and ua.SEED_CLAIM in table
    saved = json.loads((out / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and len(saved["tasks"]) == 4
    trained = [c for c in saved["cells"] if c["method"] == "sigmoid, trained"]
    assert len(trained) == 6 and all(c["max_error_std"] > 0 for c in trained)  # seeds differ
    assert (out / "max_error_vs_width.png").stat().st_size > 1000  # error bars
    # seed 0 is today's one-seed run (the trained network starts at the steps' midpoints)
    ua.run(tmp_path / "single", quick=True, widths=(2, 4))
    single = json.loads((tmp_path / "single" / "results.json").read_text())
    task = next(t for t in saved["tasks"] if t["seed"] == 0 and t["cell"] == "K=4")
    for fname, errs in single["max_error_on_2001_points"].items():
        assert [e[1] for e in errs.values()] == list(task[fname].values())
    again = ua.run(out, quick=True, seeds=2, widths=(2, 4), verbose=0)
    assert again["ran"] == 0 and again["skipped"] == 4


def test_universal_approximation_grid_on_two_workers_matches_serial(tmp_path):
    pytest.importorskip("distributed")
    from numnet.experiments import universal_approximation as ua

    kwargs = dict(quick=True, seeds=2, widths=(2, 4), verbose=0)
    ua.run(tmp_path / "serial", **kwargs)
    summary = ua.run(tmp_path / "dask", workers=2, **kwargs)
    assert summary["ran"] == 4 and summary["failed"] == 0
    serial = json.loads((tmp_path / "serial" / "results.json").read_text())
    dask = json.loads((tmp_path / "dask" / "results.json").read_text())
    assert serial["tasks"] == dask["tasks"]  # keys and every error, bit for bit
    assert serial["cells"] == dask["cells"]


@pytest.mark.parametrize(
    "name", ["residual-depth", "universal-approximation", "overfitting-2d", "denoising-ae"]
)
def test_cli_reproduce_accepts_grid_options(name, monkeypatch, capsys):
    from numnet import cli, experiments

    calls = []
    monkeypatch.setattr(experiments.get(name), "run", lambda out, **kw: calls.append(kw) or {})
    assert name in cli.GRID_EXPERIMENTS
    assert cli.main(["reproduce", name, "--quick", "--seeds", "3", "--out", "x"]) == 0
    assert calls[0]["seeds"] == 3 and "workers" not in calls[0]


def test_overfitting_2d_grid_two_seeds_table_and_resume(tmp_path):
    from numnet.experiments import overfitting_2d as o2

    out = tmp_path / "o2"
    kwargs = dict(quick=True, epochs=15, verbose=0)
    summary = o2.run(out, seeds=2, **kwargs)  # 5 models × 2 seeds
    assert (summary["cells"], summary["tasks"], summary["ran"], summary["failed"]) == (5, 10, 10, 0)
    table = (out / "results.md").read_text()
    assert "2 seeds per cell (0, 1)" in table and " ± " in table and "best " in table
    assert o2.SEED_CLAIM in table and "| large, no reg. |" in table
    saved = json.loads((out / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and len(saved["cells"]) == 5 and len(saved["tasks"]) == 10
    assert all(c["n_seeds"] == 2 and c["test_error_percent_std"] is not None
               for c in saved["cells"])
    assert (out / "error_bars.png").stat().st_size > 1000
    o2.run(tmp_path / "single", seed=1, **kwargs)
    rows = json.loads((tmp_path / "single" / "results.json").read_text())["rows"]
    for row in rows:
        task = next(t for t in saved["tasks"] if t["seed"] == 1 and t["model"] == row["model"])
        assert (task["train_error"], task["test_error"]) == (row["train_error"], row["test_error"])
    again = o2.run(out, seeds=2, **kwargs)
    assert again["ran"] == 0 and again["skipped"] == 10


def test_denoising_ae_grid_two_seeds_table_and_resume(tmp_path):
    from numnet.experiments import denoising_ae as dae

    out = tmp_path / "dae"
    kwargs = dict(quick=True, epochs=1, verbose=0)  # synthetic digits: no MNIST read
    summary = dae.run(out, seeds=2, **kwargs)  # 3 models × 2 seeds
    assert (summary["cells"], summary["tasks"], summary["ran"], summary["failed"]) == (3, 6, 6, 0)
    table = (out / "results.md").read_text()
    assert "2 seeds per cell (0, 1)" in table and " ± " in table and "best " in table
    assert "| gaussian noise level |" in table and "| masking noise level |" in table
    assert dae.SEED_CLAIM in table
    assert (out / "error_vs_noise.png").stat().st_size > 1000  # error bars
    saved = json.loads((out / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and len(saved["tasks"]) == 6
    dae.run(tmp_path / "single", seed=1, **kwargs)
    single = json.loads((tmp_path / "single" / "results.json").read_text())["errors"]
    for label in dae.MODELS:
        task = next(t for t in saved["tasks"] if t["seed"] == 1 and t["cell"] == label)
        for kind in ("gaussian", "masking"):
            assert task["errors"][kind][label] == single[kind][label]
    again = dae.run(out, seeds=2, **kwargs)
    assert again["ran"] == 0 and again["skipped"] == 6

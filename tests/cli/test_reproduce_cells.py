"""``numnet reproduce NAME --cells ...``: one cell (or a few) of a table experiment.

No MNIST: tiny IDX files written here (the MLP table's quick mode reads any IDX data),
or, for the ConvNet row, ``numnet.data.load_mnist`` replaced by a small look-alike.
"""

import inspect
import json

import numpy as np
import pytest

import numnet.data
from numnet import experiments
from numnet.cli import TABLE_EXPERIMENTS, main, table_cells
from numnet.data import write_idx
from numnet.experiments import _protocol


@pytest.fixture
def tiny_mnist(tmp_path):
    """300 training and 100 test 28x28 'digits': class k lights up row block k."""
    rng = np.random.default_rng(0)
    root = tmp_path / "mnist"
    for prefix, n in (("train", 300), ("t10k", 100)):
        y = (np.arange(n) % 10).astype(np.uint8)
        X = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(y):
            X[i, 2 * k : 2 * k + 3, :] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", X)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", y)
    return root


def test_cell_names():
    cells = table_cells()
    assert list(cells["mnist-convnet"]) == ["none", "l2", "dropout"]
    assert cells["mnist-convnet"]["l2"] == "L2 (λ=1e-5)"
    mlp = cells["mnist-mlp-table"]
    assert len(mlp) == 9 and mlp["relu-512x3/l2"] == ("MLP (ReLU) 512-512-512", "L2 (λ=1e-5)")
    assert mlp["relu-1024x4/dropout"] == ("MLP (ReLU) 1024-1024-1024-1024", "Dropout (p=0.5)")
    assert "tanh-512x3/none" in mlp


def test_every_experiment_with_cells_is_a_table():
    """TABLE_EXPERIMENTS (imported by name, for a fast start) lists every experiment whose
    run() takes cells=, and each names its cells."""
    takes_cells = {
        name
        for name, module in experiments.registry().items()
        if "cells" in inspect.signature(module.run).parameters
    }
    assert takes_cells == set(TABLE_EXPERIMENTS)
    for name in takes_cells:
        assert _protocol.cell_names(experiments.get(name))


def test_help_lists_the_cells(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["reproduce", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--cells" in text
    for cells in table_cells().values():
        for cell in cells:
            assert cell in text


def test_one_cell_then_another_fills_the_table(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "table"
    common = ["reproduce", "mnist-mlp-table", "--quick", "--data-dir", str(tiny_mnist)]
    assert main([*common, "--cells", "relu-512x3/l2", "--out", str(out)]) == 0
    rows = json.loads((out / "results.json").read_text())
    assert [(r["architecture"], r["regularization"]) for r in rows] == [
        ("MLP (ReLU) 512-512-512", "L2 (λ=1e-5)")
    ]
    table = (out / "results.md").read_text()
    assert table.count("— (seed") == 8
    printed = capsys.readouterr().out  # the epochs, then the summary as JSON
    summary = printed[printed.rindex("\n{\n") : printed.rindex("\n}\n") + 2]
    assert json.loads(summary)["cells"] == 1

    # a second cell: the first one is kept in the table, not trained again, and it says so
    saved = (out / "cells" / "mlp-relu-512-512-512_l2-λ-1e-5.json").read_bytes()
    assert main([*common, "--cells", " tanh-512x3/none ", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out[printed.out.rindex("\n{\n") : printed.out.rindex("\n}\n") + 2])
    assert (summary["cells"], summary["trained"], summary["reused"]) == (2, 1, 1)
    assert "reused 1 finished cell(s) from" in printed.err
    rows = json.loads((out / "results.json").read_text())
    assert {(r["architecture"], r["regularization"]) for r in rows} == {
        ("MLP (ReLU) 512-512-512", "L2 (λ=1e-5)"),
        ("MLP (Tanh) 512-512-512", "No Reg."),
    }
    assert (out / "cells" / "mlp-relu-512-512-512_l2-λ-1e-5.json").read_bytes() == saved
    assert (out / "results.md").read_text().count("— (seed") == 7


def test_convnet_cells(monkeypatch, tmp_path, capsys):
    pytest.importorskip("matplotlib")

    def load_mnist(root=None, *, flatten=True, download=False, verify=True):
        rng = np.random.default_rng(0)

        def make(n):
            y = np.arange(n) % 10
            x = rng.random((n, 1, 28, 28), dtype=np.float32) * 0.2
            for i, c in enumerate(y):
                x[i, 0, 4 + 2 * c : 6 + 2 * c, 4:24] = 1.0
            return (x.reshape(n, -1) if flatten else x), y.astype(np.int64)

        return (*make(300), *make(100))

    monkeypatch.setattr(numnet.data, "load_mnist", load_mnist)
    out = tmp_path / "row"
    argv = ["reproduce", "mnist-convnet", "--quick", "--cells", "l2,dropout", "--out", str(out)]
    assert main(argv) == 0
    rows = json.loads((out / "results.json").read_text())
    assert [r["regularization"] for r in rows] == ["L2 (λ=1e-5)", "Dropout (p=0.5)"]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (
            ["mnist-mlp-table", "--cells", "relu-512x3/l2,relu-512/l2"],
            ["unknown cell 'relu-512/l2' of mnist-mlp-table", "relu-1024x4/dropout"],
        ),
        (["mnist-convnet", "--cells", "L2"], ["unknown cell 'L2'", "none, l2, dropout"]),
        (["mnist-convnet", "--cells", "l2,"], ["empty item", "none, l2, dropout"]),
        (["xor-features", "--cells", "l2"], ["xor-features has no cells", "mnist-convnet"]),
        (["--cells", "l2"], ["name the experiment"]),
    ],
)
def test_bad_cells_are_refused_before_anything_is_written(argv, needles, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", *argv, "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --cells" in err, err
    for needle in needles:
        assert needle in err
    assert not out.exists()

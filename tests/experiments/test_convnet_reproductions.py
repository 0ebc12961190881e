"""The convolution reproductions run in quick mode on a tiny fake MNIST and write outputs."""

import json

import numpy as np
import pytest

import numnet.data
from numnet import experiments

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def fake_mnist(monkeypatch):
    """A small MNIST look-alike: a class-dependent bar on noise (no files needed)."""

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


@pytest.mark.parametrize("name", ["mnist-convnet", "residual-depth", "shift-equivariance"])
def test_quick_run_writes_results_and_figures(name, tmp_path):
    module = experiments.get(name)
    assert module.NAME == name and module.DESCRIPTION
    summary = module.run(tmp_path, quick=True, seed=0, verbose=0)
    assert isinstance(summary, dict) and summary
    assert (tmp_path / "results.md").read_text()
    assert json.loads((tmp_path / "results.json").read_text())
    assert list(tmp_path.glob("*.png"))


def test_mnist_convnet_rows_protocol_and_resume(tmp_path):
    module = experiments.get("mnist-convnet")
    module.run(tmp_path, quick=True, seed=0, verbose=0, cells=["No Reg."])
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [r["regularization"] for r in rows] == ["No Reg."]
    row = rows[0]
    assert row["best_test_error"] <= row["test_error"]
    assert row["seconds_per_epoch"] > 0 and row["epochs"] == 2
    assert not list((tmp_path / "cells").glob("*.ckpt"))  # removed once the cell is done
    # a rerun reuses the finished cell and trains only the missing ones
    saved = (tmp_path / "cells" / "no-reg.json").read_text()
    summary = module.run(tmp_path, quick=True, seed=0, verbose=0)
    assert summary["cells"] == 3
    assert (tmp_path / "cells" / "no-reg.json").read_text() == saved
    assert "seed 0.9%" in (tmp_path / "results.md").read_text()


def test_shift_equivariance_numbers(tmp_path):
    summary = experiments.get("shift-equivariance").run(tmp_path, quick=True, verbose=0)
    assert summary["max_conv_error"] < 1e-6 < 0.5 < summary["min_fc_error"]
    assert (
        summary["toeplitz_deviation"]["conv1d"]
        < 1e-6
        < 0.5
        < summary["toeplitz_deviation"]["linear"]
    )

"""The numnet command end to end on a tiny IDX data set written by the test."""

import json

import numpy as np
import pytest

from numnet.cli import main
from numnet.data import write_idx


@pytest.fixture
def tiny_mnist(tmp_path):
    """300 training and 100 test 28x28 'digits': class k lights up row block k."""
    rng = np.random.default_rng(0)
    root = tmp_path / "mnist"
    for prefix, n in (("train", 300), ("t10k", 100)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        X = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(y):
            X[i, 2 * k : 2 * k + 3, :] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", X)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", y)
    return root


def test_train_evaluate_info(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--data",
            "idx",
            "--data-dir",
            str(tiny_mnist),
            "--hidden",
            "32,32",
            "--activation",
            "relu",
            "--dropout",
            "0.1",
            "--l2",
            "1e-5",
            "--lr",
            "0.05",
            "--epochs",
            "8",
            "--batch-size",
            "32",
            "--seed",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "test error" in text and "epoch 8/8" in text
    for name in (
        "model.safetensors",
        "history.csv",
        "history.json",
        "summary.json",
        "learning_curves.png",
    ):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_error"] < 0.2  # the blocks make the task easy
    from PIL import Image

    assert Image.open(out / "learning_curves.png").size[0] > 100

    assert (
        main(
            [
                "evaluate",
                str(out / "model.safetensors"),
                "--data",
                "idx",
                "--data-dir",
                str(tiny_mnist),
            ]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert res["samples"] == 100 and res["test_error"] == pytest.approx(summary["test_error"])

    assert main(["info", str(out / "model.safetensors")]) == 0
    info = capsys.readouterr().out
    assert "0.weight" in info and "(32, 784)" in info and "parameters: 26,506" in info


def test_missing_data_gives_clear_error(tmp_path, capsys):
    code = main(
        [
            "train",
            "--data",
            "mnist",
            "--data-dir",
            str(tmp_path / "nothing"),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "train-images-idx3-ubyte" in capsys.readouterr().err


def test_reproduce_list_and_quick_table(tiny_mnist, tmp_path, capsys):
    assert main(["reproduce", "--list"]) == 0
    assert "mnist-mlp-table" in capsys.readouterr().out
    out = tmp_path / "table"
    assert (
        main(
            [
                "reproduce",
                "mnist-mlp-table",
                "--quick",
                "--data-dir",
                str(tiny_mnist),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = (out / "results.md").read_text()
    assert "MLP (Tanh) 512-512-512" in table and "seed 1.9% [1.8%]" in table
    rows = json.loads((out / "results.json").read_text())
    assert len(rows) == 9 and all(0 <= r["test_error"] <= 100 for r in rows)
    assert (out / "learning_curves.png").stat().st_size > 1000


def test_demo_runs(tmp_path, capsys):
    assert main(["demo", "--epochs", "15", "--out", str(tmp_path)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert (tmp_path / "demo_spirals.png").exists()

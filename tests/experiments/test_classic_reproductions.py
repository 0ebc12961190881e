"""Each classic reproduction runs in quick mode offline and writes a valid PNG and JSON."""

import json

import numpy as np
import pytest

from numnet import experiments

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

NAMES = ["perceptron-mnist", "mnist-8-vs-rest", "lda-vs-logistic", "logistic-gd", "xor-features"]


@pytest.fixture(autouse=True)
def no_mnist(tmp_path, monkeypatch):
    """Point the data root at an empty folder: quick mode must fall back to synthetic data."""
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path / "no-data"))


def check_outputs(out_dir):
    pngs = sorted(out_dir.glob("*.png"))
    assert pngs, "no PNG written"
    for png in pngs:
        with Image.open(png) as image:
            image.verify()
        with Image.open(png) as image:
            assert image.format == "PNG" and min(image.size) > 100
    results = json.loads((out_dir / "results.json").read_text())
    assert isinstance(results, dict) and results
    return results


@pytest.mark.parametrize("name", NAMES)
def test_registered_and_quick_run_writes_outputs(name, tmp_path):
    module = experiments.get(name)
    assert module.NAME == name and module.DESCRIPTION
    summary = module.run(tmp_path / name, quick=True, seed=0)
    assert isinstance(summary, dict) and summary
    check_outputs(tmp_path / name)


def test_perceptron_mnist_quick_numbers(tmp_path):
    out = tmp_path / "p"
    summary = experiments.get("perceptron-mnist").run(out, quick=True)
    assert summary["data"] == "synthetic"
    assert summary["converged"] and summary["train_error"] == 0.0
    assert summary["updates"] <= summary["bound_max_margin"] <= summary["bound_learned"]
    log = (out / "log.txt").read_text().splitlines()
    assert len(log) == summary["epochs"]
    assert log[-1].startswith(f"epoch {summary['epochs'] - 1} nb_changes 0 train_error 0.00%")


def test_mnist_8_vs_rest_products_help_on_training_set(tmp_path):
    out = tmp_path / "e"
    summary = experiments.get("mnist-8-vs-rest").run(out, quick=True)
    assert summary["train_error_most_products"] < summary["train_error_raw"]
    lines = (out / "errors.csv").read_text().splitlines()
    assert lines[0].startswith("n_products,n_features,train_error,test_error")
    assert len(lines) == 4


def test_lda_vs_logistic_reaches_bayes_error(tmp_path):
    summary = experiments.get("lda-vs-logistic").run(tmp_path / "l", quick=True)
    bayes = summary["bayes_error"]
    for model in ("lda", "logistic"):
        assert summary[f"{model}_error_n10000"] == pytest.approx(bayes, abs=2e-3)
        assert summary[f"{model}_error_n10"] >= bayes
    assert (tmp_path / "l" / "errors.md").read_text().startswith("| n |")


def test_logistic_gd_loss_decreases(tmp_path):
    out = tmp_path / "g"
    summary = experiments.get("logistic-gd").run(out, quick=True)
    assert summary["final_loss"] < summary["initial_loss"]
    curve = np.loadtxt(out / "loss_curve.csv", delimiter=",", skiprows=1)
    assert curve.shape == (201, 2)
    assert summary["train_error"] < 0.2


def test_xor_features_outcomes(tmp_path):
    summary = experiments.get("xor-features").run(tmp_path / "x", quick=True)
    assert not summary["perceptron_raw_converged"]
    assert summary["perceptron_raw_error"] >= 0.25  # no line separates XOR
    assert summary["perceptron_xor_map_converged"]
    assert summary["perceptron_xor_map_error"] == 0.0
    assert summary["tlu_network_error"] == 0.0
    assert summary["mlp_error"] == 0.0

"""The seed reproductions run in quick mode, offline, and write valid PNGs and numbers."""

import json

import numpy as np
import pytest

import numnet.data
import numnet.data.datasets
from numnet import experiments

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

NAMES = [
    "linear-ae-pca",
    "mnist-autoencoder",
    "denoising-ae",
    "deep-linear-dynamics",
    "vanishing-gradients",
    "universal-approximation",
    "gradient-descent",
    "overfitting-2d",
    "backward-cost",
]


@pytest.fixture(autouse=True)
def no_mnist(tmp_path, monkeypatch):
    """Quick mode must not read MNIST: an empty data root, and loading it is an error."""
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path / "no-data"))

    def refuse(*args, **kwargs):
        raise AssertionError("quick mode without data_dir must not load MNIST")

    monkeypatch.setattr(numnet.data, "load_mnist", refuse)
    monkeypatch.setattr(numnet.data.datasets, "load_mnist", refuse)


def check_outputs(out_dir, expected_pngs):
    for name in expected_pngs:
        png = out_dir / name
        assert png.exists(), f"{name} not written"
        with Image.open(png) as image:
            image.verify()
        with Image.open(png) as image:
            assert image.format == "PNG" and min(image.size) > 100
    results = json.loads((out_dir / "results.json").read_text())
    assert isinstance(results, dict) and results
    return results


def run(name, tmp_path):
    module = experiments.get(name)
    assert module.NAME == name and module.DESCRIPTION
    out = tmp_path / name
    summary = module.run(out, quick=True, seed=0)
    assert isinstance(summary, dict) and summary
    json.dumps(summary, default=str)  # the CLI prints it
    return out, summary


def test_all_registered():
    assert set(NAMES) <= set(experiments.registry())


def test_linear_ae_pca(tmp_path):
    out, summary = run("linear-ae-pca", tmp_path)
    results = check_outputs(out, ["linear_ae_pca.png", "reconstructions.png"])
    assert results["data"] == "synthetic digits"
    for row in results["rows"]:
        assert row["ae_train_loss"] >= row["svd_train_loss"] * (1 - 1e-6)  # Eckart–Young
        assert row["excess_percent"] < 5
        assert 0 <= row["largest_angle_deg"] <= 90


def test_mnist_autoencoder(tmp_path):
    out, summary = run("mnist-autoencoder", tmp_path)
    results = check_outputs(
        out,
        [
            "reconstructions_full.png",
            "reconstructions_sub_sampled.png",
            "encoder_filters.png",
            "learning_curves.png",
        ],
    )
    assert [r["training_set"] for r in results["rows"]] == ["full", "sub-sampled"]
    assert all(r["train_loss"] > 0 and r["test_loss"] > 0 for r in results["rows"])


def test_denoising_ae(tmp_path):
    out, summary = run("denoising-ae", tmp_path)
    results = check_outputs(out, ["error_vs_noise.png", "denoising_examples.png"])
    g = results["errors"]["gaussian"]
    assert g["levels"][0] == 0.0 and g["no denoising (noisy input)"][0] == 0.0
    assert len(g["plain AE"]) == len(g["levels"])
    assert len(summary) == 9  # data + 4 errors at each training noise level


def test_deep_linear_dynamics(tmp_path):
    out, summary = run("deep-linear-dynamics", tmp_path)
    results = check_outputs(out, ["deep_linear_dynamics.png"])
    assert summary["closed_form_vs_autodiff"] < 1e-12
    assert summary["stages_in_order"]
    for mode in results["modes"]:
        assert mode["final_strength"] == pytest.approx(mode["singular_value"], rel=0.02)


def test_vanishing_gradients(tmp_path):
    out, summary = run("vanishing-gradients", tmp_path)
    results = check_outputs(
        out,
        [
            "chain_gradients.png",
            "gradient_histograms_init.png",
            "gradient_histograms_trained.png",
            "gradient_norm_per_layer.png",
        ],
    )
    assert summary["slope2_depth20"] == 2.0**20  # seed 000: ≈ 10⁶
    assert summary["slope05_depth20"] == 0.5**20  # ≈ 10⁻⁶
    assert summary["sigmoid_chain_depth20"] <= 4.0**-20
    rows = {r["network"]: r for r in results["networks"]}
    assert rows["sigmoid, small"]["first_over_last_init"] < 0.01  # vanishes
    assert rows["relu, he"]["first_over_last_init"] > 0.3  # preserved
    # the callback's cost is a benchmark (benchmarks/diagnostics_overhead.py), not a result
    assert "diagnostics_overhead" not in results


def test_universal_approximation(tmp_path):
    out, summary = run("universal-approximation", tmp_path)
    results = check_outputs(out, ["fits.png", "max_error_vs_width.png"])
    kink = results["max_error_on_2001_points"]["|x − 1/3|"]
    widths = results["widths"]
    # the sign staircase's error is at most the variation of f over half a step
    for K, err in zip(widths, kink["sign staircase"]):
        assert err <= 1 / (2 * K) + 1e-9
    assert kink["sigmoid, trained"][-1] < kink["sigmoid, trained"][0]


def test_gradient_descent(tmp_path):
    out, summary = run("gradient-descent", tmp_path)
    check_outputs(out, ["gd_examples_1d.png", "gd_step_size_2d.png", "sgd_vs_gd.png"])
    assert summary["outcomes"] == ["local minimum", "global minimum", "diverged"]
    assert summary["bowl_converges"] == [True, True, False]  # γ < 2/λ_max = 0.2


def test_overfitting_2d(tmp_path):
    out, summary = run("overfitting-2d", tmp_path)
    results = check_outputs(out, ["decision_boundaries.png", "learning_curves.png"])
    assert len(results["rows"]) == 5
    early = results["rows"][-1]
    assert early["best_epoch"] is not None and early["epochs_run"] >= early["best_epoch"]


def test_backward_cost(tmp_path):
    out, summary = run("backward-cost", tmp_path)
    results = check_outputs(out, ["backward_forward_ratio.png"])
    assert (out / "results.md").read_text().startswith("| layer |")
    assert all(r["forward_ms"] > 0 and r["backward_ms"] > 0 for r in results["rows"])
    assert np.isfinite([r["ratio"] for r in results["rows"]]).all()

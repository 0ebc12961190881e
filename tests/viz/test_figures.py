"""numnet.viz additions: image grids, function fits, trajectories, gradient histograms."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

import numnet.nn.functional as F  # noqa: E402
from numnet import models, train, viz  # noqa: E402
from tests._fitting import quiet_fit  # noqa: E402


def check_png(path):
    assert path.exists()
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 50


def test_tile_layout_and_errors():
    imgs = np.arange(5 * 4).reshape(5, 4).astype(float)  # five 2×2 images
    t = viz.tile(imgs, ncols=3, pad=1)
    assert t.shape == (2 * 3 - 1, 3 * 3 - 1)
    assert np.array_equal(t[:2, :2], [[0, 1], [2, 3]])
    assert np.isnan(t[3:, 6:]).all()  # the empty sixth cell
    assert viz.tile(np.zeros((2, 1, 3, 3)), ncols=2).shape == (3, 7)
    with pytest.raises(ValueError, match="square"):
        viz.tile(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="no images"):
        viz.tile(np.zeros((0, 4)))


def test_image_plots(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((20, 64))
    check_png(viz.plot_image_grid(X, tmp_path / "grid.png", ncols=5, title="grid"))
    check_png(
        viz.plot_reconstructions(
            {"Train Set": (X[:10], X[:10] * 0.5), "Test Set": (X[10:], X[10:] ** 2)},
            tmp_path / "rec.png",
            ncols=5,
        )
    )
    check_png(
        viz.plot_reconstructions(
            {"noise": (X[:5], X[:5], X[:5])},
            tmp_path / "r3.png",
            ncols=5,
            labels=("clean", "noisy", "denoised"),
        )
    )
    check_png(viz.plot_filters(rng.standard_normal((12, 64)), tmp_path / "filters.png"))
    with pytest.raises(ValueError, match="labels"):
        viz.plot_reconstructions({"a": (X, X, X)}, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="2-D"):
        viz.plot_filters(np.zeros(4), tmp_path / "bad.png")


def test_function_and_trajectory_plots(tmp_path):
    x = np.linspace(0, 1, 50)
    panel = {
        "x": x,
        "target": np.sin(x),
        "fits": {"a": np.sin(x) + 0.1},
        "title": "t",
        "points": (x[::5], np.sin(x[::5])),
    }
    check_png(viz.plot_function_fits([panel, panel, panel], tmp_path / "fits.png", ncols=2))
    check_png(
        viz.plot_curves(
            [1, 2, 4],
            {"err": [1, 0.5, 0.25]},
            tmp_path / "c.png",
            logx=True,
            logy=True,
            reference={"1/K": [1, 0.5, 0.25]},
        )
    )
    check_png(
        viz.plot_trajectories_1d(
            lambda t: t**2, (-2, 2), {"gd": [1.5, 0.5, 0.1]}, tmp_path / "t1.png"
        )
    )
    path = np.array([[1.0, 1.0], [0.5, -0.5], [0.1, 0.1]])
    check_png(
        viz.plot_trajectories_2d(
            lambda a, b: a**2 + 3 * b**2, (-2, 2), (-2, 2), {"gd": path}, tmp_path / "t2.png"
        )
    )
    with pytest.raises(ValueError):
        viz.plot_function_fits([], tmp_path / "none.png")


def test_gradient_plots(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = models.mlp(3, (8, 8), 2, activation="sigmoid", generator=0)
    diag = train.GradientDiagnostics(every=2, probe=(X[:16], y[:16]), loss_fn=F.cross_entropy)
    quiet_fit(model, (X, y), lr=0.1, epochs=2, batch_size=16, generator=0, callbacks=[diag])
    check_png(viz.plot_gradient_histograms(diag, tmp_path / "h.png"))
    check_png(
        viz.plot_gradient_histograms(
            diag.records, tmp_path / "hw.png", kind="grad", steps=[2, 4], logy=True
        )
    )
    check_png(viz.plot_gradient_norms(diag, tmp_path / "n.png", kinds=("grad", "weight")))
    plain = train.GradientDiagnostics(every=2)
    with pytest.raises(ValueError, match="probe"):
        viz.plot_gradient_histograms(plain, tmp_path / "x.png")
    with pytest.raises(ValueError, match="steps"):
        viz.plot_gradient_histograms(diag, tmp_path / "x.png", steps=[999])


def test_figures_never_touch_pyplot_or_the_backend(tmp_path):
    """Building and saving a figure leaves matplotlib's backend and pyplot alone."""
    import subprocess
    import sys

    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "from numnet.viz import new_figure, save_figure\n"
        "fig, axes = new_figure(1, 2)\n"
        "axes[0, 0].plot([0, 1], [1, 0])\n"
        f"save_figure(fig, {str(tmp_path / 'f.png')!r})\n"
        "import sys\n"
        "assert matplotlib.get_backend().lower() == 'svg', matplotlib.get_backend()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

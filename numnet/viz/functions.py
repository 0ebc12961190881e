"""Line plots for the small demonstrations: function fits, curves, optimisation paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from numnet.viz.figure import new_figure, save_figure

__all__ = [
    "draw_function_fit",
    "draw_trajectories_1d",
    "draw_trajectories_2d",
    "plot_curves",
    "plot_function_fits",
    "plot_trajectories_1d",
    "plot_trajectories_2d",
]


def draw_function_fit(ax, x, target, fits: Mapping[str, np.ndarray], *, title=None, points=None):
    """The target function (thick grey) and fitted curves on ``ax``.

    Parameters
    ----------
    x : (n,) abscissae
    target : (n,) values of the function being approximated
    fits : ``label -> (n,) values``
    points : optional ``(x_train, y_train)`` drawn as dots
    """
    x = np.ravel(x)
    ax.plot(x, np.ravel(target), color="0.6", lw=4, alpha=0.6, label="target")
    for label, values in fits.items():
        ax.plot(x, np.ravel(values), lw=1.3, label=label)
    if points is not None:
        ax.plot(np.ravel(points[0]), np.ravel(points[1]), "k.", ms=3, label="training points")
    ax.set(xlabel="$x$")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return ax


def plot_function_fits(
    panels: Sequence[Mapping], path, *, ncols: int = 3, title: str | None = None
) -> Path:
    """One panel per dict ``{"x", "target", "fits", "title"[, "points"]}``; saves a PNG."""
    if not panels:
        raise ValueError("no panels to plot")
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = new_figure(nrows, ncols, size=(4.6 * ncols, 3.4 * nrows))
    for k, ax in enumerate(axes.ravel()):
        if k >= len(panels):
            ax.set_axis_off()
            continue
        p = panels[k]
        draw_function_fit(
            ax, p["x"], p["target"], p["fits"], title=p.get("title"), points=p.get("points")
        )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_curves(
    x,
    curves: Mapping[str, np.ndarray],
    path,
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
    marker: str = "o",
    reference: Mapping | None = None,
) -> Path:
    """Several ``y(x)`` curves on one axis (e.g. error vs width, error vs noise level).

    ``reference`` maps labels to curves drawn dashed (theory, baselines).
    """
    fig, axes = new_figure(1, 1, size=(5.5, 4))
    ax = axes[0, 0]
    x = np.asarray(x)
    for label, y in curves.items():
        ax.plot(x, np.asarray(y, dtype=float), marker=marker, ms=4, label=label)
    for label, y in (reference or {}).items():
        ax.plot(x, np.asarray(y, dtype=float), "--", color="0.4", label=label)
    ax.set(
        xlabel=xlabel,
        ylabel=ylabel,
        xscale="log" if logx else "linear",
        yscale="log" if logy else "linear",
    )
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def draw_trajectories_1d(
    ax,
    f: Callable,
    xlim: tuple[float, float],
    trajectories: Mapping[str, np.ndarray],
    *,
    title=None,
    ylim=None,
):
    """``f`` on ``xlim`` and, for each label, the iterates ``x_t`` drawn on the curve."""
    grid = np.linspace(*xlim, 400)
    ax.plot(grid, f(grid), color="0.3", lw=1.5)
    for label, xs in trajectories.items():
        xs = np.asarray(xs, dtype=float)
        inside = (xs >= xlim[0]) & (xs <= xlim[1])
        line = ax.plot(xs[inside], f(xs[inside]), "o-", ms=3, lw=0.8, alpha=0.8, label=label)[0]
        if inside.any():
            ax.plot(xs[inside][0], f(xs[inside][:1]), "s", color=line.get_color(), ms=6)
    ax.set(xlabel="$\\theta$", ylabel="$\\mathcal{L}(\\theta)$", xlim=xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return ax


def plot_trajectories_1d(
    f: Callable,
    xlim,
    trajectories: Mapping[str, np.ndarray],
    path,
    *,
    title: str | None = None,
    ylim=None,
) -> Path:
    """Save :func:`draw_trajectories_1d` as a PNG."""
    fig, axes = new_figure(1, 1, size=(5.5, 4))
    draw_trajectories_1d(axes[0, 0], f, xlim, trajectories, title=title, ylim=ylim)
    return save_figure(fig, path)


def draw_trajectories_2d(
    ax,
    f: Callable,
    xlim,
    ylim,
    trajectories: Mapping[str, np.ndarray],
    *,
    title=None,
    levels: int = 30,
    log_levels: bool = True,
):
    """Contours of ``f(x, y)`` and the paths ``(T, 2)`` of iterates, clipped to the view."""
    xs, ys = np.linspace(*xlim, 200), np.linspace(*ylim, 200)
    xx, yy = np.meshgrid(xs, ys)
    zz = f(xx, yy)
    if log_levels:
        z = zz - zz.min()
        lv = np.unique(np.geomspace(max(z[z > 0].min(), 1e-6 * z.max()), z.max(), levels))
        ax.contour(xx, yy, z, levels=lv, cmap="viridis", linewidths=0.6)
    else:
        ax.contour(xx, yy, zz, levels=levels, cmap="viridis", linewidths=0.6)
    for label, path in trajectories.items():
        p = np.asarray(path, dtype=float)
        ax.plot(p[:, 0], p[:, 1], ".-", ms=2.5, lw=0.8, label=label)
        ax.plot(p[0, 0], p[0, 1], "ks", ms=4)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$\\theta_1$", ylabel="$\\theta_2$")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return ax


def plot_trajectories_2d(
    f: Callable,
    xlim,
    ylim,
    trajectories: Mapping[str, np.ndarray],
    path,
    *,
    title: str | None = None,
) -> Path:
    """Save :func:`draw_trajectories_2d` as a PNG."""
    fig, axes = new_figure(1, 1, size=(5.5, 4.5))
    draw_trajectories_2d(axes[0, 0], f, xlim, ylim, trajectories, title=title)
    return save_figure(fig, path)

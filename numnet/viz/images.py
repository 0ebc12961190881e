"""Image grids: samples, reconstructions (seed 001's autoencoder figure) and filters."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from numnet.viz.figure import new_figure, save_figure

__all__ = ["draw_image_grid", "plot_filters", "plot_image_grid", "plot_reconstructions", "tile"]


def _as_images(images, side: int | None) -> np.ndarray:
    """``(N, H, W)`` from ``(N, H, W)``, ``(N, 1, H, W)`` or flat ``(N, H·W)`` square images."""
    a = np.asarray(images.data if hasattr(images, "requires_grad") else images, dtype=np.float64)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2:
        d = a.shape[1]
        side = side or int(round(math.sqrt(d)))
        if side * side != d:
            raise ValueError(f"cannot reshape {d} features into square images; pass side=")
        a = a.reshape(len(a), side, side)
    if a.ndim != 3:
        raise ValueError(f"images must be (N, H, W), (N, 1, H, W) or (N, H*W), got {a.shape}")
    return a


def tile(
    images, ncols: int = 10, *, side: int | None = None, pad: int = 1, fill: float = np.nan
) -> np.ndarray:
    """Arrange ``N`` images on a grid of ``ncols`` columns, separated by ``pad`` pixels.

    Returns a 2-D array (rows·(H+pad)−pad, ncols·(W+pad)−pad); empty cells and padding
    hold ``fill`` (NaN is drawn transparent by ``imshow``).
    """
    a = _as_images(images, side)
    if len(a) == 0:
        raise ValueError("no images to tile")
    if ncols < 1 or pad < 0:
        raise ValueError(f"need ncols >= 1 and pad >= 0, got {ncols} and {pad}")
    n, h, w = a.shape
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill)
    for i, img in enumerate(a):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return out


def draw_image_grid(
    ax,
    images,
    *,
    ncols: int = 10,
    side: int | None = None,
    title=None,
    cmap: str = "gray",
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
):
    """Draw :func:`tile` of ``images`` on a matplotlib ``ax`` (no ticks)."""
    ax.imshow(
        tile(images, ncols, side=side), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_image_grid(
    images,
    path,
    *,
    ncols: int = 10,
    side: int | None = None,
    title: str | None = None,
    cmap: str = "gray",
    vmin=0.0,
    vmax=1.0,
) -> Path:
    """Save a grid of images (flat ``(N, H·W)`` or ``(N, H, W)``) as a PNG."""
    a = _as_images(images, side)
    return _save_grid(a, path, ncols, title, 0.55, cmap=cmap, vmin=vmin, vmax=vmax)


def _save_grid(a: np.ndarray, path, ncols: int, title, cell: float, **imshow) -> Path:
    """Save images ``a`` (N, H, W) as one grid figure, ``cell`` inches per image."""
    nrows = math.ceil(len(a) / min(ncols, len(a)))
    fig, axes = new_figure(1, 1, size=(cell * min(ncols, len(a)) + 0.4, cell * nrows + 0.6))
    draw_image_grid(axes[0, 0], a, ncols=ncols, title=title, **imshow)
    return save_figure(fig, path)


def plot_reconstructions(
    sets: Mapping[str, tuple],
    path,
    *,
    ncols: int = 10,
    side: int | None = None,
    title: str | None = None,
    labels: tuple[str, str] = ("input", "reconstruction"),
) -> Path:
    """Seed 001's autoencoder figure: for each set, inputs (left) beside reconstructions (right).

    Parameters
    ----------
    sets : mapping ``name -> (inputs, reconstructions)`` or ``(inputs, noisy, recon)``
        E.g. ``{"Train Set": (X[:30], R[:30]), "Test Set": (Xt[:30], Rt[:30])}``; the
        image at position ``i`` of each array is shown at the same grid position.
    labels : column titles (one per array in each tuple)
    """
    if not sets:
        raise ValueError("no image sets to plot")
    width = max(len(v) for v in sets.values())
    if len(labels) < width:
        raise ValueError(f"need {width} column labels, got {labels}")
    first = _as_images(next(iter(sets.values()))[0], side)
    nrows_img = math.ceil(len(first) / min(ncols, len(first)))
    fig, axes = new_figure(
        len(sets), width, size=(width * (0.5 * ncols + 0.3), len(sets) * (0.5 * nrows_img + 0.7))
    )
    for i, (name, arrays) in enumerate(sets.items()):
        for j, arr in enumerate(arrays):
            draw_image_grid(axes[i, j], arr, ncols=ncols, side=side, title=f"{name}: {labels[j]}")
        for j in range(len(arrays), width):
            axes[i, j].set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_filters(
    weights,
    path,
    *,
    ncols: int = 10,
    side: int | None = None,
    title: str | None = None,
    max_filters: int = 100,
) -> Path:
    """Show the rows of ``weights`` (m, d) as images (e.g. encoder filters, decoder columns).

    Each filter is scaled to its own symmetric range ``±max|w|`` (red positive, blue
    negative), since only its pattern matters.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"weights must be 2-D (m, d), got shape {w.shape}")
    w = w[:max_filters]
    scale = np.abs(w).max(axis=1, keepdims=True)
    w = w / np.where(scale > 0, scale, 1.0)
    return _save_grid(_as_images(w, side), path, ncols, title, 0.6, cmap="RdBu_r", vmin=-1, vmax=1)

"""Creating and atomically saving matplotlib figures."""

from __future__ import annotations

import os
from pathlib import Path

from numnet._files import atomic_writer


def require_matplotlib():
    """Return ``matplotlib.pyplot`` with the non-interactive Agg backend.

    Raises
    ------
    ImportError
        With the install command, when matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plots need matplotlib: pip install 'numnet[plot]' (or pip install matplotlib)"
        ) from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None):
    """``plt.subplots`` on the Agg backend with a 2-D array of axes; returns ``(fig, axes)``."""
    plt = require_matplotlib()
    if size is None:
        size = (4.5 * ncols, 3.5 * nrows)
    return plt.subplots(nrows, ncols, figsize=size, squeeze=False)


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically (temporary file, then rename) and close it."""
    plt = require_matplotlib()
    path = Path(path)
    try:
        with atomic_writer(path) as fh:
            fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
